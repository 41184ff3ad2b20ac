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
import org.openjdk.jcstress.infra.results.III_Result;

/*
 * Overview
 *
 * Three actors increment a plain counter under one mutex, each acquiring it another way:
 * lock().join(), a tryLock() loop, and the asLock() view. Each records the value it read.
 * Under mutual exclusion (and the happens-before edges a lock must give), the three reads are
 * 0, 1 and 2 in some order. Two actors reading the same value means two holders at once, or a
 * holder that did not see its predecessor's write.
 *
 * Contention here exercises every path: the barging CAS, spinning, queueing behind the
 * in-process sleeper, the in-process handoff and the release through a FUTEX_WAKE.
 */
@JCStressTest
@Outcome(id = "0, 1, 2", expect = ACCEPTABLE, desc = "lock(), then tryLock(), then asLock()")
@Outcome(id = "0, 2, 1", expect = ACCEPTABLE, desc = "lock(), then asLock(), then tryLock()")
@Outcome(id = "1, 0, 2", expect = ACCEPTABLE, desc = "tryLock(), then lock(), then asLock()")
@Outcome(id = "1, 2, 0", expect = ACCEPTABLE, desc = "asLock(), then lock(), then tryLock()")
@Outcome(id = "2, 0, 1", expect = ACCEPTABLE, desc = "tryLock(), then asLock(), then lock()")
@Outcome(id = "2, 1, 0", expect = ACCEPTABLE, desc = "asLock(), then tryLock(), then lock()")
@Outcome(expect = FORBIDDEN, desc = "Two holders at once, or a holder missed a write")
@State
public class MutexExcludesLockers {
  private final Mutex mutex = SharedLocks.nextMutex();
  private final Lock view = mutex.asLock();
  private int counter;

  @Actor
  public void viaLock(III_Result r) {
    try (MutexGuard guard = mutex.lock().join()) {
      r.r1 = counter++;
    }
  }

  @Actor
  public void viaTryLock(III_Result r) {
    for (; ; ) {
      Optional<MutexGuard> guard = mutex.tryLock();
      if (guard.isPresent()) {
        try (MutexGuard held = guard.get()) {
          r.r2 = counter++;
        }
        return;
      }
      Thread.onSpinWait();
    }
  }

  @Actor
  public void viaLockView(III_Result r) {
    view.lock();
    try {
      r.r3 = counter++;
    } finally {
      view.unlock();
    }
  }
}
