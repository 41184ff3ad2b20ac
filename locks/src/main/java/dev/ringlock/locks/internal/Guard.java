package dev.ringlock.locks.internal;

import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.RegionClosedException;
import java.util.concurrent.CompletableFuture;

/*
 * Overview
 *
 * One acquisition of a mutex: the fence it drew, whether it took the mutex over from a dead owner,
 * and whether that state was marked consistent. It holds no atomic of its own, on purpose.
 *
 * The once-only release is claimed in the mapping, not on this object (MutexOwnership.
 * releaseHold): one 64-bit CAS of the mutex's word and the hold tag beside it (the low half of the
 * fence this guard drew), from "this process holds, the tag is this guard's" to "free, tag + 1". Only
 * a holder writes the tag and the fence, so while this guard holds they are exactly its own; the
 * first release moves the tag on for good, so of two threads that unlock one guard at once (or an
 * unlock racing a try-with-resources close) exactly one CAS succeeds, and a guard released long
 * ago finds a larger fence, whoever holds the mutex now, in any process (MutexOwnership's overview
 * says what the tag's 32 bits allow after 2^32 acquisitions). The same CAS frees the word and
 * reads WAITERS: the uncontended path makes two atomics (the word's CAS, the release's CAS), as
 * ReentrantLock does, where it made three (the word's CAS, the fence's claim CAS, the word's
 * getAndSet), and no CAS touches a heap object.
 *
 * That is what lets the JIT scalar-replace the guard: with the flag's CAS on it and the guard
 * being the returned future (CompletableFuture.complete, a CAS), every acquisition allocated 40
 * bytes; now an inlined {@code tryLock()} ... {@code unlock()} allocates nothing. The future an
 * uncontended lock() returns is a separate AcquiredFuture, completed with one volatile store
 * (completeUnseen) instead of complete()'s CAS, which answers join() from a final field of its
 * own: read back through CompletableFuture.join() the guard escaped (32 bytes), read from that
 * field it does not, and an inlined {@code lock().join()} ... {@code unlock()} allocates nothing
 * either (AcquiredFuture's overview). "Inlined" is C2's call: it does not inline a method already
 * compiled on its own to more than InlineSmallCode bytes (2,500), and lock() with the region's
 * work inlined in it was over 3 KB, so a caller compiled after lock() (JMH's benchmark method) paid
 * the guard and the future, 56 bytes. That work is now out of line (MutexCore.bargeAndDraw, which
 * says how C2 is kept from inlining it): lock() compiles to about 0.7 KB and such a caller
 * allocates nothing (MutexReleaseClaimTest; bench/README.md). unlock() compiled must stay under
 * that size too, or every caller allocates the guard, tryLock()'s included: the release's slow
 * parts are out of line for that (MutexOwnership.releaseHoldAgain, MutexCore.releaseAfterClose).
 *
 * `released` is a plain hint written by the thread whose claim won: it lets unlock() and close()
 * answer after the region closed (the fence went with the mapping) and toString say released.
 * While the region is open nothing decides on it: unlock() always makes the claim, which fails for
 * a released guard.
 */
/** One acquisition of a mutex; releasing it twice is refused (see the overview in the source). */
final class Guard implements MutexGuard {
  private final MutexCore mutex;
  private final long fence;
  private final boolean ownerDied;
  private boolean released; // a hint only: see the overview
  private volatile boolean markedConsistent; // only the holder writes it; volatile for toString

  Guard(MutexCore mutex, long fence, boolean ownerDied) {
    this.mutex = mutex;
    this.fence = fence;
    this.ownerDied = ownerDied;
  }

  /** The already-completed future of an uncontended lock(), carrying this guard (overview). */
  CompletableFuture<MutexGuard> asCompletedFuture() {
    return new AcquiredFuture<>(this);
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
    if (!mutex.holdsFence(this)) {
      throw alreadyReleased();
    }
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
    if (!mutex.release(this)) {
      throw alreadyReleased();
    }
  }

  /**
   * As unlock(), but a no-op once this guard was released: AutoCloseable asks close() to be
   * idempotent, so {@code try (guard) { ...; guard.unlock(); }} must not throw at the closing
   * brace. The claim is the one unlock() makes, so a close racing an unlock releases once.
   */
  @Override
  public void close() {
    mutex.release(this);
  }

  /** Whether this process released this guard, as far as this thread saw (a hint: overview). */
  boolean releasedHere() {
    return released;
  }

  /** Called by the thread whose claim on the fence succeeded, before it touches the word. */
  void claimed() {
    released = true;
  }

  IllegalStateException alreadyReleased() {
    return new IllegalStateException(
        "this guard of mutex '" + mutex.name() + "' (fence " + fence + ") was already unlocked");
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
