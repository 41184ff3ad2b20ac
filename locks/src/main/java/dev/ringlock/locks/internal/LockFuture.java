package dev.ringlock.locks.internal;

import dev.ringlock.core.FutexRing;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.internal.jfr.ContendedAcquisitionEvent;
import dev.ringlock.locks.internal.jfr.LockEvents;

/** A pending lock request of a {@link MutexCore}; see {@link QueuedRequest}. */
final class LockFuture extends QueuedRequest<MutexGuard, LockFuture> implements ContendedRequest {
  final MutexCore mutex;
  final long queuedAt; // System.nanoTime() when queued: its age decides starvation

  // The JFR event timing this wait; null unless a recording enabled it when the request was made
  private final ContendedAcquisitionEvent contention;
  private boolean leftQueue; // written under the mutex's monitor, read by the granting thread

  LockFuture(MutexCore mutex, long deadline, long timeoutNanos, long queuedAt) {
    super(deadline, timeoutNanos);
    this.mutex = mutex;
    this.queuedAt = queuedAt;
    this.contention = LockEvents.beginContended(mutex.name, MutexOwnership.TYPE_NAME, "lock", 0);
    if (contention != null) {
      contention.ownerPidAtStart = mutex.ownerPid();
      whenComplete(this::completed);
    }
  }

  @Override
  public void leftQueue() {
    if (contention != null) {
      contention.end();
      leftQueue = true;
    }
  }

  /**
   * Commits the contended acquisition if this request was granted: it left the queue first, and
   * completed with a guard of this mutex (a caller's complete() withdraws it only after its
   * continuations, this one among them, have run; so it finds leftQueue unset).
   */
  private void completed(MutexGuard guard, Throwable failure) {
    if (failure == null && leftQueue && guard instanceof Guard granted && guard.mutex() == mutex) {
      contention.granted(granted.fence(), granted.ownerDied());
    }
  }

  @Override
  FutexRing boundRing() {
    return mutex.ring;
  }

  @Override
  String refusalName() {
    return "a lock() request of mutex '" + mutex.name() + "'";
  }

  @Override
  void withdrawn() {
    try {
      mutex.withdraw(this);
    } catch (InternalError fault) {
      // the file shrank under the mapping: fail what is queued (TRUNCATED); never throw from the
      // caller's cancel or timeout
      mutex.regionFaulted(fault);
    }
  }

  /** The lock must not stay with nobody: releasing it hands it on to the next waiter. */
  @Override
  void grantLost(MutexGuard guard) {
    Guard.unlockUnwanted(guard);
  }
}
