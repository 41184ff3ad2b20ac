package dev.ringlock.locks.internal;

import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.RegionClosedException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One acquisition of a mutex; releasing it twice is refused.
 *
 * <p>It is also the already-completed future an uncontended {@code lock()} returns, completed with
 * itself: one allocation instead of a guard and a future on the path that must be cheapest. A guard
 * handed to a queued request is not used as a future.
 */
final class Guard extends UnreplaceableFuture<MutexGuard> implements MutexGuard {
  private static final VarHandle RELEASED;

  static {
    try {
      RELEASED = MethodHandles.lookup().findVarHandle(Guard.class, "released", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final MutexCore mutex;
  private final long fence;
  private final boolean ownerDied;
  private volatile boolean released;
  private volatile boolean markedConsistent; // only the holder writes it

  Guard(MutexCore mutex, long fence, boolean ownerDied) {
    this.mutex = mutex;
    this.fence = fence;
    this.ownerDied = ownerDied;
  }

  /** Completes this guard, as a future, with itself: the result of an uncontended lock(). */
  Guard asCompletedFuture() {
    super.complete(this);
    return this;
  }

  @Override
  String kind() {
    return "a lock future";
  }

  @Override
  public Mutex mutex() {
    return mutex;
  }

  @Override
  public long fence() {
    return fence;
  }

  @Override
  public boolean ownerDied() {
    return ownerDied;
  }

  @Override
  public void markConsistent() {
    checkNotReleased();
    if (ownerDied && !markedConsistent) {
      mutex.markConsistent();
      markedConsistent = true;
    }
  }

  /** Released now, the mutex would be left with state nobody repaired: it becomes unrecoverable. */
  boolean leavesInconsistent() {
    return ownerDied && !markedConsistent;
  }

  @Override
  public void unlock() {
    if (!RELEASED.compareAndSet(this, false, true)) {
      throw alreadyUnlocked();
    }
    mutex.release(this);
  }

  private void checkNotReleased() {
    if (released) {
      throw alreadyUnlocked();
    }
  }

  private IllegalStateException alreadyUnlocked() {
    return new IllegalStateException(
        "this guard of mutex '" + mutex.name() + "' (fence " + fence + ") was already unlocked");
  }

  /**
   * As unlock(), but a no-op once this guard was released: AutoCloseable asks close() to be
   * idempotent, so {@code try (guard) { ...; guard.unlock(); }} must not throw at the closing
   * brace. The compare-and-set is the one unlock() uses, so a close racing an unlock releases once.
   */
  @Override
  public void close() {
    if (RELEASED.compareAndSet(this, false, true)) {
      mutex.release(this);
    }
  }

  /**
   * Unlocks a guard granted to a request that was withdrawn meanwhile: nothing may stay held by
   * nobody. A closed region has released it already.
   */
  static void unlockUnwanted(MutexGuard guard) {
    try {
      guard.unlock();
    } catch (RegionClosedException e) {
      // closing the region released the lock already
    }
  }

  @Override
  public String toString() {
    return "MutexGuard["
        + mutex.name()
        + ", fence "
        + fence
        + (ownerDied ? (markedConsistent ? ", owner died, marked consistent" : ", owner died") : "")
        + (released ? ", released" : "")
        + "]";
  }
}
