package dev.ringlock.locks.internal;

import dev.ringlock.locks.MutexGuard;
import java.util.concurrent.CompletableFuture;

/**
 * A pending lock request: the future its caller holds, and a node of its mutex's in-process queue,
 * so a queued request allocates nothing else. Completing it by any other means than a grant
 * (cancel, complete, completeExceptionally, and so orTimeout) withdraws it from the queue.
 */
final class LockFuture extends CompletableFuture<MutexGuard> {
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
    return super.complete(guard);
  }

  /** Fails the request from inside the mutex (timeout, closed region or ring). */
  void fail(Throwable failure) {
    super.completeExceptionally(failure);
  }

  @Override
  public boolean cancel(boolean mayInterruptIfRunning) {
    return withdrawnIf(super.cancel(mayInterruptIfRunning));
  }

  @Override
  public boolean complete(MutexGuard value) {
    return withdrawnIf(super.complete(value));
  }

  @Override
  public boolean completeExceptionally(Throwable failure) {
    return withdrawnIf(super.completeExceptionally(failure));
  }

  private boolean withdrawnIf(boolean completedByCaller) {
    if (completedByCaller) {
      mutex.withdraw(this);
    }
    return completedByCaller;
  }
}
