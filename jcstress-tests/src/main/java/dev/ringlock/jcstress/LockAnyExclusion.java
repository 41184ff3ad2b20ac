package dev.ringlock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import java.util.List;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/*
 * Overview
 *
 * lockAny against lock on one mutex. The lockAny's other candidate is held for the life of the VM,
 * so whenever the mutex is taken the lockAny sleeps in a FUTEX_WAITV over both words, and must be
 * woken by the lock holder's release through the word it shares with plain lock(). Each actor
 * increments a plain counter under the mutex and records the value it read: 0 and 1 in some order
 * under mutual exclusion; equal values mean two holders at once, or a missed write. A lockAny that
 * completed with the always-held candidate would be a double hold of that one: it reports -1.
 */
@JCStressTest
@Outcome(
    id = {"0, 1", "1, 0"},
    expect = ACCEPTABLE,
    desc = "One holder at a time")
@Outcome(expect = FORBIDDEN, desc = "Two holders at once, a missed write, or the held candidate")
@State
public class LockAnyExclusion {
  private final Mutex mutex = SharedLocks.nextMutex();
  private final List<Mutex> candidates = List.of(SharedLocks.ALWAYS_HELD, mutex);
  private int counter; // plain: only the mutex orders it

  @Actor
  @SuppressWarnings("try") // the guard's only job is to be closed
  public void lockAny(II_Result r) {
    try (MutexGuard guard = Mutex.lockAny(candidates).join()) {
      r.r1 = guard.mutex() == mutex ? counter++ : -1;
    }
  }

  @Actor
  @SuppressWarnings("try")
  public void lock(II_Result r) {
    try (MutexGuard guard = mutex.lock().join()) {
      r.r2 = counter++;
    }
  }
}
