package dev.ringlock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ringlock.core.FutexRing;
import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.internal.MutexCore;
import dev.ringlock.locks.internal.MutexDescriptor;
import dev.ringlock.locks.internal.ObjectStatsDescriptor;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * The join take-over (QueuedPrimitive.joinHere: a platform thread blocked in join() on the head
 * request runs the queue's kernel wait itself) racing what can end that wait. One view of the
 * region holds the mutex, the other's lock() is queued with its kernel wait armed on the ring;
 * then:
 *
 * <pre>
 *   TakeoverRacingWake    one actor joins (taking the ring's wait over) as the other view unlocks:
 *                         the wake reaches the ring's wait (whose completion thread grants) or the
 *                         joined thread (which grants itself); either way it is not lost
 *   TakeoverRacingCancel  one actor joins as the other cancels the request: the join ends, and the
 *                         wait it handed back takes the next release's wake for the request behind
 * </pre>
 *
 * A lost wake would still be rescued by the 250 ms re-check, so the result says whether the view
 * re-checked its way to the grant (recheckRescues; 1 on io_uring, 2 on the syscalls backend). That
 * is interesting, not forbidden: as WakeRescueTest says, a rescue is a lost wake or a waker stalled
 * for the whole 250 ms between its change and its wake, which a loaded 2-core host produces (runs
 * of 2026-12-07 at load 20-30: io_uring none in 23,700 samples; the syscalls backend about 1 in
 * 1,000 in either race, with and without the take-over; docs/threading.md). Forbidden: a join that
 * does not end as it must, or no grant.
 */
public final class JoinTakeoverRaces {
  private JoinTakeoverRaces() {}

  private static final Views VIEWS = new Views();

  @JCStressTest
  @Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "Granted, with no wake lost")
  @Outcome(
      id = {"1, 1", "1, 2"},
      expect = ACCEPTABLE_INTERESTING,
      desc = "Granted after the re-check (io_uring 1, syscalls 2): a lost wake or a 250 ms stall")
  @Outcome(expect = FORBIDDEN, desc = "Not granted")
  @State
  public static class TakeoverRacingWake {
    private final Views.Entry entry = VIEWS.take();
    private final long rescuesBefore = entry.rescues();
    private final MutexGuard held = entry.holder.tryLock().orElseThrow();
    private final CompletableFuture<MutexGuard> waiter = entry.waiter.lock();
    private MutexGuard granted;

    @Actor
    public void join() {
      granted = waiter.join();
    }

    @Actor
    public void release() {
      held.unlock();
    }

    @Arbiter
    public void after(II_Result r) {
      r.r1 = granted != null ? 1 : 0;
      if (granted != null) {
        granted.unlock();
      }
      r.r2 = entry.rescued(rescuesBefore);
      VIEWS.giveBackIfFree(entry);
    }
  }

  @JCStressTest
  @Outcome(
      id = "1, 1, 0",
      expect = ACCEPTABLE,
      desc = "The join ended cancelled; the request behind was granted, with no wake lost")
  @Outcome(
      id = {"1, 1, 1", "1, 1, 2"},
      expect = ACCEPTABLE_INTERESTING,
      desc = "Granted after the re-check (io_uring 1, syscalls 2): a lost wake or a 250 ms stall")
  @Outcome(
      expect = FORBIDDEN,
      desc = "The join did not end cancelled, or the request behind was not granted")
  @State
  public static class TakeoverRacingCancel {
    private final Views.Entry entry = VIEWS.take();
    private final long rescuesBefore = entry.rescues();
    private final MutexGuard held = entry.holder.tryLock().orElseThrow();
    private final CompletableFuture<MutexGuard> waiter = entry.waiter.lock();
    private final CompletableFuture<MutexGuard> behind = entry.waiter.lock();
    private int joinEndedCancelled;

    @Actor
    public void join() {
      try {
        waiter.join().unlock();
      } catch (CancellationException | CompletionException e) {
        joinEndedCancelled = e instanceof CancellationException ? 1 : 0;
      }
    }

    @Actor
    public void cancel() {
      waiter.cancel(false);
    }

    @Arbiter
    public void after(III_Result r) {
      r.r1 = joinEndedCancelled;
      held.unlock();
      MutexGuard next = behind.join(); // the arbiter joins too: it may take the wait over itself
      r.r2 = next != null ? 1 : 0;
      next.unlock();
      r.r3 = entry.rescued(rescuesBefore);
      VIEWS.giveBackIfFree(entry);
    }
  }

  /**
   * One region file seen through two SharedRegions ({@link TwoViews}): the holder's, the waiter's.
   */
  static final class Views {
    private static final int MAX_ENTRIES = 16_384; // a jcstress epoch is 10,240 instances
    private static final long REGION_BYTES =
        (2L << 20)
            + MAX_ENTRIES * (long) ObjectStatsDescriptor.withStats(MutexDescriptor.SIZE)
            + (1L << 20);

    private final TwoViews views =
        TwoViews.open("ringlock-jcstress-takeover", MAX_ENTRIES, REGION_BYTES);
    private final ObjectPool<Entry> entries = new ObjectPool<>(MAX_ENTRIES, Entry::new);

    Entry take() {
      return entries.take();
    }

    /** Gives the entry back if the mutex is free again; else it is retired. */
    void giveBackIfFree(Entry entry) {
      Optional<MutexGuard> again = entry.holder.tryLock();
      again.ifPresent(MutexGuard::unlock);
      if (again.isPresent()) {
        entries.giveBack(entry);
      }
    }

    final class Entry {
      final Mutex holder;
      final Mutex waiter;

      Entry(int number) {
        String name = "jcstress-takeover-" + number;
        this.holder = views.first().mutex(name);
        this.waiter = views.second().mutex(name);
      }

      long rescues() {
        return ((MutexCore) waiter).recheckRescues();
      }

      /** 0: no re-check rescued a wait since {@code before}; else 1 on io_uring, 2 on syscalls. */
      int rescued(long before) {
        if (rescues() == before) {
          return 0;
        }
        return SharedRing.RING.backend() == FutexRing.Backend.SYSCALLS ? 2 : 1;
      }
    }
  }
}
