package dev.ringlock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ringlock.locks.WaitQueue;
import java.util.concurrent.CompletableFuture;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.LL_Result;

/*
 * Overview
 *
 * A wake(1) is never lost to a cancelled waiter. Two waiters, first and second, are queued before
 * the actors start; one actor cancels first while the other calls wake(1), which chooses the
 * longest waiter still on the list:
 *
 *   - the cancel withdraws first before the wake: the wake chooses second: WOKEN;
 *   - the wake chooses first, and first's future completes (woken) before the cancel: cancel()
 *     returns false, first took the wake, and second is owed nothing: it must still wait;
 *   - the wake chooses first, and the cancel wins the future before the wake is delivered: first
 *     declines a WOKEN_ONE wake, which is passed on to second: WOKEN.
 *
 * So if first was cancelled, second must complete; if it sleeps on, the wake was lost with the
 * cancelled waiter. And if first took the wake, second must not complete (one wake, one waiter).
 */
@JCStressTest
@Outcome(
    id = "CANCELLED, WOKEN",
    expect = ACCEPTABLE,
    desc = "first was cancelled; the wake reached second (directly, or passed on)")
@Outcome(
    id = "WOKEN, WAITING",
    expect = ACCEPTABLE,
    desc = "first took the wake before the cancel; second waits on")
@Outcome(
    id = "CANCELLED, ASLEEP",
    expect = FORBIDDEN,
    desc = "Lost wake: first was cancelled and the wake meant for one waiter reached nobody")
@Outcome(expect = FORBIDDEN, desc = "Anything else: one wake ended two waits, a failure...")
@State
public class WaitQueueCancelRacingWakeOne {
  private final WaitQueue queue = SharedQueues.take();
  private final CompletableFuture<Void> first = queue.await(1);
  private final CompletableFuture<Void> second = queue.await(2);
  private int woken; // written by the waker, read by the arbiter

  @Actor
  public void canceller() {
    first.cancel(false);
  }

  @Actor
  public void waker() {
    woken = queue.wake(1);
  }

  @Arbiter
  public void arbiter(LL_Result r) {
    if (woken != 1) {
      r.r1 = "WAKE_CHOSE_" + woken;
      r.r2 = "-";
      return;
    }
    if (first.isCancelled()) {
      r.r1 = WaitFate.CANCELLED;
      r.r2 = WaitFate.awaitWake(second);
      if (r.r2.equals(WaitFate.WOKEN)) {
        SharedQueues.giveBack(queue);
      }
      return;
    }
    r.r1 = WaitFate.awaitWake(first); // cancel() lost: first completed, so it returns at once
    try {
      Thread.sleep(0, 200_000); // a wrongly passed-on wake would arrive about now
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (second.isDone()) {
      r.r2 = "COMPLETED_UNOWED(" + WaitFate.awaitWake(second) + ")";
      return;
    }
    r.r2 = SharedQueues.wakeTheOneLeft(queue, second);
  }
}
