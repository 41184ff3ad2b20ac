package dev.ringlock.locks.internal;

import dev.ringlock.locks.ReadGuard;
import dev.ringlock.locks.WriteGuard;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;

/**
 * The exclusive hold of a read-write mutex; releasing (or downgrading) it twice is refused. It is
 * also the already-completed future an uncontended {@code write()} returns.
 */
final class WriteHold extends CompletableFuture<WriteGuard> implements WriteGuard {
  private static final VarHandle RELEASED;

  static {
    try {
      RELEASED = MethodHandles.lookup().findVarHandle(WriteHold.class, "released", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final ReadWriteMutexCore lock;
  private final long fence;
  private final boolean ownerDied;
  private volatile boolean released;
  private volatile boolean markedConsistent; // only the holder writes it

  WriteHold(ReadWriteMutexCore lock, long fence, boolean ownerDied) {
    this.lock = lock;
    this.fence = fence;
    this.ownerDied = ownerDied;
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
  public void obtrudeValue(WriteGuard value) {
    throw new UnsupportedOperationException("a lock future's result cannot be replaced");
  }

  @Override
  public void obtrudeException(Throwable failure) {
    throw new UnsupportedOperationException("a lock future's result cannot be replaced");
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
    if (released) {
      throw alreadyReleased();
    }
    if (ownerDied && !markedConsistent) {
      lock.markConsistent();
      markedConsistent = true;
    }
  }

  /** Released now, the lock would be left with state nobody repaired: it becomes unrecoverable. */
  boolean leavesInconsistent() {
    return ownerDied && !markedConsistent;
  }

  @Override
  public void unlock() {
    if (!RELEASED.compareAndSet(this, false, true)) {
      throw alreadyReleased();
    }
    boolean leavesNotRecoverable = leavesInconsistent(); // only the holder marks it consistent
    lock.releaseWrite(this);
    if (leavesNotRecoverable) {
      lock.recordNotRecoverable(fence, "unlock");
    }
  }

  @Override
  public void close() {
    unlock();
  }

  @Override
  public ReadGuard downgrade() {
    if (leavesInconsistent() && !released) {
      throw new IllegalStateException(
          "this write guard of read-write mutex '"
              + lock.name()
              + "' took over from a writer that died: repair the state and markConsistent()"
              + " before downgrading, or unlock it");
    }
    if (released) {
      throw alreadyReleased();
    }
    lock.ensureSlot(); // first: a process refused a reader record keeps its write hold
    if (!RELEASED.compareAndSet(this, false, true)) {
      throw alreadyReleased();
    }
    return lock.downgrade();
  }

  private IllegalStateException alreadyReleased() {
    return new IllegalStateException(
        "this write guard of read-write mutex '"
            + lock.name()
            + "' (fence "
            + fence
            + ") was already unlocked or downgraded");
  }

  @Override
  public String toString() {
    return "WriteGuard["
        + lock.name()
        + ", fence "
        + fence
        + (ownerDied ? (markedConsistent ? ", owner died, marked consistent" : ", owner died") : "")
        + (released ? ", released" : "")
        + "]";
  }
}
