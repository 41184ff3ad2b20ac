package dev.ringlock.locks.internal;

import java.util.concurrent.CompletableFuture;

/**
 * A pending request as its caller holds it: the future, and a node of whatever the primitive queues
 * it in. Completing it by any other means than the primitive (cancel, complete,
 * completeExceptionally, and so orTimeout) withdraws it: the caller gave up. The primitive
 * completes it with {@link #settle} and {@link #fail}, which withdraw nothing.
 */
abstract class WithdrawableFuture<T> extends CompletableFuture<T> {
  /** The caller completed the request before the primitive did: take it out of the queue. */
  abstract void withdrawn();

  /** Completes it from inside the primitive; false if the caller completed it first. */
  final boolean settle(T value) {
    return super.complete(value);
  }

  /** Fails it from inside the primitive (timeout, closed region or ring). */
  final boolean fail(Throwable failure) {
    return super.completeExceptionally(failure);
  }

  @Override
  public boolean cancel(boolean mayInterruptIfRunning) {
    return withdrawnIf(super.cancel(mayInterruptIfRunning));
  }

  @Override
  public boolean complete(T value) {
    return withdrawnIf(super.complete(value));
  }

  @Override
  public boolean completeExceptionally(Throwable failure) {
    return withdrawnIf(super.completeExceptionally(failure));
  }

  private boolean withdrawnIf(boolean completedByCaller) {
    if (completedByCaller) {
      withdrawn();
    }
    return completedByCaller;
  }
}
