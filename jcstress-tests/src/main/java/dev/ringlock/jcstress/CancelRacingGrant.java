package dev.ringlock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.Semaphore;
import dev.ringlock.locks.internal.MutexDescriptor;
import dev.ringlock.locks.internal.ObjectStatsDescriptor;
import dev.ringlock.locks.internal.SemaphoreDescriptor;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * A cancel racing the grant of a queued request, for the mutex and the semaphore (the read-write
 * mutex's is ReadWriteMutexRaces.CancelledClaimAgainstRelease). The request is queued in one view
 * of the region and sleeps in the kernel; another view holds and releases, so the grant is made on
 * the ring's completion thread, a third thread neither actor waits for. Once cancel() has returned
 * true the request must hold nothing: the arbiter's tryLock (tryAcquire) must succeed at once, not
 * after the completion thread notices that its grant lost.
 *
 * <pre>
 *   MutexCancelAgainstRelease      a queued lock() cancelled as the holder unlocks
 *   SemaphoreCancelAgainstRelease  a queued acquire(1) cancelled as the last permit comes back
 * </pre>
 */
public final class CancelRacingGrant {
  private CancelRacingGrant() {}

  private static final Views VIEWS = new Views();

  @JCStressTest
  @Outcome(
      id = {"1, 1", "0, 1"},
      expect = ACCEPTABLE,
      desc = "Cancelled, or granted first and released: either way nothing is left held")
  @Outcome(expect = FORBIDDEN, desc = "The cancelled request still held the mutex")
  @State
  public static class MutexCancelAgainstRelease {
    private final Views.Entry entry = VIEWS.take();
    private final MutexGuard held = entry.holderMutex.tryLock().orElseThrow();
    private final CompletableFuture<MutexGuard> waiter = entry.waiterMutex.lock();

    @Actor
    public void cancel() {
      waiter.cancel(false);
    }

    @Actor
    public void release() {
      held.unlock();
    }

    @Arbiter
    public void after(II_Result r) {
      r.r1 = waiter.isCancelled() ? 1 : 0;
      if (!waiter.isCancelled()) {
        waiter.join().unlock();
      }
      Optional<MutexGuard> again = entry.holderMutex.tryLock();
      again.ifPresent(MutexGuard::unlock);
      r.r2 = again.isPresent() ? 1 : 0;
      VIEWS.giveBackIf(again.isPresent(), entry);
    }
  }

  @JCStressTest
  @Outcome(
      id = {"1, 1", "0, 1"},
      expect = ACCEPTABLE,
      desc = "Cancelled, or granted first and released: either way the permit is back")
  @Outcome(expect = FORBIDDEN, desc = "The cancelled request still held the permit")
  @State
  public static class SemaphoreCancelAgainstRelease {
    private final Views.Entry entry = VIEWS.take();
    private final boolean taken = entry.holderSemaphore.tryAcquire(1); // the only permit
    private final CompletableFuture<Void> waiter = entry.waiterSemaphore.acquire(1);

    @Actor
    public void cancel() {
      waiter.cancel(false);
    }

    @Actor
    public void release() {
      entry.holderSemaphore.release(1);
    }

    @Arbiter
    public void after(II_Result r) {
      r.r1 = waiter.isCancelled() ? 1 : 0;
      if (!waiter.isCancelled()) {
        waiter.join();
        entry.waiterSemaphore.release(1);
      }
      boolean again = taken && entry.holderSemaphore.tryAcquire(1);
      if (again) {
        entry.holderSemaphore.release(1);
      }
      r.r2 = again ? 1 : 0;
      VIEWS.giveBackIf(again, entry);
    }
  }

  /**
   * One region file seen through two SharedRegions ({@link TwoViews}): the holder's and the
   * waiter's.
   */
  static final class Views {
    private static final int MAX_ENTRIES = 16_384; // a jcstress epoch is 10,240 instances
    private static final long REGION_BYTES =
        (2L << 20)
            + MAX_ENTRIES
                * (long)
                    (ObjectStatsDescriptor.withStats(MutexDescriptor.SIZE)
                        + ObjectStatsDescriptor.withStats(SemaphoreDescriptor.SIZE))
            + (1L << 20);

    private final TwoViews views =
        TwoViews.open("ringlock-jcstress-cancel", 2 * MAX_ENTRIES, REGION_BYTES);
    private final ObjectPool<Entry> entries = new ObjectPool<>(MAX_ENTRIES, Entry::new);

    Entry take() {
      return entries.take();
    }

    /** Gives the entry back if the arbiter found it free; else it is retired. */
    void giveBackIf(boolean free, Entry entry) {
      if (free) {
        entries.giveBack(entry);
      }
    }

    final class Entry {
      final Mutex holderMutex;
      final Mutex waiterMutex;
      final Semaphore holderSemaphore;
      final Semaphore waiterSemaphore;

      Entry(int number) {
        String name = "jcstress-cancel-" + number;
        this.holderMutex = views.first().mutex(name + "-m");
        this.waiterMutex = views.second().mutex(name + "-m");
        this.holderSemaphore = views.first().semaphore(name + "-s", 1);
        this.waiterSemaphore = views.second().semaphore(name + "-s", 1);
      }
    }
  }
}
