package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.MARKS;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.OWNER_DIED;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.PENDING;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.WAITERS;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.WRITE;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.afterDeathOf;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.notRecoverable;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.writerOf;

import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexScope;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.ReadGuard;
import dev.ringlock.locks.internal.jfr.LockEvents;

/*
 * Overview
 *
 * The writer's side of a read-write mutex word: every way the word becomes this process's (a free
 * word taken on the fast path, a dead writer's taken over by tryWrite, a pending claim given
 * back) or changes hands to a reader (downgrade), the fence each new holder draws, and owner death
 * as the word records it (recordWriterDeath, markConsistent). The protocol is in
 * ReadWriteMutexCore's overview; ReadWriteDecisions stands on this class and decides when the
 * queue's writer claims, and ReaderRecords below it holds the records a claimant waits for.
 *
 * It is a class of its own so that what a word transition is stays apart from when one is made
 * (as MutexOwnership for the mutex); a superclass rather than a field so that the uncontended
 * write (tryWriteFree) calls it with no object between.
 *
 * `writeHeld` is volatile: a WriteHold of this object holds the word; written by whoever takes or
 * frees the word, read by close and by the decisions. claimedFor and claimOwnerDied are guarded by
 * the monitor (QueuedPrimitive's rule); a damaged fence (nextFence) drops the claim wherever it is
 * found, since the word is given back with it.
 */
/** The writer's transitions of a read-write mutex word; see the overview in the source. */
abstract sealed class WriterOwnership extends ReaderRecords permits ReadWriteDecisions {
  /** The type as events and messages name it. */
  static final String TYPE_NAME = ObjectType.name(ObjectType.READ_WRITE_MUTEX);

  volatile boolean writeHeld; // a WriteHold of this object holds the word

  // ---- guarded by this ----
  ReadWriteRequest claimedFor; // the queued writer whose claim is in the word, pending
  boolean claimOwnerDied; // that claim took over from a dead writer
  int claimDeadPid; // the dead writer it took over from, if the word still named it; else 0

  WriterOwnership(
      String name, MappedRegion region, long offset, FutexScope scope, FutexRing ring, int pid) {
    super(name, region, offset, scope, ring, pid);
  }

  // ---- taking the word ----

  /**
   * The fast path of a write: a free word (no writer, no death), no other process's readers waiting
   * nor writer starving (a mark of a dead process is dropped here), a claim, and then neither a
   * starving mark nor a read hold anywhere (holds of dead processes are dropped here: only then are
   * liveness questions asked). A claim that finds a starving writer or live readers is given back
   * at once (waking whoever its brief claim kept out): the queue does the waiting. Null if not
   * taken.
   *
   * <p>The look at the marks after the claim is Dekker's pattern with a starving writer, which
   * marks its record (a full fence) and then reads the word: either it sees this claim and sleeps
   * until its release, or this look sees its mark and the claim goes back. So once a starving
   * writer has looked at a free word, no fast path takes the lock ahead of it (jcstress
   * ReadWriteMutexRaces.StarvingMarkAgainstFastPath).
   */
  WriteHold tryWriteFree() {
    int v = words.lvWord();
    if ((v & ~WAITERS) != 0
        || (anyMarkedRecord(MARKS) && markedRecord(MARKS) >= 0)
        || !words.casWord(v, WRITE | pid | v)) {
      return null;
    }
    boolean givenBack;
    try {
      int found = afterFastClaim();
      givenBack = found == STARVING_FOUND || (found == READ_HOLDS_FOUND && drainBlocker() != 0);
    } catch (RuntimeException damage) {
      words.xchgWord(0); // a record names no possible pid: give the claim back, report the damage
      wakeAll.signal();
      throw damage;
    }
    if (givenBack) {
      if ((words.xchgWord(0) & WAITERS) != 0) {
        wakeAll.signal();
      }
      if (queue.length() > 0) {
        released(); // a request that arrived meanwhile took our claim for a held lock
      }
      return null;
    }
    writeHeld = true;
    return new WriteHold(core(), nextFence(), false);
  }

  /**
   * tryWrite's slow path: the word names a dead writer, or records one's death; taken over if no
   * read hold stands in the way. Null otherwise (a claim that found readers is given back with the
   * death still recorded).
   */
  WriteHold tryWriteAfterDeath() {
    int v = checkedWord(words.lvWord());
    int writer = writerOf(v);
    boolean died =
        writer != 0 ? writer != pid && !alive(writer) : (v & OWNER_DIED) != 0 && !notRecoverable(v);
    int left = writer != 0 ? afterDeathOf(v) : v;
    boolean ownerDied = (left & OWNER_DIED) != 0;
    if (!died || !words.casWord(v, WRITE | pid | left)) {
      return null;
    }
    if (drainBlocker() != 0) {
      if ((words.xchgWord(left & OWNER_DIED) & WAITERS) != 0) {
        wakeAll.signal(); // given back, a death it carried kept
      }
      return null;
    }
    writeHeld = true;
    WriteHold hold = new WriteHold(core(), nextFence(), ownerDied);
    if (ownerDied) {
      recordTakeover(writer != 0 && (v & PENDING) == 0 ? writer : 0, hold);
    }
    return hold;
  }

  /**
   * A write hold just taken over from a dead writer ({@code deadPid}, or 0 if another process had
   * recorded the death and the word no longer names it): counted in the region, and recorded as a
   * JFR event, if enabled.
   */
  final void recordTakeover(int deadPid, WriteHold hold) {
    stats.countTakeovers(1);
    LockEvents.takeover(name, TYPE_NAME, deadPid, pid, hold.fence());
  }

  /**
   * The lock was made not recoverable by this process: a takeover released ({@code how}: unlock, or
   * close) without markConsistent. Recorded as a JFR event, if enabled.
   */
  final void recordNotRecoverable(long fence, String how) {
    LockEvents.notRecoverable(name, TYPE_NAME, pid, fence, how);
  }

  /**
   * Only the writer calls this, so a plain increment is enough; the word orders it. A fence that
   * cannot grow is damage: the claim is given back, and the damage reported.
   */
  long nextFence() {
    long last = words.laFence();
    String problem = ReadWriteMutexDescriptor.fenceProblem(last);
    if (problem != null) {
      writeHeld = false;
      claimedFor = null;
      if ((words.xchgWord(0) & WAITERS) != 0) {
        wakeAll.signal();
      }
      throw corrupt(problem);
    }
    words.srFence(last + 1);
    return last + 1;
  }

  // ---- giving it back, handing it on ----

  /** Under the monitor: the pending claim is given back, the death it carried kept. */
  void giveBackClaim(Effects<ReadWriteRequest> effects) {
    boolean died = claimOwnerDied;
    claimedFor = null;
    claimOwnerDied = false;
    claimDeadPid = 0;
    if ((words.xchgWord(died ? OWNER_DIED : 0) & WAITERS) != 0 && !closed) {
      effects.passOn(wakeAll::signal);
    }
  }

  /**
   * The write hold becomes a read hold: one hold is added to this view's record before the word is
   * freed, so a writer that claims in between waits for it. Readers queued here may then enter too.
   */
  ReadGuard downgrade() {
    checkOpen();
    try {
      int record = ensureSlot();
      addHolds(record, 1); // refused on a record close() closed meanwhile: it frees the word too
      writeHeld = false;
      if ((words.xchgWord(0) & WAITERS) != 0) {
        wakeAll.signal();
      }
      if (queue.length() > 0) {
        released();
      }
      return new ReadHold(core());
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  /** The writer has repaired the state a dead writer left: readers may enter after it. */
  void markConsistent() {
    checkOpen();
    try {
      words.andWord(~OWNER_DIED);
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  // ---- owner death ----

  /**
   * A reader found the writer dead: a pending claim is dropped, a held lock's death written down;
   * every sleeper is woken to see it.
   */
  void recordWriterDeath(int v) {
    if (words.casWord(v, afterDeathOf(v)) && (v & WAITERS) != 0) {
      wakeAll.signal();
    }
  }
}
