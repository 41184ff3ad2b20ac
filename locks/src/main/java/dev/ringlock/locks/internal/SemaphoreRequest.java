package dev.ringlock.locks.internal;

import dev.ringlock.core.FutexRing;
import dev.ringlock.locks.internal.jfr.LockEvents;

/** A pending acquire of a {@link SemaphoreCore}; see {@link QueuedRequest}. */
final class SemaphoreRequest extends QueuedRequest<Void, SemaphoreRequest> {
  final SemaphoreCore semaphore;
  final int permits;

  SemaphoreRequest(SemaphoreCore semaphore, int permits, long deadline, long timeoutNanos) {
    super(deadline, timeoutNanos);
    this.semaphore = semaphore;
    this.permits = permits;
    timeContention(
        LockEvents.beginContended(
            semaphore.name(), ObjectType.name(ObjectType.SEMAPHORE), "acquire", permits));
  }

  @Override
  void countGrant(long waitedNanos, Void nothing) {
    semaphore.stats.contendedGrant(waitedNanos, true);
  }

  /** A thread blocked in join() may run the queue's kernel wait (QueuedPrimitive.joinHere). */
  @Override
  QueuedPrimitive<SemaphoreRequest> primitive() {
    return semaphore;
  }

  @Override
  FutexRing boundRing() {
    return semaphore.sleeper.ring();
  }

  @Override
  String refusalName() {
    return "an acquire(" + permits + ") request of semaphore '" + semaphore.name() + "'";
  }

  @Override
  void withdrawn() {
    try {
      semaphore.withdraw(this);
    } catch (InternalError fault) {
      // the file shrank under the mapping: fail what is queued (TRUNCATED); never throw from the
      // caller's cancel or timeout
      semaphore.regionFaulted(fault);
    }
  }

  /** The permits were taken from the word for this request: they go back, so none is lost. */
  @Override
  void grantLost(Void nothing) {
    semaphore.giveBack(permits);
  }
}
