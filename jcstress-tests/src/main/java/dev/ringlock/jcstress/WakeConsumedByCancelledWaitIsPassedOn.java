package dev.ringlock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ringlock.core.AbandonedWakeHandler;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.WaitOutcome;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.LLL_Result;

/*
 * Overview
 *
 * Two waits on one word that holds 0: "abandoned" (submitted first, so first in the kernel's
 * FIFO queue) and "live". One actor cancels the abandoned wait's future while the other stores
 * 1 and wakes one waiter. The race that matters: the wake reaches the abandoned wait in the
 * kernel before the ASYNC_CANCEL does, but after cancel() completed its future. The kernel
 * reports that wait as woken; nobody wants the wake, and unless the ring passes it on
 * (AbandonedWakeHandler.PASS_ON) the live waiter sleeps forever. The abandoned wait's handler
 * records that it ran, then delegates to PASS_ON, so PASSED_ON counts show the race was hit.
 *
 * Why it fails if passing on is broken: the wake is the only one, and the live wait, armed before
 * the store, is still queued; nothing else will ever wake it, so it is ASLEEP at the deadline.
 *
 * Why it cannot fail on a correct ring, whatever the scheduling (this is why the waker stores 1
 * before waking, the usual futex protocol, instead of relying on the order in which the ring
 * arms requests):
 *   - the live wait compares the word after the store: the kernel sees 1, EAGAIN, VALUE_CHANGED;
 *   - it compares before the store: it is queued when the wake runs (the wake is sent after the
 *     store), and the wake takes the oldest queued waiter on the word:
 *       - the live wait: WOKEN;
 *       - the abandoned wait, whose future was not yet cancelled: the ring completes it WOKEN and
 *         cancel() loses. A live future took the wake, so the other one is owed nothing;
 *       - the abandoned wait, whose future was cancelled: the ring passes the wake on, and the
 *         live wait is still the oldest waiter queued: WOKEN.
 *     The ASYNC_CANCEL winning, or cancel() catching the wait before it reached the kernel, just
 *     leaves the live wait the only waiter, and the wake takes it.
 * The third result is the ring's backend. On SYSCALLS both waits share one futex_waitv array, and
 * a wait may end woken spuriously (FutexRing's contract there): when that thread was leaving the
 * kernel for another reason, it unqueues its entries in order, and a wake landing between the two
 * takes the live one; the abandoned one, queued first on the same word, then ends woken too.
 * "WOKEN, WOKEN" is interesting there and forbidden on IO_URING.
 * Each word is fresh per instance and stays allocated while any wait on it is in the kernel
 * (the ring holds the op, the op its word), so no stray waiter shares it.
 */
@JCStressTest
@Outcome(
    id = "CANCELLED, WOKEN, .*",
    expect = ACCEPTABLE,
    desc = "The wake went to the live wait (the cancel beat it, or the wake hit the live wait)")
@Outcome(
    id = "PASSED_ON, WOKEN, .*",
    expect = ACCEPTABLE_INTERESTING,
    desc = "The race: the wake hit the cancelled wait and the ring passed it on to the live wait")
@Outcome(
    id = {"CANCELLED, VALUE_CHANGED, .*", "PASSED_ON, VALUE_CHANGED, .*"},
    expect = ACCEPTABLE,
    desc = "The live wait reached the kernel after the store and never slept")
@Outcome(
    id = "WOKEN, NOT_OWED, .*",
    expect = ACCEPTABLE,
    desc = "The abandoned wait was woken before cancel(): it took the wake; the live one sleeps on")
@Outcome(
    id = {
      "WOKEN, VALUE_CHANGED, .*",
      "VALUE_CHANGED, VALUE_CHANGED, .*",
      "VALUE_CHANGED, WOKEN, .*"
    },
    expect = ACCEPTABLE,
    desc = "cancel() came after the abandoned wait had ended; the live wait ended on its own")
@Outcome(
    id = ".*, ASLEEP, .*",
    expect = FORBIDDEN,
    desc = "Lost wake: the live wait was owed a wake and still sleeps at the deadline")
@Outcome(
    id = "WOKEN, WOKEN, SYSCALLS",
    expect = ACCEPTABLE_INTERESTING,
    desc = "Syscalls backend only: one of the two woken waits was a spurious wakeup")
@Outcome(
    id = "WOKEN, WOKEN, IO_URING",
    expect = FORBIDDEN,
    desc = "One wake ended two waits: a wake was passed on although a live future took it")
@Outcome(expect = FORBIDDEN, desc = "Anything else, such as a wait that failed")
@State
public class WakeConsumedByCancelledWaitIsPassedOn {
  static final String PASSED_ON = "PASSED_ON";
  static final String NOT_OWED = "NOT_OWED";

  private final MemorySegment segment = SharedRing.newWord(); // 0 = no wake yet, 1 = woken
  private final FutexWord word = FutexWord.of(segment, 0);
  private volatile boolean wakePassedOn; // set on the ring's thread, before the pass-on wake

  // The abandoned wait is submitted first, so the kernel queues it ahead of the live one
  // whenever both are armed: the wake then hits the wait being cancelled, the case under test.
  private final CompletableFuture<WaitOutcome> abandoned =
      SharedRing.RING.wait(word, 0, FutexRing.ANY_BITSET, null, this::recordAndPassOn);
  private final CompletableFuture<WaitOutcome> live = SharedRing.RING.wait(word, 0);
  private CompletableFuture<Integer> wake; // written by the waker, read by the arbiter

  private void recordAndPassOn(FutexRing ring, FutexWord woken, int bitset) {
    wakePassedOn = true;
    AbandonedWakeHandler.PASS_ON.wakeConsumed(ring, woken, bitset);
  }

  @Actor
  public void canceller() {
    abandoned.cancel(false);
  }

  @Actor
  public void waker() {
    SharedRing.svWord(segment, 1); // a wait that reaches the kernel after this never sleeps
    wake = SharedRing.RING.wake(word, 1);
  }

  @Arbiter
  public void arbiter(LLL_Result r) {
    r.r3 = SharedRing.RING.backend().name();
    wake.join(); // a failed wake fails the test with its stack trace
    if (abandoned.isCancelled()) {
      String liveFate = WaitFate.await(live); // owed a wake, or it saw the 1
      // Read after the live wait ended, so a pass-on that woke it is seen. One that reached
      // nobody (the live wait got EAGAIN) may still be on its way: PASSED_ON is a lower bound.
      r.r1 = wakePassedOn ? PASSED_ON : WaitFate.CANCELLED;
      r.r2 = liveFate;
      return;
    }
    // cancel() lost: the abandoned wait had already ended, so its future is done
    String abandonedFate = WaitFate.ofDone(abandoned);
    r.r1 = abandonedFate;
    if (abandonedFate.equals(WaitFate.WOKEN)) {
      // it took the only wake; the live wait may sleep on, so stop it instead of waiting
      r.r2 = live.cancel(false) ? NOT_OWED : WaitFate.ofDone(live);
    } else {
      r.r2 = WaitFate.await(live);
    }
  }
}
