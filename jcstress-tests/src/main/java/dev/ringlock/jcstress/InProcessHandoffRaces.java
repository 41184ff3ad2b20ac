package dev.ringlock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.internal.MutexDescriptor;
import dev.ringlock.locks.internal.ObjectStatsDescriptor;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;
import org.openjdk.jcstress.infra.results.I_Result;

/*
 * Overview
 *
 * The mutex's in-process contended path (MutexCore: handedOffHere, queuedBehindOwnHold), in one
 * view of a region, where the lock passes between requests of this process without the kernel:
 *
 *   ArrivalAgainstRelease  a lock() arriving while the holder unlocks. An arrival that finds the
 *                          word held by this object links and decides nothing; the release then
 *                          hands over to it or pumps. Dekker between the arrival's link and word
 *                          read and the release's word write and length read: either the release
 *                          sees the request, or the arrival sees the word free and decides. Both
 *                          run on the actors' threads, so by the arbiter the request is granted.
 *                          A request left pending would wait for ever (nothing else moves it).
 *   CancelAgainstHandoff   the oldest of two queued requests cancelled while the holder unlocks:
 *                          the handoff delivers its guard outside the monitor, straight through
 *                          Grants (a request is still queued behind it), so a cancel may win the
 *                          future first; the lost guard is then unlocked, which hands on to the
 *                          second request. After both actors the second request holds or has held
 *                          the lock, and the lock is free once it unlocks.
 */
public final class InProcessHandoffRaces {
  private InProcessHandoffRaces() {}

  private static final Mutexes MUTEXES = new Mutexes();

  @JCStressTest
  @Outcome(
      id = "1",
      expect = ACCEPTABLE,
      desc = "The arrival was granted, by the release or itself")
  @Outcome(expect = FORBIDDEN, desc = "The arrival was left pending with the lock free: lost")
  @State
  public static class ArrivalAgainstRelease {
    private final Mutex mutex = MUTEXES.take();
    private final MutexGuard held = mutex.tryLock().orElseThrow();
    private CompletableFuture<MutexGuard> arrival;

    @Actor
    public void arrive() {
      arrival = mutex.lock();
    }

    @Actor
    public void release() {
      held.unlock();
    }

    @Arbiter
    public void after(I_Result r) {
      r.r1 = arrival.isDone() && !arrival.isCompletedExceptionally() ? 1 : 0;
      if (r.r1 == 1) {
        arrival.join().unlock();
      }
      MUTEXES.giveBackIfFree(mutex);
    }
  }

  @JCStressTest
  @Outcome(
      id = {"1, 1", "0, 1"},
      expect = ACCEPTABLE,
      desc = "Cancelled, or granted first and released: the next request got the lock, then free")
  @Outcome(expect = FORBIDDEN, desc = "The lost guard was not handed on, or the lock stayed held")
  @State
  public static class CancelAgainstHandoff {
    private final Mutex mutex = MUTEXES.take();
    private final MutexGuard held = mutex.tryLock().orElseThrow();
    private final CompletableFuture<MutexGuard> first = mutex.lock();
    private final CompletableFuture<MutexGuard> second = mutex.lock();

    @Actor
    public void cancel() {
      first.cancel(false);
    }

    @Actor
    public void release() {
      held.unlock();
    }

    @Arbiter
    public void after(II_Result r) {
      r.r1 = first.isCancelled() ? 1 : 0;
      if (!first.isCancelled()) {
        first.join().unlock(); // granted before the cancel: its holder hands on
      }
      boolean secondGranted = second.isDone() && !second.isCompletedExceptionally();
      if (secondGranted) {
        second.join().unlock();
      }
      Optional<MutexGuard> again = mutex.tryLock();
      again.ifPresent(MutexGuard::unlock);
      r.r2 = secondGranted && again.isPresent() ? 1 : 0;
      if (!secondGranted) {
        second.cancel(false);
      }
      MUTEXES.giveBackIfFree(mutex);
    }
  }

  /** Mutexes of one region (one view: the in-process path), reused while left free. */
  static final class Mutexes {
    private static final int MAX_ENTRIES = 16_384; // a jcstress epoch is 10,240 instances
    private static final long REGION_BYTES =
        (2L << 20)
            + MAX_ENTRIES * (long) ObjectStatsDescriptor.withStats(MutexDescriptor.SIZE)
            + (1L << 20);

    private final TwoViews views =
        TwoViews.open("ringlock-jcstress-handoff", MAX_ENTRIES, REGION_BYTES);
    private final ObjectPool<Mutex> pool =
        new ObjectPool<>(MAX_ENTRIES, n -> views.first().mutex("jcstress-handoff-" + n));

    Mutex take() {
      return pool.take();
    }

    /** Gives the mutex back if nothing holds it; else it is retired. */
    void giveBackIfFree(Mutex mutex) {
      Optional<MutexGuard> free = mutex.tryLock();
      free.ifPresent(MutexGuard::unlock);
      if (free.isPresent()) {
        pool.giveBack(mutex);
      }
    }
  }
}
