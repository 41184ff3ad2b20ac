package dev.ringlock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ringlock.locks.WaitQueue;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.LL_Result;

/*
 * Overview
 *
 * A wake(1) is never lost to a waiter that timed out, including when the ring's completion thread
 * finds the list lock busy as the timeout fires. The completion thread never waits for the list
 * lock: it fails the future with TimeoutException at once and defers the slot's clean-up until the
 * lock is free (WaitQueueWaiters, Timeouts). Meanwhile a waker may choose that slot, still
 * WAITING and linked: the deferred clean-up then finds WOKEN_ONE on a future already failed, and
 * must pass the wake on.
 *
 * first waits with a timeout of 100 us, second without; both are queued before the actors start.
 * One actor calls wake(1); the other calls wakeUpTo(0), which chooses nobody (both keys are above
 * 0) but holds the list lock, so that the timeout's completion often finds it busy. Outcomes:
 *
 *   - first timed out (whether before the wake chose, or after it chose first's slot and the wake
 *     was passed on): second must be woken;
 *   - first was woken before its timeout was handled: second is owed nothing and waits on.
 *
 * A first that timed out while second sleeps on is a lost wake; both woken is one wake ending two
 * waits.
 */
@JCStressTest
@Outcome(
    id = "TIMED_OUT, WOKEN",
    expect = ACCEPTABLE,
    desc = "first timed out; the wake reached second (directly, or passed on)")
@Outcome(
    id = "WOKEN, WAITING",
    expect = ACCEPTABLE,
    desc = "the wake chose first before its timeout was handled; second waits on")
@Outcome(
    id = "TIMED_OUT, ASLEEP",
    expect = FORBIDDEN,
    desc = "Lost wake: first timed out and the wake meant for one waiter reached nobody")
@Outcome(expect = FORBIDDEN, desc = "Anything else: one wake ended two waits, a failure...")
@State
public class TimedOutWaiterRacingWakeOne {
  static final String TIMED_OUT = "TIMED_OUT";

  private final WaitQueue queue = SharedQueues.take();
  private final CompletableFuture<Void> first = queue.await(1, Duration.ofNanos(100_000));
  private final CompletableFuture<Void> second = queue.await(2);
  private int woken; // written by the waker, read by the arbiter

  @Actor
  public void waker() {
    woken = queue.wake(1);
  }

  @Actor
  public void lockHolder() {
    queue.wakeUpTo(0); // takes the list lock, chooses nobody
  }

  @Arbiter
  public void arbiter(LL_Result r) {
    if (woken != 1) {
      r.r1 = "WAKE_CHOSE_" + woken;
      r.r2 = "-";
      return;
    }
    r.r1 = fateOf(first);
    if (r.r1.equals(TIMED_OUT)) {
      r.r2 = WaitFate.awaitWake(second);
      if (r.r2.equals(WaitFate.WOKEN)) {
        SharedQueues.giveBack(queue);
      }
      return;
    }
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

  private static String fateOf(CompletableFuture<Void> timed) {
    try {
      timed.get(20, TimeUnit.SECONDS); // a 100 us timeout: it ends long before this
      return WaitFate.WOKEN;
    } catch (ExecutionException e) {
      return e.getCause() instanceof TimeoutException ? TIMED_OUT : "FAILED(" + e.getCause() + ")";
    } catch (TimeoutException e) {
      return WaitFate.ASLEEP;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "INTERRUPTED";
    }
  }
}
