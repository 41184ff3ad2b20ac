package dev.ringlock.locks.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/*
 * Overview
 *
 * The pause of a loop that waits out a step another thread is in the middle of: a giveBack whose
 * winner is running grantLost, a close waiting for the calls inside its gate to leave, a semaphore
 * move between two CASes. Such a step never blocks and takes well under a microsecond while its
 * thread runs, so the first rounds spin (Thread.onSpinWait); if it is not done by then, its thread
 * has most likely been descheduled (this VM has 2 cores, often loaded many times over), and the
 * next rounds yield the CPU it may be waiting for; past those, the waiter parks for short periods
 * so that a long wait (a step stopped by a debugger, or a call that waits for a lock held by
 * another process before it gives way) does not burn a core. The loop keeps its own condition
 * and bound; a round number is all the state a pause needs, so waiting allocates nothing.
 */
/** Spin, then yield, then park briefly: the pause of a loop waiting out another thread's step. */
final class Backoff {
  /** Rounds that spin: a running thread finishes its step within them. */
  static final int SPIN_ROUNDS = 100;

  /** Rounds, after the spins, that yield to a descheduled thread. */
  static final int YIELD_ROUNDS = 100;

  /** Each pause after the yields parks this long. */
  static final long PARK_NANOS = TimeUnit.MICROSECONDS.toNanos(50);

  private Backoff() {}

  /**
   * One pause of a wait loop, in its {@code round} (0 for the first pause, one more each time):
   * spins, then yields, then parks for {@link #PARK_NANOS}.
   */
  static void pause(int round) {
    if (round < SPIN_ROUNDS) {
      Thread.onSpinWait();
    } else if (round < SPIN_ROUNDS + YIELD_ROUNDS) {
      Thread.yield();
    } else {
      LockSupport.parkNanos(PARK_NANOS);
    }
  }
}
