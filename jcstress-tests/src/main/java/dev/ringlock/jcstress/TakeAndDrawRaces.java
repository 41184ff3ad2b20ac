package dev.ringlock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import java.util.Optional;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/*
 * Overview
 *
 * The uncontended acquisition takes a free word and draws the next fence in one 64-bit CAS of the
 * word and the hold tag (MutexOwnership.tryAcquireFreeAndDraw; docs/protocols.md): it reads the
 * hold, then the fence field, computes the next fence from both, CASes the hold from exactly what
 * it read to "ours, the new fence's tag", then stores the field. Between its two reads another
 * holder may draw and release (the fence field and the tag both move); the CAS from the hold it
 * read must then fail, or it would draw a fence already issued. Two views of one region file stand
 * for two processes (TwoViews), so each view draws through its own core and only the mapping is
 * shared.
 *
 * - DrawAgainstDrawAndRelease: one view's tryLock() races the other view's lock() ... unlock(),
 *   each recording its fence. Whatever the interleaving, the holds that happened drew distinct
 *   fences, and the arbiter's next draw is exactly base + 2 per hold + 2 (each draw and each release
 *   counts one: the fence numbering), so no draw reused a fence or skipped one, and the word is
 *   free again.
 * - BothViewsTakeAFreeWord: both views' tryLock() on a free word at once: at most one gets it,
 *   a plain counter shows no two holders, and the fences add up as above.
 */
public final class TakeAndDrawRaces {
  private static final int MAX_OBJECTS = 16_384; // a jcstress epoch is 10,240 instances
  private static final long REGION_BYTES = 6L << 20; // directory 2 MiB, mutexes 128 bytes each
  private static final TwoViews VIEWS =
      TwoViews.open("ringlock-jcstress-take-and-draw", MAX_OBJECTS, REGION_BYTES);
  private static final ObjectPool<Pair> POOL = new ObjectPool<>(MAX_OBJECTS, Pair::new);

  private TakeAndDrawRaces() {}

  /** One mutex as both views see it, with the fence of a hold made and released before the race. */
  private static final class Pair {
    final Mutex first;
    final Mutex second;
    long base; // the fence of the last hold before this round's race (released)

    Pair(int number) {
      String name = "jcstress-take-and-draw-" + number;
      first = VIEWS.first().mutex(name);
      second = VIEWS.second().mutex(name);
    }

    Pair prepared() {
      try (MutexGuard before = first.lock().join()) {
        base = before.fence();
      }
      return this;
    }

    /**
     * Whether the next draw is exactly {@code holds} holds after the base (each hold draws one
     * fence and its release counts one), the word being free; leaves the mutex free.
     */
    boolean nextDrawFollows(int holds) {
      Optional<MutexGuard> next = first.tryLock();
      if (next.isEmpty()) {
        return false;
      }
      try (MutexGuard guard = next.get()) {
        return guard.fence() == base + 2L * holds + 2;
      }
    }
  }

  /** The fence a tryLock() drew (its hold released at once), or 0 if the mutex was not free. */
  private static long tryLockFence(Mutex mutex) {
    Optional<MutexGuard> got = mutex.tryLock();
    if (got.isEmpty()) {
      return 0;
    }
    try (MutexGuard guard = got.get()) {
      return guard.fence();
    }
  }

  @JCStressTest
  @Outcome(id = "1, 1, 1", expect = ACCEPTABLE, desc = "Both held in turn, distinct fences")
  @Outcome(id = "0, 1, 1", expect = ACCEPTABLE, desc = "tryLock found it held; the lock's fence")
  @Outcome(expect = FORBIDDEN, desc = "A fence drawn twice or skipped, or the word left held")
  @State
  public static class DrawAgainstDrawAndRelease {
    private final Pair pair = POOL.take().prepared();
    private long tried;
    private long locked;

    @Actor
    public void tryLock(III_Result r) {
      tried = tryLockFence(pair.first);
      r.r1 = tried == 0 ? 0 : 1;
    }

    @Actor
    public void lockAndUnlock(III_Result r) {
      try (MutexGuard guard = pair.second.lock().join()) {
        locked = guard.fence();
      }
      r.r2 = locked > pair.base ? 1 : 0;
    }

    @Arbiter
    public void fences(III_Result r) {
      boolean distinct = tried == 0 || (tried != locked && tried > pair.base);
      r.r3 = distinct && pair.nextDrawFollows(tried == 0 ? 1 : 2) ? 1 : 0;
      if (r.r3 == 1) {
        POOL.giveBack(pair);
      }
    }
  }

  @JCStressTest
  @Outcome(
      id = {"1, 0, 1", "0, 1, 1", "1, 1, 1"},
      expect = ACCEPTABLE,
      desc = "One took the free word (or both, one after the other); fences add up")
  @Outcome(id = "0, 0, 1", expect = FORBIDDEN, desc = "Nobody took a free word")
  @Outcome(expect = FORBIDDEN, desc = "Two holders at once, or a fence drawn twice or skipped")
  @State
  public static class BothViewsTakeAFreeWord {
    private final Pair pair = POOL.take().prepared();
    private volatile boolean held;
    private boolean overlapped;
    private long one;
    private long other;

    private long takeAndCheck(Mutex mutex) {
      Optional<MutexGuard> got = mutex.tryLock();
      if (got.isEmpty()) {
        return 0;
      }
      try (MutexGuard guard = got.get()) {
        if (held) {
          overlapped = true;
        }
        held = true;
        Thread.onSpinWait();
        held = false;
        return guard.fence();
      }
    }

    @Actor
    public void one(III_Result r) {
      one = takeAndCheck(pair.first);
      r.r1 = one == 0 ? 0 : 1;
    }

    @Actor
    public void other(III_Result r) {
      other = takeAndCheck(pair.second);
      r.r2 = other == 0 ? 0 : 1;
    }

    @Arbiter
    public void fences(III_Result r) {
      int holds = r.r1 + r.r2;
      boolean distinct = holds < 2 || one != other;
      r.r3 = !overlapped && distinct && pair.nextDrawFollows(holds) ? 1 : 0;
      if (r.r3 == 1) {
        POOL.giveBack(pair);
      }
    }
  }
}
