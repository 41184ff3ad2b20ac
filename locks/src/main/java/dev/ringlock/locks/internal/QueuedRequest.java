package dev.ringlock.locks.internal;

/**
 * A pending request of a lock or semaphore: the future its caller holds, and a node of its owner's
 * in-process {@link RequestQueue}, so a queued request allocates nothing else. Completing it by any
 * other means than a grant (cancel, complete, completeExceptionally, and so orTimeout) withdraws it
 * from the queue ({@link WithdrawableFuture}).
 *
 * @param <T> what a grant completes it with
 * @param <R> the concrete request type: the queue links requests of one type
 */
abstract class QueuedRequest<T, R extends QueuedRequest<T, R>> extends WithdrawableFuture<T> {
  final long
      deadline; // System.nanoTime() by which to fail with TimeoutException, or Deadlines.NONE

  // guarded by the owner's monitor
  R previous;
  R next;
  boolean queued;

  final long timeoutNanos; // the caller's time limit, for the timeout message; -1 if not known

  /** A request whose timeout message does not state its time limit. */
  QueuedRequest(long deadline) {
    this(deadline, -1);
  }

  QueuedRequest(long deadline, long timeoutNanos) {
    this.deadline = deadline;
    this.timeoutNanos = timeoutNanos;
  }

  /** "within 250 ms": the caller's time limit, as a timeout message states it. */
  final String withinTimeout() {
    return timeoutNanos < 0 ? "within the timeout" : "within " + Deadlines.describe(timeoutNanos);
  }

  /** Completes the request; false if it was withdrawn first (then {@code value} is not its). */
  final boolean grant(T value) {
    return settle(value);
  }

  /** Fails the request from inside its owner (timeout, closed region or ring). */
  final void fail(Throwable failure) {
    settleExceptionally(failure);
  }

  /**
   * A grant lost the race with the caller's withdrawal: give back what it carried ({@code value},
   * or the permits), which passes it on to the next request.
   */
  abstract void grantLost(T value);
}
