package dev.ringlock.locks.internal;

import dev.ringlock.core.FutexRing;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.internal.jfr.ContendedAcquisitionEvent;
import dev.ringlock.locks.internal.jfr.LockEvents;

/** A pending lock request of a {@link MutexCore}; see {@link QueuedRequest}. */
final class LockFuture extends QueuedRequest<MutexGuard, LockFuture> {
  final MutexCore mutex;

  // Its age, which decides starvation, is requestedAt(): made when it queued. One clock read per
  // request, not two: System.nanoTime() costs about 100 ns on a VM without a stable TSC.
  LockFuture(MutexCore mutex, long deadline, long timeoutNanos) {
    super(deadline, timeoutNanos);
    this.mutex = mutex;
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

  /**
   * A mutex's acquisitions are its fence: only the contention is counted here, in the view (two
   * heap atomics, not three on the mapped line: ObjectStats.countContendedInView). The view
   * publishes it, with the acquisitions the guards counted, when the queue is empty (so a quiet
   * mutex's counters are exact once its last request is granted) or every PUBLISH_EVERY grants.
   */
  @Override
  void countGrant(long waitedNanos, MutexGuard guard) {
    if (mutex.stats.countContendedInView(waitedNanos) || mutex.queue.length() == 0) {
      mutex.stats.publish();
    }
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
