package dev.ringlock.locks.internal;

import dev.ringlock.locks.internal.jfr.ContendedAcquisitionEvent;

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
  // Unlinked for a grant of grantValue that may not be delivered yet: a withdrawal that finds it
  // gives the value back itself, so that nothing is held for the request once cancel() returns.
  private boolean grantInFlight;
  private T grantValue;

  final long timeoutNanos; // the caller's time limit, for the timeout message; -1 if not known

  // The JFR event timing this wait (a contended acquisition); null unless a recording enabled it
  // when the request was made. leftQueue is written under the owner's monitor, read by the thread
  // that completes the request, after the completion that publishes it.
  private ContendedAcquisitionEvent contention;
  private boolean leftQueue;

  /** A request whose timeout message does not state its time limit. */
  QueuedRequest(long deadline) {
    this(deadline, -1);
  }

  QueuedRequest(long deadline, long timeoutNanos) {
    this.deadline = deadline;
    this.timeoutNanos = timeoutNanos;
  }

  /**
   * From a subclass's constructor: times this request's wait with {@code event} (null: no recording
   * wants it). The wait ends when the request leaves the queue ({@link #leftQueue}), where its
   * grant is decided, not after the continuations its completion runs; only a grant commits it.
   */
  final void timeContention(ContendedAcquisitionEvent event) {
    contention = event;
    if (event != null) {
      whenComplete(this::contentionEnded);
    }
  }

  /** Unlinked from its queue, under the owner's monitor: a timed wait ends now. */
  final void leftQueue() {
    if (contention != null) {
      contention.end();
      leftQueue = true;
    }
  }

  /**
   * Commits the timed wait if the request was granted: it left the queue first and completed
   * normally (a caller's complete() withdraws it only after its continuations, this one among them,
   * have run; so it finds leftQueue unset).
   */
  private void contentionEnded(T value, Throwable failure) {
    if (failure == null && leftQueue) {
      recordGrant(contention, value);
    }
  }

  /**
   * What the grant of {@code value} tells the event: a lock's fence and owner death. Default:
   * neither (a semaphore's permits).
   */
  void recordGrant(ContendedAcquisitionEvent event, T value) {
    event.granted(0, false);
  }

  /** "within 250 ms": the caller's time limit, as a timeout message states it. */
  final String withinTimeout() {
    return timeoutNanos < 0 ? "within the timeout" : "within " + Deadlines.describe(timeoutNanos);
  }

  /**
   * Under the owner's monitor, as the request is unlinked for a grant of {@code value}: from now
   * until the grant is delivered, a withdrawal gives {@code value} back (see {@link #grantLost}).
   */
  final void unlinkedForGrant(T value) {
    grantInFlight = true;
    grantValue = value;
  }

  /**
   * Under the owner's monitor, by a withdrawal that found the request unlinked: whether a grant was
   * on its way to it, whose value ({@link #takeGrantValue}) the withdrawal now gives back.
   */
  final boolean grantInFlight() {
    return grantInFlight;
  }

  /** Under the owner's monitor: the in-flight grant's value, taken by the withdrawal (once). */
  final T takeGrantValue() {
    T value = grantValue;
    grantInFlight = false;
    grantValue = null;
    return value;
  }

  /**
   * Completes the request; false if it was withdrawn first (then {@code value} is not its, and the
   * withdrawal gives it back).
   */
  final boolean grant(T value) {
    return settle(value);
  }

  /** Fails the request from inside its owner (timeout, closed region or ring). */
  final void fail(Throwable failure) {
    settleExceptionally(failure);
  }

  /** {@link #grantLost} of a value taken by {@link #takeGrantValue}. */
  @SuppressWarnings("unchecked") // takeGrantValue returned this request's own grant value
  final void giveBack(Object lostValue) {
    grantLost((T) lostValue);
  }

  /**
   * A grant lost the race with the caller's withdrawal: give back what it carried ({@code value},
   * or the permits), which passes it on to the next request. Called by the withdrawal itself, on
   * the thread that cancelled (or completed) the future, before its cancel() returns: so once a
   * cancel has returned true, the request holds nothing, as if it had never been granted.
   */
  abstract void grantLost(T value);
}
