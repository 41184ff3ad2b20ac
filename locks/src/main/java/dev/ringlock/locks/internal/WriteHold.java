package dev.ringlock.locks.internal;

import dev.ringlock.locks.ReadGuard;
import dev.ringlock.locks.WriteGuard;

/**
 * The exclusive hold of a read-write mutex; releasing (or downgrading) it twice is refused
 * (ExclusiveHold: fence, owner death, the once-only release, and why the hold is also the future an
 * uncontended {@code write()} returns).
 */
final class WriteHold extends ExclusiveHold<WriteGuard> implements WriteGuard {
  private final ReadWriteMutexCore lock;

  WriteHold(ReadWriteMutexCore lock, long fence, boolean ownerDied) {
    super(fence, ownerDied);
    this.lock = lock;
  }

  /** Completes this hold, as a future, with itself: the result of an uncontended write(). */
  WriteHold asCompletedFuture() {
    super.complete(this);
    return this;
  }

  /** The lock this holds (a contended acquisition's record checks what it was granted). */
  ReadWriteMutexCore lock() {
    return lock;
  }

  @Override
  void markLockConsistent() {
    lock.markConsistent();
  }

  @Override
  public void unlock() {
    if (!claimRelease()) {
      throw alreadyReleased();
    }
    release();
  }

  /**
   * As unlock(), but a no-op once this hold was released or downgraded: AutoCloseable asks close()
   * to be idempotent, so {@code try (guard) { ...; guard.unlock(); }} (or a downgrade inside the
   * block) must not throw at the closing brace. The claim is the one unlock() and downgrade() make,
   * so a close racing either releases once.
   */
  @Override
  public void close() {
    if (claimRelease()) {
      release();
    }
  }

  /** The release itself, once this caller has claimed it. */
  private void release() {
    boolean leavesNotRecoverable = leavesInconsistent(); // only the holder marks it consistent
    lock.releaseWrite(this);
    if (leavesNotRecoverable) {
      lock.recordNotRecoverable(fence(), "unlock");
    }
  }

  @Override
  public ReadGuard downgrade() {
    if (leavesInconsistent() && !isReleased()) {
      throw new IllegalStateException(
          "this write guard of read-write mutex '"
              + lock.name()
              + "' took over from a writer that died: repair the state and markConsistent()"
              + " before downgrading, or unlock it");
    }
    if (isReleased()) {
      throw alreadyReleased();
    }
    lock.ensureSlot(); // first: a process refused a reader record keeps its write hold
    if (!claimRelease()) {
      throw alreadyReleased();
    }
    return lock.downgrade();
  }

  @Override
  IllegalStateException alreadyReleased() {
    return new IllegalStateException(
        "this write guard of read-write mutex '"
            + lock.name()
            + "' (fence "
            + fence()
            + ") was already unlocked or downgraded");
  }

  @Override
  public String toString() {
    return "WriteGuard[" + lock.name() + describeHold() + "]";
  }
}
