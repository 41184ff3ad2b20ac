package dev.ringlock.locks.internal;

import dev.ringlock.core.FutexRing;
import dev.ringlock.locks.internal.jfr.ContendedAcquisitionEvent;
import dev.ringlock.locks.internal.jfr.LockEvents;

/** A pending acquire of a {@link SemaphoreCore}; see {@link QueuedRequest}. */
final class SemaphoreRequest extends QueuedRequest<Void, SemaphoreRequest>
    implements ContendedRequest {
  final SemaphoreCore semaphore;
  final int permits;

  // The JFR event timing this wait; null unless a recording enabled it when the request was made
  private final ContendedAcquisitionEvent contention;
  private boolean leftQueue; // written under the semaphore's monitor, read by the granting thread

  SemaphoreRequest(SemaphoreCore semaphore, int permits, long deadline, long timeoutNanos) {
    super(deadline, timeoutNanos);
    this.semaphore = semaphore;
    this.permits = permits;
    this.contention =
        LockEvents.beginContended(
            semaphore.name(), ObjectType.name(ObjectType.SEMAPHORE), "acquire", permits);
    if (contention != null) {
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
   * Commits the contended acquisition if this request was granted: it completed normally after
   * leaving the queue. A caller's complete(null) withdraws it only after its continuations, this
   * one among them, have run, so it finds leftQueue unset; only a caller's complete racing a grant
   * already decided can record a wait whose permits were then given back.
   */
  private void completed(Void nothing, Throwable failure) {
    if (failure == null && leftQueue) {
      contention.granted(0, false);
    }
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
