package dev.ringlock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.internal.MutexWords;
import java.lang.foreign.MemorySegment;
import java.util.List;
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
 * Two takers race for a mutex whose owner is dead: the word holds the pid of a process that has
 * exited. Each actor tries through its own SharedRegion of the one file (its own MutexCore, as a
 * second process would have), so both see the dead owner and both try the takeover CAS. Exactly one
 * may hold it, and it must be told ownerDied (1); the other finds it held (0). A taker that holds it
 * without being told (2), two holders, or none, are forbidden. The arbiter reports whether the mutex
 * was free and consistent after the holder marked it consistent and unlocked (r3 = 1).
 */
@JCStressTest
@Outcome(
    id = {"1, 0, 1", "0, 1, 1"},
    expect = ACCEPTABLE,
    desc = "One taker, told that the owner died")
@Outcome(expect = FORBIDDEN, desc = "Two takers, none, or one not told")
@State
public class DeadOwnerTakeover {
  private static final int MAX_OBJECTS = 16_384; // a jcstress epoch is 10,240 instances
  private static final long REGION_BYTES = 6L << 20; // directory 2 MiB, mutexes 128 bytes each
  private static final TwoViews VIEWS =
      TwoViews.open("ringlock-jcstress-dead-owner", MAX_OBJECTS, REGION_BYTES);
  private static final int DEAD_PID = TwoViews.deadPid();
  private static final ObjectPool<Taken> POOL = new ObjectPool<>(MAX_OBJECTS, Taken::new);

  /** One mutex as both takers see it, and its word. */
  private static final class Taken {
    final Mutex first;
    final Mutex second;
    final MemorySegment object;

    Taken(int number) {
      String name = "jcstress-dead-owner-" + number;
      first = VIEWS.first().mutex(name);
      second = VIEWS.second().mutex(name);
      object = VIEWS.object(name);
    }
  }

  private final Taken taken = POOL.take();
  private Optional<MutexGuard> byFirst;
  private Optional<MutexGuard> bySecond;

  public DeadOwnerTakeover() {
    new MutexWords(taken.object, 0).spWord(DEAD_PID);
  }

  @Actor
  public void first(III_Result r) {
    byFirst = taken.first.tryLock();
    r.r1 = outcome(byFirst);
  }

  @Actor
  public void second(III_Result r) {
    bySecond = taken.second.tryLock();
    r.r2 = outcome(bySecond);
  }

  @Arbiter
  public void release(III_Result r) {
    for (Optional<MutexGuard> guard : List.of(byFirst, bySecond)) {
      guard.ifPresent(
          held -> {
            held.markConsistent();
            held.unlock();
          });
    }
    boolean clean = !taken.first.isLocked() && taken.first.isConsistent();
    r.r3 = clean ? 1 : 0;
    if (clean) {
      POOL.giveBack(taken);
    }
  }

  private static int outcome(Optional<MutexGuard> guard) {
    return guard.map(held -> held.ownerDied() ? 1 : 2).orElse(0);
  }
}
