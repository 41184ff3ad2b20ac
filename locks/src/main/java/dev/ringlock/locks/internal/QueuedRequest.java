package dev.ringlock.locks.internal;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * A pending request of a lock or semaphore: the future its caller holds, and a node of its owner's
 * in-process {@link RequestQueue}, so a queued request allocates nothing else. Completing it by any
 * other means than a grant (cancel, complete, completeExceptionally, and so orTimeout) withdraws it
 * from the queue.
 *
 * @param <T> what a grant completes it with
 * @param <R> the concrete request type: the queue links requests of one type
 */
abstract class QueuedRequest<T, R extends QueuedRequest<T, R>> extends CompletableFuture<T> {
  static final long NO_DEADLINE = Long.MAX_VALUE;

  // ~146 years: a longer timeout is this one, so that nanoTime() + timeout cannot overflow
  private static final Duration LONGEST_TIMEOUT = Duration.ofNanos(1L << 62);

  final long deadline; // System.nanoTime() by which to fail with TimeoutException, or NO_DEADLINE

  // guarded by the owner's monitor
  R previous;
  R next;
  boolean queued;

  QueuedRequest(long deadline) {
    this.deadline = deadline;
  }

  /**
   * The deadline, in System.nanoTime() terms, of a request that may wait {@code timeout}.
   *
   * @throws IllegalArgumentException if the timeout is negative
   */
  static long deadlineAfter(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must not be negative: " + timeout);
    }
    long nanos =
        timeout.compareTo(LONGEST_TIMEOUT) >= 0 ? LONGEST_TIMEOUT.toNanos() : timeout.toNanos();
    return System.nanoTime() + nanos;
  }

  /** Completes the request; false if it was withdrawn first (then {@code value} is not its). */
  final boolean grant(T value) {
    return super.complete(value);
  }

  /** Fails the request from inside its owner (timeout, closed region or ring). */
  final void fail(Throwable failure) {
    super.completeExceptionally(failure);
  }

  /** The caller completed this request: its owner takes it out of the queue. */
  abstract void withdraw();

  /**
   * A grant lost the race with the caller's withdrawal: give back what it carried ({@code value},
   * or the permits), which passes it on to the next request.
   */
  abstract void grantLost(T value);

  @Override
  public final boolean cancel(boolean mayInterruptIfRunning) {
    return withdrawnIf(super.cancel(mayInterruptIfRunning));
  }

  @Override
  public final boolean complete(T value) {
    return withdrawnIf(super.complete(value));
  }

  @Override
  public final boolean completeExceptionally(Throwable failure) {
    return withdrawnIf(super.completeExceptionally(failure));
  }

  private boolean withdrawnIf(boolean completedByCaller) {
    if (completedByCaller) {
      withdraw();
    }
    return completedByCaller;
  }
}
