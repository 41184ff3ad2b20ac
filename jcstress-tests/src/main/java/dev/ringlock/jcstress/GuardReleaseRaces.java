package dev.ringlock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;
import org.openjdk.jcstress.infra.results.II_Result;

/*
 * Overview
 *
 * A guard's once-only release is claimed on the mutex's mapped fence: the release CASes the fence
 * from the value the guard drew to the next one (docs/protocols.md, "A guard releases once").
 * These tests race that claim where it could go wrong:
 *
 * - RacingDoubleUnlockAgainstNewHolders: one actor locks and publishes its guard; once the other
 *   has seen it, both unlock that guard at once, then each locks the mutex again and increments a plain counter.
 *   Exactly one of the two unlocks may release; the other must be refused even when it comes after
 *   a new holder (of this or another process, or the other actor) drew its fence. A second release
 *   of the word would free a new holder's lock, which the counter shows as two holders at once.
 * - StaleGuardAgainstNewHolder: a guard released long ago (at class initialisation) is unlocked
 *   while another actor locks, increments and unlocks: always refused, whatever the fence is at
 *   the moment (the new holder's draw, or its release's move), and the holder is undisturbed.
 *
 * Mutexes come round-robin from the shared pool (SharedLocks). RacingDoubleUnlockAgainstNewHolders
 * draws its mutex in the locker, as it goes (see there): its actors hold a guard while they wait
 * for each other, so two states live at once must not share one.
 */
public final class GuardReleaseRaces {
  private GuardReleaseRaces() {}

  /** 1 if {@code guard.unlock()} released, 0 if it was refused as already unlocked. */
  static int unlock(MutexGuard guard) {
    try {
      guard.unlock();
      return 1;
    } catch (IllegalStateException refused) {
      return 0;
    }
  }

  @JCStressTest
  @Outcome(
      id = {"1, 0, 0, 1", "1, 0, 1, 0", "0, 1, 0, 1", "0, 1, 1, 0"},
      expect = ACCEPTABLE,
      desc = "One unlock released the guard, the other was refused; the new holds took turns")
  @Outcome(expect = FORBIDDEN, desc = "Released twice or never, or two holders at once")
  @State
  public static class RacingDoubleUnlockAgainstNewHolders {
    private volatile MutexGuard shared;
    private volatile boolean seen;
    private int counter; // plain: only the mutex orders it

    private int lockAndCount(Mutex mutex) {
      try (MutexGuard held = mutex.lock().join()) {
        return counter++;
      }
    }

    /**
     * The mutex is drawn here, not when the state is made: the locker may run one state ahead of
     * the racer, holding that state's guard until the racer sees it, while the racer still locks in
     * the state before. States made 256 draws apart share a mutex, and jcstress does not make them
     * in the order the actors go through them (two consecutive states were seen with one mutex);
     * drawn by the locker in its own order, the two states live at once always have two mutexes. A
     * shared one deadlocked the actors: the racer queued behind the locker's next guard, which
     * waits for the racer (a TIMEOUT, about once in three default-mode runs).
     */
    @Actor
    public void locker(IIII_Result r) {
      MutexGuard guard = SharedLocks.nextMutex().lock().join();
      shared = guard;
      while (!seen) { // both unlock at about the same moment, not one long after the other
        Thread.onSpinWait();
      }
      r.r1 = unlock(guard);
      r.r3 = lockAndCount(guard.mutex());
    }

    @Actor
    public void racer(IIII_Result r) {
      MutexGuard guard;
      while ((guard = shared) == null) {
        Thread.onSpinWait();
      }
      seen = true;
      r.r2 = unlock(guard);
      r.r4 = lockAndCount(guard.mutex());
    }
  }

  /** One released guard per pooled mutex, taken before any test runs. */
  private static final class StaleGuards {
    static final MutexGuard[] BY_MUTEX = new MutexGuard[SharedLocks.POOL];
    static final Mutex[] MUTEXES = new Mutex[SharedLocks.POOL];

    static {
      for (int i = 0; i < SharedLocks.POOL; i++) {
        MUTEXES[i] = SharedLocks.nextMutex();
        BY_MUTEX[i] = MUTEXES[i].lock().join();
        BY_MUTEX[i].unlock();
      }
    }

    private static int next;

    static synchronized int nextIndex() {
      next = (next + 1) % SharedLocks.POOL;
      return next;
    }
  }

  @JCStressTest
  @Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "The stale guard was refused")
  @Outcome(expect = FORBIDDEN, desc = "A stale guard released a lock, or the holder was disturbed")
  @State
  public static class StaleGuardAgainstNewHolder {
    private final int index = StaleGuards.nextIndex();
    private final Mutex mutex = StaleGuards.MUTEXES[index];
    private final MutexGuard stale = StaleGuards.BY_MUTEX[index];

    @Actor
    public void staleUnlock(II_Result r) {
      r.r1 = unlock(stale);
    }

    @Actor
    public void holder(II_Result r) {
      MutexGuard held = mutex.lock().join();
      r.r2 = unlock(held); // refused would mean the stale unlock took this hold's release
    }
  }
}
