package dev.ringlock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.internal.MutexDescriptor;
import dev.ringlock.locks.internal.ObjectStatsDescriptor;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

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
 *                          sees the request, or the arrival sees the word free and decides; both
 *                          on the actors' threads (r2 = 1). One interleaving ends later: an
 *                          arrival that decides while the release is between clearing `holding`
 *                          and freeing the word sets WAITERS and arms a kernel wait, which the
 *                          release's wake (or the changed word) ends on the ring's thread (r2 = 0;
 *                          a -Xint default-mode fork saw it once in 68,725). The arbiter waits 10 s
 *                          for the grant: an arrival left with no decision and no kernel wait
 *                          would wait for ever (r1 = 0).
 *   CancelAgainstHandoff   the oldest of two queued requests cancelled while the holder unlocks:
 *                          the handoff delivers its guard outside the monitor, straight through
 *                          Grants (a request is still queued behind it), so a cancel may win the
 *                          future first; the lost guard is then unlocked, which hands on to the
 *                          second request. After both actors the second request holds or has held
 *                          the lock (the arbiter waits up to 10 s), and is free once it unlocks.
 */
public final class InProcessHandoffRaces {
  private InProcessHandoffRaces() {}

  private static final Mutexes MUTEXES = new Mutexes();

  @JCStressTest
  @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "Granted on an actor's thread")
  @Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "Granted after a kernel wait the release ended")
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
    public void after(II_Result r) {
      r.r2 = arrival.isDone() ? 1 : 0;
      r.r1 = grantedWithin10s(arrival) ? 1 : 0;
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
      boolean secondGranted = grantedWithin10s(second);
      Optional<MutexGuard> again = mutex.tryLock();
      again.ifPresent(MutexGuard::unlock);
      r.r2 = secondGranted && again.isPresent() ? 1 : 0;
      MUTEXES.giveBackIfFree(mutex);
    }
  }

  /** Whether {@code request} is granted within 10 s; its guard is unlocked, or it is cancelled. */
  static boolean grantedWithin10s(CompletableFuture<MutexGuard> request) {
    try {
      request.get(10, TimeUnit.SECONDS).unlock();
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // not granted: the forbidden outcome
    }
    request.cancel(false);
    return false;
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
