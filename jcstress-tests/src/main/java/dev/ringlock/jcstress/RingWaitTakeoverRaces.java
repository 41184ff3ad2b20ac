package dev.ringlock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ringlock.core.FutexWord;
import dev.ringlock.core.WaitOutcome;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.LLLL_Result;
import org.openjdk.jcstress.infra.results.LLL_Result;

/**
 * A ring wait joined by the thread that made it (on the syscalls backend a platform thread blocked
 * in join() takes the wait over and sleeps on the word itself, JoinedRingWait) racing a pure wake
 * of this process, made once wait() has returned. The word stays 0, so only the wake, not a change
 * of the word, can end the wait: the ring's contract says that wake reaches the wait and counts it,
 * whether it lands before the take-over, between the take-over and the joiner's sleep, or on the
 * sleeping joiner.
 *
 * <pre>
 *   WakeRacingJoin        one actor waits and joins; the other wakes one once the wait is made
 *   WakesRacingJoinAndSecondWait   one actor waits and joins; the other makes a second wait on the word
 *                         (which makes a joiner hand its wait back to the ring: one word's waits
 *                         share one array), then wakes one, twice: both waits end woken, counted
 * </pre>
 *
 * A waiter still asleep two seconds after its wake is cancelled by the waker (WaitFate), so a lost
 * wake shows as ASLEEP instead of hanging the run. On SYSCALLS a wait may end woken uncounted, a
 * spurious wakeup FutexRing allows there (two instances' words sharing a futex_waitv thread):
 * interesting. Forbidden: a wait left asleep, a count above the waits woken, a failure.
 */
public final class RingWaitTakeoverRaces {
  private RingWaitTakeoverRaces() {}

  /** How a join ended, as an outcome word. */
  private static String joined(CompletableFuture<WaitOutcome> wait) {
    try {
      return wait.join().isWoken() ? WaitFate.WOKEN : WaitFate.VALUE_CHANGED;
    } catch (CancellationException e) {
      return WaitFate.ASLEEP; // cancelled by the waker's deadline: the wake missed it
    } catch (CompletionException e) {
      return "FAILED(" + e.getCause() + ")";
    }
  }

  @JCStressTest
  @Outcome(
      id = "WOKEN, 1, .*",
      expect = ACCEPTABLE,
      desc = "The wake reached the wait and counted it")
  @Outcome(
      id = "WOKEN, 0, SYSCALLS",
      expect = ACCEPTABLE_INTERESTING,
      desc = "Syscalls backend only: woken spuriously, uncounted (the wake found it ended)")
  @Outcome(expect = FORBIDDEN, desc = "The wait slept on, failed, or the count is wrong")
  @State
  public static class WakeRacingJoin {
    private final MemorySegment segment = SharedRing.newWord(); // always 0
    private final FutexWord word = FutexWord.of(segment, 0);
    private volatile CompletableFuture<WaitOutcome> made; // published once wait() returned

    @Actor
    public void joiner(LLL_Result r) {
      CompletableFuture<WaitOutcome> wait = SharedRing.RING.wait(word, 0);
      made = wait;
      r.r1 = joined(wait);
    }

    @Actor
    public void waker(LLL_Result r) {
      CompletableFuture<WaitOutcome> wait;
      while ((wait = made) == null) {
        Thread.onSpinWait();
      }
      r.r2 = SharedRing.RING.wake(word, 1).join();
      WaitFate.await(wait); // cancels it if it sleeps on: the joiner then reports ASLEEP
      r.r3 = SharedRing.RING.backend().name();
    }
  }

  @JCStressTest
  @Outcome(
      id = "WOKEN, WOKEN, 2, .*",
      expect = ACCEPTABLE,
      desc = "Each wake reached one wait and counted it")
  @Outcome(
      id = "WOKEN, WOKEN, [01], SYSCALLS",
      expect = ACCEPTABLE_INTERESTING,
      desc = "Syscalls backend only: a wait woken spuriously, uncounted")
  @Outcome(expect = FORBIDDEN, desc = "A wait slept on or failed, or the counts are wrong")
  @State
  public static class WakesRacingJoinAndSecondWait {
    private final MemorySegment segment = SharedRing.newWord(); // always 0
    private final FutexWord word = FutexWord.of(segment, 0);
    private volatile CompletableFuture<WaitOutcome> first; // published once wait() returned

    @Actor
    public void joiner(LLLL_Result r) {
      CompletableFuture<WaitOutcome> wait = SharedRing.RING.wait(word, 0);
      first = wait;
      r.r1 = joined(wait);
    }

    @Actor
    public void waiterAndWaker(LLLL_Result r) {
      CompletableFuture<WaitOutcome> mine = SharedRing.RING.wait(word, 0);
      CompletableFuture<WaitOutcome> joined;
      while ((joined = first) == null) {
        Thread.onSpinWait();
      }
      int woken = SharedRing.RING.wake(word, 1).join();
      woken += SharedRing.RING.wake(word, 1).join();
      r.r3 = woken;
      r.r2 = WaitFate.await(mine);
      WaitFate.await(joined); // cancels it if it sleeps on: the joiner then reports ASLEEP
      r.r4 = SharedRing.RING.backend().name();
    }
  }
}
