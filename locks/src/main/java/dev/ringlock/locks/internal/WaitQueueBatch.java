package dev.ringlock.locks.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * What one hold of a wait queue's list lock leaves to do once it is released: one wake of the wake
 * sequence for the processes whose bits are set, the view's sleeper to arm again, and the futures
 * of this view's own waiters to complete. Confined to the thread that holds the lock, then to the
 * one that finishes it.
 */
final class WaitQueueBatch {
  int bits; // OR of the process bits of the owners of the slots marked; 0: no wake to send
  boolean rearm; // a scan ran: arm the view's sleeper again once the lock is released
  private List<Runnable> outcomes; // made on first use: most batches have none

  /** Runs {@code outcome} once the lock and the guards are left. */
  void then(Runnable outcome) {
    if (outcomes == null) {
      outcomes = new ArrayList<>();
    }
    outcomes.add(outcome);
  }

  /** Outside the list lock and every guard: completes what the hold decided. */
  void runOutcomes() {
    if (outcomes != null) {
      List<Runnable> run = outcomes;
      outcomes = null;
      run.forEach(Runnable::run);
    }
  }
}
