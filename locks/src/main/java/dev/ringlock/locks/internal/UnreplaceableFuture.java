package dev.ringlock.locks.internal;

import java.util.concurrent.CompletableFuture;

/**
 * A future whose result nobody may replace: obtrudeValue and obtrudeException are refused. The
 * already-completed futures an uncontended lock() and read() (AcquiredFuture, carrying the Guard or
 * the ReadHold) and acquire() (SemaphoreCore) return are such futures: one is shared by every
 * caller, or is the hold itself, and a lock future is refused the same way whichever path made it,
 * so an obtruded result never changes what a caller believes it holds.
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

  /**
   * Completes a future that nobody else can have seen yet (just constructed, not yet returned) with
   * {@code value}: one volatile store of the result, where complete() makes a CAS that only matters
   * when completions race. With no other reference, nothing races it and no dependent waits; and on
   * an object that does not escape, the JIT drops the store's fence with the object.
   */
  final void completeUnseen(T value) {
    super.obtrudeValue(value);
  }

  private UnsupportedOperationException refusal() {
    return new UnsupportedOperationException(kind() + "'s result cannot be replaced");
  }
}
