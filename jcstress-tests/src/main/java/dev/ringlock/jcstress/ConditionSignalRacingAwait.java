package dev.ringlock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ringlock.locks.ConditionVariable;
import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/*
 * Overview
 *
 * signal() racing await(): the waiter takes the mutex and, while its flag is clear, awaits; the
 * signaller takes the mutex, sets the flag and signals once. Whatever the interleaving, the waiter
 * must leave with the flag set: either it saw the flag before waiting, or it was queued before it
 * released the mutex, so the signal (sent under the mutex, after the flag) reaches it. A lost
 * signal leaves it waiting; its await has a 5 s limit as a backstop, after which it reports 0.
 *
 * signal() wakes one waiter, so a condition shared by two live tests could give one test's signal
 * to the other's waiter. Each test therefore has a condition of its own for as long as it runs
 * (SharedQueues' pool), given back by whichever actor finishes last.
 */
@JCStressTest
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "The waiter left with the flag set")
@Outcome(expect = FORBIDDEN, desc = "The signal was lost (or the flag missed)")
@State
public class ConditionSignalRacingAwait {
  private final Mutex mutex = SharedLocks.nextMutex();
  private final ConditionVariable condition = SharedQueues.takeCondition();
  private final AtomicInteger finished = new AtomicInteger();
  private boolean flag; // plain: only the mutex orders it

  @Actor
  public void waiter(II_Result r) {
    try {
      MutexGuard guard = mutex.lock().join();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (!flag && System.nanoTime() < deadline) {
        guard = condition.await(guard, Duration.ofNanos(deadline - System.nanoTime())).join();
      }
      r.r1 = flag ? 1 : 0;
      guard.unlock();
    } finally {
      done();
    }
  }

  @Actor
  public void signaller(II_Result r) {
    try {
      MutexGuard guard = mutex.lock().join();
      flag = true;
      condition.signal();
      guard.unlock();
      r.r2 = 1;
    } finally {
      done();
    }
  }

  private void done() {
    if (finished.incrementAndGet() == 2) {
      SharedQueues.giveBack(condition); // both actors are out: nobody waits on it any more
    }
  }
}
