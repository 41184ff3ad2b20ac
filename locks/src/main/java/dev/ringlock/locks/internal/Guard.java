package dev.ringlock.locks.internal;

import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.RegionClosedException;

/**
 * One acquisition of a mutex; releasing it twice is refused (ExclusiveHold: fence, owner death, the
 * once-only release, and why the hold is also the future an uncontended {@code lock()} returns).
 */
final class Guard extends ExclusiveHold<MutexGuard> implements MutexGuard {
  private final MutexCore mutex;

  Guard(MutexCore mutex, long fence, boolean ownerDied) {
    super(fence, ownerDied);
    this.mutex = mutex;
  }

  /** Completes this guard, as a future, with itself: the result of an uncontended lock(). */
  Guard asCompletedFuture() {
    super.complete(this);
    return this;
  }

  @Override
  public Mutex mutex() {
    return mutex;
  }

  @Override
  void markLockConsistent() {
    mutex.markConsistent();
  }

  @Override
  public void unlock() {
    if (!claimRelease()) {
      throw alreadyReleased();
    }
    mutex.release(this);
  }

  @Override
  IllegalStateException alreadyReleased() {
    return new IllegalStateException(
        "this guard of mutex '" + mutex.name() + "' (fence " + fence() + ") was already unlocked");
  }

  /**
   * As unlock(), but a no-op once this guard was released: AutoCloseable asks close() to be
   * idempotent, so {@code try (guard) { ...; guard.unlock(); }} must not throw at the closing
   * brace. The claim is the one unlock() makes, so a close racing an unlock releases once.
   */
  @Override
  public void close() {
    if (claimRelease()) {
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
    return "MutexGuard[" + mutex.name() + describeHold() + "]";
  }
}
