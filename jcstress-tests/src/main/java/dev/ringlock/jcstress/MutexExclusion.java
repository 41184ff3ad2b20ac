package dev.ringlock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import java.util.Optional;
import java.util.concurrent.locks.Lock;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/*
 * Overview
 *
 * Two actors increment a plain counter under one mutex, each acquiring it one of three ways
 * (lock().join(), a tryLock() loop, the asLock() view), in every pairing. Each records the value
 * it read. Under mutual exclusion, and the happens-before edges a lock must give, the reads are
 * 0 and 1 in some order. Equal reads mean two holders at once, or a holder that did not see its
 * predecessor's write.
 *
 * Contention exercises every path: the barging CAS, spinning, queueing behind this process's
 * kernel wait, the in-process handoff, and the release through a FUTEX_WAKE. (Two actors per
 * test: jcstress cannot schedule three on this two-core machine.)
 */
public final class MutexExclusion {
  private MutexExclusion() {}

  @SuppressWarnings("try") // the guard's only job is to be closed
  static int viaLock(Mutex mutex, Counter counter) {
    try (MutexGuard guard = mutex.lock().join()) {
      return counter.value++;
    }
  }

  @SuppressWarnings("try")
  static int viaTryLock(Mutex mutex, Counter counter) {
    for (; ; ) {
      Optional<MutexGuard> guard = mutex.tryLock();
      if (guard.isPresent()) {
        try (MutexGuard held = guard.get()) {
          return counter.value++;
        }
      }
      Thread.onSpinWait();
    }
  }

  static int viaLockView(Lock lock, Counter counter) {
    lock.lock();
    try {
      return counter.value++;
    } finally {
      lock.unlock();
    }
  }

  /** A plain field: only the mutex orders it. */
  static class Counter {
    int value;
  }

  @JCStressTest
  @Outcome(
      id = {"0, 1", "1, 0"},
      expect = ACCEPTABLE,
      desc = "One holder at a time")
  @Outcome(expect = FORBIDDEN, desc = "Two holders at once, or a holder missed a write")
  @State
  public static class LockAgainstTryLock extends Counter {
    private final Mutex mutex = SharedLocks.nextMutex();

    @Actor
    public void lock(II_Result r) {
      r.r1 = viaLock(mutex, this);
    }

    @Actor
    public void tryLock(II_Result r) {
      r.r2 = viaTryLock(mutex, this);
    }
  }

  @JCStressTest
  @Outcome(
      id = {"0, 1", "1, 0"},
      expect = ACCEPTABLE,
      desc = "One holder at a time")
  @Outcome(expect = FORBIDDEN, desc = "Two holders at once, or a holder missed a write")
  @State
  public static class LockAgainstLockView extends Counter {
    private final Mutex mutex = SharedLocks.nextMutex();
    private final Lock view = mutex.asLock();

    @Actor
    public void lock(II_Result r) {
      r.r1 = viaLock(mutex, this);
    }

    @Actor
    public void lockView(II_Result r) {
      r.r2 = viaLockView(view, this);
    }
  }

  @JCStressTest
  @Outcome(
      id = {"0, 1", "1, 0"},
      expect = ACCEPTABLE,
      desc = "One holder at a time")
  @Outcome(expect = FORBIDDEN, desc = "Two holders at once, or a holder missed a write")
  @State
  public static class TryLockAgainstLockView extends Counter {
    private final Mutex mutex = SharedLocks.nextMutex();
    private final Lock view = mutex.asLock();

    @Actor
    public void tryLock(II_Result r) {
      r.r1 = viaTryLock(mutex, this);
    }

    @Actor
    public void lockView(II_Result r) {
      r.r2 = viaLockView(view, this);
    }
  }

  @JCStressTest
  @Outcome(
      id = {"0, 1", "1, 0"},
      expect = ACCEPTABLE,
      desc = "One holder at a time")
  @Outcome(expect = FORBIDDEN, desc = "Two holders at once, or a holder missed a write")
  @State
  public static class LockAgainstLock extends Counter {
    private final Mutex mutex = SharedLocks.nextMutex();

    @Actor
    public void first(II_Result r) {
      r.r1 = viaLock(mutex, this);
    }

    @Actor
    public void second(II_Result r) {
      r.r2 = viaLock(mutex, this);
    }
  }
}
