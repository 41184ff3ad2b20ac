package dev.ringlock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;

/*
 * Overview
 *
 * A mutex release is one 64-bit CAS of the word and the hold tag beside it (layout version 6;
 * docs/protocols.md, "A guard releases once"): from "this process holds, the tag is this guard's"
 * to "free, tag moved on". Two views of one region file stand for two processes of one pid, where
 * the word's pid cannot tell the holds apart and only the tag and fence can (TwoViews). These tests
 * race the CAS where it could go wrong; GuardReleaseRaces races it within one view.
 *
 * - StaleGuardOfAnotherViewAgainstNewHolder: a guard of the first view, released when the state
 *   was built, is unlocked again while the second view locks, counts and unlocks. The stale unlock
 *   must be refused whatever it reads: the new holder's draw half done (tag stored, fence not), the
 *   hold in place, or its release's moved tag; and the new holder's own unlock must release.
 * - RacingDoubleUnlockAgainstAHolderOfTheOtherView: both actors unlock one guard of the first view
 *   at once, then each takes the mutex through the second view and increments a plain counter:
 *   one unlock releases, the other is refused even when it comes after the other view's holder
 *   drew, and the counter shows no two holders at once.
 * - ReleaseAgainstASleeperSettingWaiters: the first view holds; the second view's lock() queues,
 *   its sleeper sets WAITERS with a 32-bit CAS on the word and sleeps, while the first view's
 *   release CASes the word and tag as one long. Either the release's CAS fails (the word gained
 *   WAITERS), re-reads and wakes, or the sleeper's CAS fails and it finds the word free: the
 *   second view gets the lock well within its 10 s timeout (0 is a lost wake).
 */
public final class HoldReleaseRaces {
  private static final int MAX_OBJECTS = 16_384; // a jcstress epoch is 10,240 instances
  private static final long REGION_BYTES = 6L << 20; // directory 2 MiB, mutexes 128 bytes each
  private static final TwoViews VIEWS =
      TwoViews.open("ringlock-jcstress-hold-release", MAX_OBJECTS, REGION_BYTES);
  private static final ObjectPool<Pair> POOL = new ObjectPool<>(MAX_OBJECTS, Pair::new);

  private HoldReleaseRaces() {}

  /** One mutex as both views see it. */
  private static final class Pair {
    final Mutex first;
    final Mutex second;

    Pair(int number) {
      String name = "jcstress-hold-release-" + number;
      first = VIEWS.first().mutex(name);
      second = VIEWS.second().mutex(name);
    }
  }

  /** 1 if {@code guard.unlock()} released, 0 if it was refused as already unlocked. */
  static int unlock(MutexGuard guard) {
    return GuardReleaseRaces.unlock(guard);
  }

  @JCStressTest
  @Outcome(id = "0, 1, 1", expect = ACCEPTABLE, desc = "The stale guard was refused")
  @Outcome(expect = FORBIDDEN, desc = "A stale guard released a hold, or the holder was disturbed")
  @State
  public static class StaleGuardOfAnotherViewAgainstNewHolder {
    private final Pair pair = POOL.take();
    private final MutexGuard stale;

    public StaleGuardOfAnotherViewAgainstNewHolder() {
      stale = pair.first.lock().join();
      stale.unlock();
    }

    @Actor
    public void staleUnlock(III_Result r) {
      r.r1 = unlock(stale);
    }

    @Actor
    public void holder(III_Result r) {
      MutexGuard held = pair.second.lock().join();
      r.r2 = unlock(held); // refused would mean the stale unlock took this hold's release
    }

    @Arbiter
    public void free(III_Result r) {
      r.r3 = pair.first.isLocked() ? 0 : 1;
      if (r.r3 == 1) {
        POOL.giveBack(pair);
      }
    }
  }

  @JCStressTest
  @Outcome(
      id = {"1, 0, 0, 1", "1, 0, 1, 0", "0, 1, 0, 1", "0, 1, 1, 0"},
      expect = ACCEPTABLE,
      desc = "One unlock released the guard, the other was refused; the new holds took turns")
  @Outcome(expect = FORBIDDEN, desc = "Released twice or never, or two holders at once")
  @State
  public static class RacingDoubleUnlockAgainstAHolderOfTheOtherView {
    private final Pair pair = POOL.take();
    private final MutexGuard shared = pair.first.lock().join();
    private volatile int arrived;
    private int counter; // plain: only the mutex orders it

    private int lockAndCount() {
      try (MutexGuard held = pair.second.lock().join()) {
        return counter++;
      }
    }

    private void meet() { // both unlock at about the same moment
      synchronized (this) {
        arrived++;
      }
      while (arrived < 2) {
        Thread.onSpinWait();
      }
    }

    @Actor
    public void one(IIII_Result r) {
      meet();
      r.r1 = unlock(shared);
      r.r3 = lockAndCount();
    }

    @Actor
    public void other(IIII_Result r) {
      meet();
      r.r2 = unlock(shared);
      r.r4 = lockAndCount();
    }

    @Arbiter
    public void free(IIII_Result r) {
      if (!pair.first.isLocked() && r.r1 + r.r2 == 1) {
        POOL.giveBack(pair);
      }
    }
  }

  @JCStressTest
  @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "Released, and the sleeper got the lock")
  @Outcome(expect = FORBIDDEN, desc = "The release was refused, or its wake lost")
  @State
  public static class ReleaseAgainstASleeperSettingWaiters {
    private final Pair pair = POOL.take();
    private final MutexGuard held = pair.first.lock().join();

    @Actor
    public void release(II_Result r) {
      r.r1 = unlock(held);
    }

    @Actor
    public void sleeper(II_Result r) {
      try (MutexGuard got = pair.second.lock(Duration.ofSeconds(10)).join()) {
        r.r2 = 1;
      } catch (CompletionException timedOut) {
        r.r2 = 0;
      }
    }

    @Arbiter
    public void free(II_Result r) {
      if (r.r1 == 1 && r.r2 == 1 && !pair.first.isLocked()) {
        POOL.giveBack(pair);
      }
    }
  }
}
