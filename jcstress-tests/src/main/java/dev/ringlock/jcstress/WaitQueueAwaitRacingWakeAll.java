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
 * No lost wake-up: an await races a wakeAll on an empty queue. The list lock orders them:
 *
 *   - the await links its slot first: wakeAll chooses it (returns 1), stores WOKEN_ALL in its
 *     word and sends one FUTEX_WAKE. The waiter's kernel wait, armed after the await linked the
 *     slot, is either queued when the wake comes (woken) or compares after the store (EAGAIN);
 *     both end in the completion reading WOKEN_ALL, and the future completes: WOKEN;
 *   - wakeAll runs first: it finds nobody (returns 0), and the waiter, linked afterwards, must
 *     still be waiting and counted by waiting(). The arbiter then wakes it, which must end it.
 *
 * A lost wake is observable: wakeAll said it woke the waiter (1) but the future never completes
 * (ASLEEP at the deadline). So is a wake that went astray: a waiter that completed although
 * wakeAll found nobody, or one that is neither completed nor counted.
 */
@JCStressTest
@Outcome(id = "1, WOKEN", expect = ACCEPTABLE, desc = "The await came first and was woken")
@Outcome(
    id = "0, WAITING",
    expect = ACCEPTABLE,
    desc = "wakeAll came first and found nobody; the waiter waits on, counted")
@Outcome(
    id = "1, ASLEEP",
    expect = FORBIDDEN,
    desc = "Lost wake-up: wakeAll chose the waiter, which never completed")
@Outcome(expect = FORBIDDEN, desc = "Anything else: a stray completion, an uncounted waiter...")
@State
public class WaitQueueAwaitRacingWakeAll {
  private final WaitQueue queue = SharedQueues.take();
  private CompletableFuture<Void> waiter; // written by the awaiter, read by the arbiter
  private int woken; // written by the waker, read by the arbiter

  @Actor
  public void awaiter() {
    waiter = queue.await(1);
  }

  @Actor
  public void waker() {
    woken = queue.wakeAll();
  }

  @Arbiter
  public void arbiter(LL_Result r) {
    r.r1 = woken;
    if (woken == 1) {
      r.r2 = WaitFate.awaitWake(waiter);
      if (r.r2.equals(WaitFate.WOKEN)) {
        SharedQueues.giveBack(queue);
      }
      return;
    }
    if (waiter.isDone()) {
      r.r2 = "COMPLETED_UNCHOSEN(" + WaitFate.awaitWake(waiter) + ")";
      return;
    }
    int waiting = queue.waiting();
    if (waiting != 1) {
      r.r2 = "COUNTED_" + waiting;
      return;
    }
    r.r2 = SharedQueues.wakeTheOneLeft(queue, waiter);
  }
}
