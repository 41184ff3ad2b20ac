package dev.ringlock.locks.internal;

/**
 * The future of a pending request that is also the request: completing it by any other means than
 * its owner's {@link #settle} ({@code cancel}, {@code complete}, {@code completeExceptionally}, and
 * so {@code orTimeout}) withdraws the request, once, on the thread that completed it.
 */
abstract class WithdrawableFuture<T> extends RingBoundFuture<T> {
  /** The caller completed the future first: take the request back. */
  abstract void withdrawn();

  /** Completes as the request's owner, withdrawing nothing; false if the caller was first. */
  final boolean settle(T value) {
    return super.complete(value);
  }

  /** Fails as the request's owner, withdrawing nothing; false if the caller was first. */
  final boolean settleExceptionally(Throwable failure) {
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
