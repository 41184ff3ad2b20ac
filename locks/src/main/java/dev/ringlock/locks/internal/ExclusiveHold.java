package dev.ringlock.locks.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/*
 * Overview
 *
 * One exclusive acquisition of a lock whose object starts with the exclusive locks' header
 * (LockHeaderDescriptor): a read-write mutex's write hold (WriteHold). The mutex's Guard no longer
 * stands on it: it claims its release on the mapped fence instead of a flag here (Guard's
 * overview); the write hold keeps the flag for now: moving it onto the fence too, downgrade
 * included, is left to the read-write mutex's own pass.
 * It carries what the header gave it, the fence drawn and whether the previous holder died, and
 * the two once-only facts of a hold: released, and marked consistent.
 *
 * Released is claimed with a compare-and-set (claimRelease), so that of two threads that unlock
 * one hold at once (or an unlock racing a try-with-resources close), exactly one releases the
 * lock: a second release of the word would free a hold that another process has taken since,
 * which no check of the word can tell apart (the word names a process, not an acquisition).
 * markedConsistent is written only by the holder, before its release; it is volatile so that
 * toString on another thread reads it whole.
 *
 * It is also the already-completed future an uncontended acquisition returns, completed with
 * itself: one allocation instead of a hold and a future on the path that must be cheapest. A hold
 * handed to a queued request is not used as a future.
 */
/** One exclusive acquisition: its fence, owner death, and once-only release; see the source. */
abstract class ExclusiveHold<G> extends UnreplaceableFuture<G> {
  private static final VarHandle RELEASED;

  static {
    try {
      RELEASED =
          MethodHandles.lookup().findVarHandle(ExclusiveHold.class, "released", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final long fence;
  private final boolean ownerDied;
  private volatile boolean released;
  private volatile boolean markedConsistent; // only the holder writes it

  ExclusiveHold(long fence, boolean ownerDied) {
    this.fence = fence;
    this.ownerDied = ownerDied;
  }

  @Override
  final String kind() {
    return "a lock future";
  }

  /** The fence drawn by this acquisition. */
  public final long fence() {
    return fence;
  }

  /** Whether this acquisition took the lock over from a holder that died. */
  public final boolean ownerDied() {
    return ownerDied;
  }

  /** Marks the state the dead holder left repaired, once; refused after the release. */
  public final void markConsistent() {
    if (released) {
      throw alreadyReleased();
    }
    if (ownerDied && !markedConsistent) {
      markLockConsistent();
      markedConsistent = true;
    }
  }

  /** Released now, the lock would be left with state nobody repaired: it becomes unrecoverable. */
  final boolean leavesInconsistent() {
    return ownerDied && !markedConsistent;
  }

  /** Whether this hold was released (or downgraded). */
  final boolean isReleased() {
    return released;
  }

  /**
   * Claims the release of this hold: true for exactly one caller, however many threads race (see
   * the overview).
   */
  final boolean claimRelease() {
    return RELEASED.compareAndSet(this, false, true);
  }

  /** Clears the lock's OWNER_DIED: the holder has repaired the state. */
  abstract void markLockConsistent();

  /** The refusal of a second release, naming the lock and this hold's fence. */
  abstract IllegalStateException alreadyReleased();

  /** The hold's state for toString: its fence, owner death, release. */
  final String describeHold() {
    return ", fence "
        + fence
        + (ownerDied ? (markedConsistent ? ", owner died, marked consistent" : ", owner died") : "")
        + (released ? ", released" : "");
  }
}
