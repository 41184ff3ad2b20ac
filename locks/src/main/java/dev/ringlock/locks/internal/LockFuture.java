package dev.ringlock.locks.internal;

import dev.ringlock.core.FutexRing;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.internal.jfr.ContendedAcquisitionEvent;
import dev.ringlock.locks.internal.jfr.LockEvents;

/** A pending lock request of a {@link MutexCore}; see {@link QueuedRequest}. */
final class LockFuture extends QueuedRequest<MutexGuard, LockFuture> {
  final MutexCore mutex;
  final long queuedAt; // System.nanoTime() when queued: its age decides starvation

  LockFuture(MutexCore mutex, long deadline, long timeoutNanos, long queuedAt) {
    super(deadline, timeoutNanos);
    this.mutex = mutex;
    this.queuedAt = queuedAt;
    ContendedAcquisitionEvent event =
        LockEvents.beginContended(mutex.name, MutexOwnership.TYPE_NAME, "lock", 0);
    if (event != null) {
      event.ownerPidAtStart = mutex.ownerPid();
    }
    timeContention(event);
  }

  @Override
  void recordGrant(ContendedAcquisitionEvent event, MutexGuard guard) {
    if (guard instanceof Guard granted && guard.mutex() == mutex) {
      event.granted(granted.fence(), granted.ownerDied());
    }
  }

  /** A mutex's acquisitions are its fence: only the contention is counted here. */
  @Override
  void countGrant(long waitedNanos, MutexGuard guard) {
    // The guard counted the acquisition in this view (MutexCore.newGuard): published with it
    mutex.stats.contendedGrant(waitedNanos, false);
    mutex.stats.publish();
  }

  /** A thread blocked in join() may run the queue's kernel wait (QueuedPrimitive.joinHere). */
  @Override
  QueuedPrimitive<LockFuture> primitive() {
    return mutex;
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
