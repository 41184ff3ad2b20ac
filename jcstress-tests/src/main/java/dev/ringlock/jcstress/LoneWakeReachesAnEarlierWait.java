package dev.ringlock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.WaitOutcome;
import dev.ringlock.core.WakeSignal;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/*
 * Overview
 *
 * The ring's ordering promise for the lone wakes that may skip it: a wait whose future was
 * returned before a wake of this process is reached by that wake, even a pure one (the word keeps
 * its value, so the kernel's compare cannot save a wait armed late). Each actor waits on a word of
 * its own and then wakes it with a lone wake: a WakeSignal, or a one-word wakeEach. The two keep the
 * completion loop going between awake and asleep, which opens the window this covers: on io_uring
 * the loop read as asleep between its swing to SLEEPING and the io_uring_enter that submits the
 * waits it had just taken, and a direct wake then passed such a wait by
 * (FutexRingTest.aLoneWakeFromAnotherThreadReachesAWaitTheLoopHasNotSubmittedYet replays it). A
 * wait not woken within 5 s was passed by.
 */
@JCStressTest
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "Each lone wake reached the wait made before it")
@Outcome(expect = FORBIDDEN, desc = "A pure lone wake passed by a wait made before it")
@State
public class LoneWakeReachesAnEarlierWait {
  private final FutexWord signalled = FutexWord.of(SharedRing.newWord(), 0);
  private final FutexWord each = FutexWord.of(SharedRing.newWord(), 0);
  private final WakeSignal signal = SharedRing.RING.wakeSignal(signalled, 1, FutexRing.ANY_BITSET);

  @Actor
  public void bySignal(II_Result r) {
    CompletableFuture<WaitOutcome> wait = SharedRing.RING.wait(signalled, 0);
    signal.signal(); // pure: the word stays 0
    r.r1 = SharedRing.wokenWithin5s(wait);
  }

  @Actor
  public void byWakeEach(II_Result r) {
    CompletableFuture<WaitOutcome> wait = SharedRing.RING.wait(each, 0);
    SharedRing.RING.wakeEach(List.of(each)); // pure too
    r.r2 = SharedRing.wokenWithin5s(wait);
  }
}
