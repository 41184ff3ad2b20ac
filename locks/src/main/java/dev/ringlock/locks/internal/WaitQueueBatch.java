package dev.ringlock.locks.internal;

/**
 * What one hold of a wait queue's list lock leaves to do once it is released: the {@link Effects}
 * of the base (futures to complete, the view's sleeper to cancel or hook up, steps to run after the
 * grants), plus what the shared list adds: one wake of the wake sequence for the processes whose
 * bits are set, and whether the view's sleeper is to be armed again. Confined to the thread that
 * holds the lock, then to the one that finishes it: WaitQueueCore.send, then {@link #run}.
 */
final class WaitQueueBatch extends Effects<QueueWaiter> {
  int bits; // OR of the process bits of the owners of the slots marked; 0: no wake to send
  boolean rearm; // a scan ran: arm the view's sleeper again once the lock is released
}
