package dev.ringlock.locks.internal;

import java.util.Objects;
import java.util.concurrent.TimeUnit;

/*
 * Overview
 *
 * The already-completed future of an uncontended acquisition, apart from the hold it carries, so
 * that the hold needs no CompletableFuture state and no completing CAS (Guard's overview). Built
 * and completed (completeUnseen) in its constructor, before anyone else sees it: a real, completed
 * CompletableFuture for every method (thenApply, allOf, whenComplete... read the result the
 * completion stored).
 *
 * Why it also keeps the hold in a final field of its own, and answers join(), get(), getNow(),
 * resultNow() and isDone() from it: that is what lets the JIT scalar-replace the hold in a
 * caller's inlined {@code lock().join()} ... {@code unlock()}. Measured (C2, Temurin 25; the notes
 * in bench/README.md): read back through CompletableFuture's own join(), the hold was allocated
 * (32 B) even in a caller that inlined every call; join() reads the volatile `result` and then,
 * in code that is never reached for a completed
 * future, hands `this` to waitingGet and the value to reportJoin, and escape analysis (which does
 * not know the branch is dead) lets the stored value escape. A plain final field read instead
 * folds to the value the constructor stored: nothing escapes, and the same loop allocates 0 B
 * (where C2 does not inline lock() at all, both objects are allocated: Guard's overview). The
 * completion is still made, so the two answers agree for good: the result can never change
 * (obtrude is refused, UnreplaceableFuture) and the future is done before it is returned.
 */
/** The completed future of an uncontended acquisition (see the overview in the source). */
final class AcquiredFuture<T> extends UnreplaceableFuture<T> {
  private final T value; // the result, also stored as the completion's: never null

  /**
   * @param value the hold, the future's result
   */
  AcquiredFuture(T value) {
    this.value = value;
    completeUnseen(value);
  }

  /** Only a lock() returns one; a field for the name would cost every acquisition 4 bytes. */
  @Override
  String kind() {
    return "a lock future";
  }

  @Override
  public T join() {
    return value;
  }

  @Override
  public T get() {
    return value;
  }

  @Override
  public T get(long timeout, TimeUnit unit) {
    Objects.requireNonNull(unit, "unit"); // as CompletableFuture.get refuses it
    return value;
  }

  @Override
  public T getNow(T valueIfAbsent) {
    return value;
  }

  @Override
  public T resultNow() {
    return value;
  }

  @Override
  public boolean isDone() {
    return true;
  }
}
