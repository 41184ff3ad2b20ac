package dev.ringlock.locks.internal;

import java.util.concurrent.CompletableFuture;

/**
 * A future whose result nobody may replace: obtrudeValue and obtrudeException are refused. The
 * already-completed futures an uncontended lock() (Guard) and acquire() (SemaphoreCore) return are
 * such futures: one is shared by every caller, or is the guard itself, so an obtruded result would
 * change what the lock or the permits are.
 */
abstract class UnreplaceableFuture<T> extends CompletableFuture<T> {
  /** How the refusal names this future, e.g. {@code "a lock future"}. */
  abstract String kind();

  @Override
  public final void obtrudeValue(T value) {
    throw refusal();
  }

  @Override
  public final void obtrudeException(Throwable failure) {
    throw refusal();
  }

  private UnsupportedOperationException refusal() {
    return new UnsupportedOperationException(kind() + "'s result cannot be replaced");
  }
}
