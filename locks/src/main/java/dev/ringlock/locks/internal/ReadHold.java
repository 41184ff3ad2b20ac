package dev.ringlock.locks.internal;

import dev.ringlock.locks.ReadGuard;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;

/**
 * One shared hold of a read-write mutex; releasing it twice is refused. Like the mutex's Guard, it
 * is also the already-completed future an uncontended {@code read()} returns.
 */
final class ReadHold extends CompletableFuture<ReadGuard> implements ReadGuard {
  private static final VarHandle RELEASED;

  static {
    try {
      RELEASED = MethodHandles.lookup().findVarHandle(ReadHold.class, "released", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final ReadWriteMutexCore lock;
  private volatile boolean released;

  ReadHold(ReadWriteMutexCore lock) {
    this.lock = lock;
  }

  /** Completes this hold, as a future, with itself: the result of an uncontended read(). */
  ReadHold asCompletedFuture() {
    super.complete(this);
    return this;
  }

  /** The lock this holds (a contended acquisition's record checks what it was granted). */
  ReadWriteMutexCore lock() {
    return lock;
  }

  @Override
  public void obtrudeValue(ReadGuard value) {
    throw new UnsupportedOperationException("a lock future's result cannot be replaced");
  }

  @Override
  public void obtrudeException(Throwable failure) {
    throw new UnsupportedOperationException("a lock future's result cannot be replaced");
  }

  @Override
  public void unlock() {
    if (!RELEASED.compareAndSet(this, false, true)) {
      throw new IllegalStateException(
          "this read guard of read-write mutex '" + lock.name() + "' was already unlocked");
    }
    lock.releaseRead();
  }

  /**
   * As unlock(), but a no-op once this guard was released: AutoCloseable asks close() to be
   * idempotent, so {@code try (guard) { ...; guard.unlock(); }} must not throw at the closing
   * brace. The claim is the one unlock() makes, so a close racing an unlock releases once.
   */
  @Override
  public void close() {
    if (RELEASED.compareAndSet(this, false, true)) {
      lock.releaseRead();
    }
  }

  @Override
  public String toString() {
    return "ReadGuard[" + lock.name() + (released ? ", released" : "") + "]";
  }
}
