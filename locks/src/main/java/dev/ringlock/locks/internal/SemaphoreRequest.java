package dev.ringlock.locks.internal;

/** A pending acquire of a {@link SemaphoreCore}; see {@link QueuedRequest}. */
final class SemaphoreRequest extends QueuedRequest<Void, SemaphoreRequest> {
  final SemaphoreCore semaphore;
  final int permits;

  SemaphoreRequest(SemaphoreCore semaphore, int permits, long deadline) {
    super(deadline);
    this.semaphore = semaphore;
    this.permits = permits;
  }

  @Override
  void withdrawn() {
    semaphore.withdraw(this);
  }

  /** The permits were taken from the word for this request: they go back, so none is lost. */
  @Override
  void grantLost(Void nothing) {
    semaphore.giveBack(permits);
  }
}
