package dev.ringlock.locks.internal;

import dev.ringlock.locks.MutexGuard;

/**
 * A pending lock request: the future its caller holds, and a node of its mutex's in-process queue,
 * so a queued request allocates nothing else. Completing it by any other means than a grant
 * (cancel, complete, completeExceptionally, and so orTimeout) withdraws it from the queue.
 */
final class LockFuture extends WithdrawableFuture<MutexGuard> {
  static final long NO_DEADLINE = Deadlines.NONE;

  final MutexCore mutex;
  final long deadline; // System.nanoTime() by which to fail with TimeoutException, or NO_DEADLINE
  final long queuedAt; // System.nanoTime() when queued: its age decides starvation

  // guarded by the mutex's monitor
  LockFuture previous;
  LockFuture next;
  boolean queued;

  LockFuture(MutexCore mutex, long deadline, long queuedAt) {
    this.mutex = mutex;
    this.deadline = deadline;
    this.queuedAt = queuedAt;
  }

  /** Hands the lock over; false if the request was withdrawn first (then the lock is not its). */
  boolean grant(MutexGuard guard) {
    return settle(guard);
  }

  /** Fails the request from inside the mutex (timeout, closed region or ring). */
  void fail(Throwable failure) {
    settleExceptionally(failure);
  }

  @Override
  void withdrawn() {
    mutex.withdraw(this);
  }
}
