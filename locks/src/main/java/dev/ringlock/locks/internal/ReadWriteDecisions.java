package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.MARKS;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.OWNER_DIED;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.PENDING;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.STARVING;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.WAITERS;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.WAITING;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.WRITE;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.afterDeathOf;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.notRecoverable;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.writerOf;

import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexScope;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.ReaderSlotsFullException;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeUnit;

/*
 * Overview
 *
 * The decisions of a read-write mutex's in-process queue, on QueuedPrimitive's mechanism (one FIFO
 * of read and write requests, one Sleeper on the word standing for all of them, effects run
 * outside the monitor): decide() looks at the request at the head and the word, and lets the
 * readers at the head enter together, or has the writer at the head claim, wait for the readers
 * already in and be granted; anything that cannot proceed sets WAITERS and arms the sleeper,
 * watching the process it waits for. Around it: the WAITING mark of this process's record
 * (readers kept out by a writer hold back the next writer's claim: fairness), the STARVING mark
 * (a writer at the head that waited STARVATION_MILLIS and then lost a round holds back the writers
 * of unmarked processes: markStarving after a kernel wait, cleared by its claim, by a new head, or
 * when the queue empties), the claim passed to the next writer or given back when its request
 * leaves (AsyncEx #134), and the in-process write handoff (handedOffHere: at most
 * LOCAL_HANDOFF_LIMIT in a row while others sleep, never while another process's readers wait or
 * writer starves). The protocol and its bounds are in ReadWriteMutexCore's
 * overview and docs/read-write-mutex.md.
 *
 * It is a class of its own so that when the queue acts stays apart from what the word's
 * transitions are (WriterOwnership) and from the public API and the uncontended paths
 * (ReadWriteMutexCore); nothing on the uncontended paths runs here.
 *
 * Locking: `this` guards the queue, the sleeper, the claim and the WAITING and STARVING marks
 * (QueuedPrimitive's monitor rule). Futures are completed only outside it (Effects).
 */
/** The queued decisions of a read-write mutex; see the overview in the source. */
abstract sealed class ReadWriteDecisions extends WriterOwnership permits ReadWriteMutexCore {
  /** In-process write handoffs allowed in a row while another process sleeps on the word. */
  static final int LOCAL_HANDOFF_LIMIT = 32;

  /**
   * How long the writer at the head of the queue may wait before its process marks itself STARVING
   * when it loses a round to another process: the mutex's threshold (MutexCore.STARVATION_MILLIS).
   */
  static final int STARVATION_MILLIS = MutexCore.STARVATION_MILLIS;

  private static final long STARVATION_NANOS = TimeUnit.MILLISECONDS.toNanos(STARVATION_MILLIS);

  private final boolean localHandoff;

  // ---- guarded by this ----
  private boolean waitingMarked; // our record's WAITING bit is set
  private int starvingRecord = -1; // the record whose STARVING bit we set, or -1: not starving
  private int localHandoffsInARow;

  ReadWriteDecisions(
      String name,
      MappedRegion region,
      long offset,
      FutexScope scope,
      FutexRing ring,
      int pid,
      boolean localHandoff) {
    super(name, region, offset, scope, ring, pid);
    this.localHandoff = localHandoff;
  }

  // ---- the decision on the word ----

  /**
   * What the request at the head of the queue may do (under the monitor; overdue requests have
   * expired): readers at the head enter together; a writer claims, waits for the readers to leave
   * and is granted. Anything that cannot proceed arms the sleeper on the word with WAITERS,
   * watching the process it waits for.
   */
  @Override
  void decide(Event event, long arrivingDeadline, Effects<ReadWriteRequest> effects) {
    if (event == Event.PEER_EXIT && !sleeper.isArmed()) {
      return; // nothing sleeps here; whoever arms next looks at the word first
    }
    if (queue.isEmpty()) {
      leaveEmpty(effects);
      return;
    }
    if (event == Event.ARRIVAL && sleeper.isArmed() && arrivingDeadline >= sleeper.deadline()) {
      return; // the head is where it was, and the armed sleeper stands for the queue
    }
    effects.cancel(sleeper.detach());
    try {
      // Every pass that does not end the decision follows a change (a CAS, a grant, a refusal, a
      // claim given back or passed on): deciding again on the new state is always safe.
      for (; ; ) {
        if (queue.isEmpty()) {
          leaveEmpty(effects);
          return;
        }
        ReadWriteRequest head = queue.head();
        if (claimedFor != null && claimedFor != head) {
          // The claimant left (withdrawn, expired): a writer next in line inherits the claim,
          // else it is given back so that readers kept out by it enter (AsyncEx #134).
          if (head.write) {
            claimedFor = head;
          } else {
            giveBackClaim(effects);
          }
        }
        int v = checkedWord(words.lvWord());
        if (notRecoverable(v)) {
          effects.refuseAll(queue.unlinkAll(), notRecoverableException());
          leaveEmpty(effects);
          return;
        }
        if (head.write
            ? decideWriter(head, v, event.sleeperDone(), effects)
            : decideReaders(head, v, effects)) {
          return;
        }
      }
    } catch (UncheckedIOException | InternalError e) {
      UncheckedIOException damage =
          e instanceof InternalError fault ? region.truncated(fault) : (UncheckedIOException) e;
      effects.refuseAll(queue.unlinkAll(), damage);
      leaveEmpty(effects);
    }
  }

  /**
   * A writer at the head; true when the decision ends (granted nothing more, or asleep). {@code
   * afterWait}: this decision follows the end of a kernel wait, so the head has lost a round if
   * another process still has the word (or the word is free: it may have lost it in between).
   */
  private boolean decideWriter(
      ReadWriteRequest head, int v, boolean afterWait, Effects<ReadWriteRequest> effects) {
    if (waitingMarked) {
      unmarkWaiting(effects); // no reader of ours is at the head any more
    }
    boolean overdue = System.nanoTime() - head.queuedAt >= STARVATION_NANOS;
    if (starvingRecord >= 0 && !overdue) {
      unmarkStarving(effects); // the starving writer left; this one's wait counts from now
    }
    if (claimedFor == head) {
      // PENDING gone from our claim: a leaving reader found every record at 0 under it and said
      // so (claimDrained); nothing sets it again. A count seen now is a reader on its way out
      // (it added after the claim, saw it and takes the hold back), whose leave owes no wake: the
      // drain's change of the word is spent. Waiting for that count slept until the re-check.
      int blocker = (v & PENDING) == 0 ? 0 : drainBlocker();
      if (blocker == 0) {
        words.andWord(~PENDING); // held now: from here its death is a writer's death
        WriteHold hold = new WriteHold(core(), nextFence(), claimOwnerDied);
        if (claimOwnerDied) {
          recordTakeover(claimDeadPid, hold);
        }
        claimedFor = null;
        claimOwnerDied = false;
        claimDeadPid = 0;
        writeHeld = true;
        localHandoffsInARow = 0;
        queue.unlink(head);
        effects.grant(head, hold);
        return false; // the rest of the queue now waits behind this hold
      }
      return sleepOn(v, blocker, effects);
    }
    int writer = writerOf(v);
    if (writer == pid) {
      return waitForThisProcess(v, effects);
    }
    if (afterWait && overdue && starvingRecord < 0 && markStarving()) {
      return false; // marked (a full fence): look at the word again, after the mark
    }
    if (writer != 0) {
      if (alive(writer)) {
        return sleepOn(v, writer, effects);
      }
      int left = afterDeathOf(v); // a dead pending claim is dropped, a dead holder is a death
      if (words.casWord(v, WRITE | pid | PENDING | left)) {
        claimed(head, (left & OWNER_DIED) != 0, effects);
        claimDeadPid = (v & PENDING) == 0 ? writer : 0; // a dead claimant held nothing
      }
      return false;
    }
    // Their readers first, and another process's starving writer (unless ours starves too: two
    // starving processes that both stood back would sleep on a free word with nobody to wake them)
    long marks = starvingRecord >= 0 ? WAITING : MARKS;
    int marked = markedRecord(marks);
    if (marked >= 0) {
      return standBack(marked, marks, effects);
    }
    if (words.casWord(v, WRITE | pid | PENDING | (v & (WAITERS | OWNER_DIED)))) {
      claimed(head, (v & OWNER_DIED) != 0, effects);
      claimDeadPid = 0; // a death another process recorded: the word no longer names the writer
    }
    return false;
  }

  /**
   * Under the monitor: the head's claim is in the word. A starving mark has done its work (no other
   * writer can claim now): whoever stood back for it, asleep on our record, is woken, and sleeps
   * again on the word until this claim's release wakes it.
   */
  private void claimed(
      ReadWriteRequest head, boolean ownerDied, Effects<ReadWriteRequest> effects) {
    claimedFor = head;
    claimOwnerDied = ownerDied;
    if (starvingRecord >= 0) {
      int record = starvingRecord;
      words.andRecord(record, ~STARVING);
      starvingRecord = -1;
      effects.passOn(() -> wakeRecord(record));
    }
  }

  /**
   * A writer that may not claim a free word while another live process's record {@code record} has
   * one of {@code marks}: it stands back, asleep on that record's low half (recordWord), not on the
   * state word, watching the process. The mark's removal changes the record and wakes it
   * (unmarkWaiting, unmarkStarving, claimed, a dead record cleared): WAITERS on the state word,
   * which the next waiter sets again, could not tell a wait armed late that the mark had gone.
   */
  private boolean standBack(int record, long marks, Effects<ReadWriteRequest> effects) {
    long r = words.lvRecord(record);
    int owner = ReadWriteMutexDescriptor.recordPid(r);
    if ((r & marks) == 0 || owner == 0 || owner == pid || !watch(owner)) {
      return false; // it changed, or its process exited: look again
    }
    TestPausePoints.beforeSleeping(name);
    effects.armed(sleeper.arm(recordWord(record), (int) r, queue.earliestDeadline()));
    return true;
  }

  /**
   * Under the monitor: the writer at the head waited past STARVATION_MILLIS and lost a round to
   * another process; marks our record STARVING (claiming a record if this process has none). False
   * if every record belongs to another live process: it stays unmarked, and tries again after its
   * next wait.
   */
  private boolean markStarving() {
    int record;
    try {
      record = ensureSlot();
    } catch (ReaderSlotsFullException full) {
      return false;
    }
    words.orRecord(record, STARVING);
    starvingRecord = record;
    return true;
  }

  /**
   * Under the monitor: our writer no longer starves here (it left, or the head is now a reader or a
   * younger writer); whoever stood back for it is woken to decide again.
   */
  private void unmarkStarving(Effects<ReadWriteRequest> effects) {
    int record = starvingRecord;
    starvingRecord = -1;
    words.andRecord(record, ~STARVING);
    effects.passOn(() -> wakeRecord(record)); // writers standing back for it (standBack)
    if (unblockWriter(WAITERS) && !closed) {
      effects.passOn(wakeAll::signal);
    }
  }

  /** Readers at the head; true when the decision ends. */
  private boolean decideReaders(ReadWriteRequest head, int v, Effects<ReadWriteRequest> effects) {
    if (starvingRecord >= 0) {
      unmarkStarving(effects); // the writer that starved left the head
    }
    int record;
    try {
      record = ensureSlot();
    } catch (ReaderSlotsFullException full) {
      queue.unlink(head);
      effects.refuse(head, full);
      return false;
    }
    int writer = writerOf(v);
    if (writer == pid) {
      return waitForThisProcess(v, effects);
    }
    if (writer != 0) {
      if (alive(writer)) {
        if (!waitingMarked) {
          words.orRecord(record, WAITING); // no new writer claims before we are in
          waitingMarked = true;
        }
        return sleepOn(v, writer, effects);
      }
      if (words.casWord(v, afterDeathOf(v)) && (v & WAITERS) != 0) {
        effects.passOn(wakeAll::signal); // everyone sleeping learns of the death
      }
      return false;
    }
    if ((v & OWNER_DIED) != 0) {
      queue.unlink(head);
      effects.refuse(head, writerDiedException());
      return false;
    }
    int n = 0;
    for (ReadWriteRequest r = head; r != null && !r.write; r = r.next) {
      n++;
    }
    boolean entered;
    try {
      entered = enterRead(record, n);
    } catch (IllegalStateException tooManyHolds) {
      queue.unlink(head); // this view holds MAX_HOLDS_PER_VIEW already: refused, not queued
      effects.refuse(head, tooManyHolds);
      return false;
    }
    if (!entered) {
      return false; // a writer claimed in between: look again
    }
    for (int i = 0; i < n; i++) {
      ReadWriteRequest reader = queue.head();
      queue.unlink(reader);
      effects.grant(reader, new ReadHold(core()));
    }
    if (waitingMarked) {
      unmarkWaiting(effects);
    }
    return false;
  }

  /**
   * Sleeps on the word with WAITERS, watching {@code watched} (0 or this process: nobody; a read
   * hold of ours may belong to another view of this process, whose release wakes the word). If the
   * word lacked WAITERS it is set and false returned: the caller looks again at what it waits for,
   * after the bit, so that whoever changes it afterwards sees the bit and wakes.
   */
  private boolean sleepOn(int v, int watched, Effects<ReadWriteRequest> effects) {
    if ((v & WAITERS) == 0) {
      words.casWord(v, v | WAITERS);
      return false;
    }
    if (watched != 0 && watched != pid && !watch(watched)) {
      return false; // it has exited already: look again
    }
    TestPausePoints.beforeSleeping(name);
    effects.armed(sleeper.arm(v, queue.earliestDeadline()));
    return true;
  }

  /**
   * The word names this process as writer. Held through this object: its release pumps the queue,
   * and a sleeper is armed only for the queue's deadlines, which need the kernel's timer. Else it
   * is another view of this process (another SharedRegion on the same file), or a fast path's brief
   * claim on another thread, whose releases wake the word: sleep on it, watching nobody.
   */
  private boolean waitForThisProcess(int v, Effects<ReadWriteRequest> effects) {
    if (writeHeld && queue.timed() == 0) {
      return true;
    }
    return sleepOn(v, 0, effects);
  }

  private boolean watch(int watchedPid) {
    checkedPid(watchedPid);
    if (peers.watch(watchedPid)) {
      return true;
    }
    peers.unwatchAll();
    return false;
  }

  /** Under the monitor: our readers no longer wait at the head; a writer held back may claim. */
  private void unmarkWaiting(Effects<ReadWriteRequest> effects) {
    waitingMarked = false;
    int record = slot;
    if (record < 0) {
      return;
    }
    words.andRecord(record, ~WAITING);
    effects.passOn(() -> wakeRecord(record)); // writers standing back for it (standBack)
    if (unblockWriter(WAITERS) && !closed) {
      effects.passOn(wakeAll::signal);
    }
  }

  /**
   * The queue emptied: a pending claim is given back and the WAITING and STARVING marks cleared.
   */
  @Override
  void queueEmptied(Effects<ReadWriteRequest> effects) {
    try {
      if (claimedFor != null) {
        giveBackClaim(effects);
      }
      if (waitingMarked) {
        unmarkWaiting(effects);
      }
      if (starvingRecord >= 0) {
        unmarkStarving(effects);
      }
    } catch (InternalError fault) {
      // the file shrank under the mapping: nobody can wait on this word any more
      claimedFor = null;
      waitingMarked = false;
      starvingRecord = -1;
    }
  }

  // ---- the in-process write handoff ----

  /**
   * Called by a write release, outside the monitor (it takes it): if the release may hand the lock
   * to the writer at the head of the queue (see the overview), it is unlinked and granted a new
   * write hold, the word staying ours throughout; false if the release must go through the word.
   * The hold is made under the monitor, so the request is marked as granted (Effects.grant) before
   * a withdrawal can look at it.
   */
  boolean handedOffHere() {
    Effects<ReadWriteRequest> effects = new Effects<>();
    UncheckedIOException damage = null;
    InternalError fault = null;
    synchronized (this) {
      if (!localHandoff || closed || queue.isEmpty() || !queue.head().write) {
        return false;
      }
      if (anyMarkedRecord(MARKS)) {
        // readers elsewhere waited through this write, or a writer elsewhere starves: their turn
        // comes first (a dead process's mark: the release pumps the queue, whose look drops it)
        return false;
      }
      if (localHandoffsInARow >= LOCAL_HANDOFF_LIMIT && sleeper.othersSleeping()) {
        localHandoffsInARow = 0;
        return false;
      }
      localHandoffsInARow++;
      ReadWriteRequest next = queue.unlink(queue.head());
      try {
        effects.grant(next, new WriteHold(core(), nextFence(), false));
      } catch (UncheckedIOException e) {
        // a fence that cannot grow: nextFence freed the word; this request and every other fail
        // with the damage rather than wait for ever
        damage = e;
        effects.refuse(next, e);
        effects.failQueued(e);
      } catch (InternalError e) {
        fault = e; // the file shrank under the mapping: the caller fails the rest (regionFaulted)
        effects.refuse(next, regionFault(e));
      }
      if (queue.isEmpty()) {
        leaveEmpty(effects);
      }
    }
    effects.run(this);
    if (fault != null) {
      throw fault;
    }
    if (damage != null) {
      throw damage;
    }
    return true;
  }

  // ---- QueuedPrimitive ----

  @Override
  String timeoutMessage(ReadWriteRequest request) {
    return (request.write ? "write" : "read")
        + " of "
        + describe()
        + " was not granted "
        + request.withinTimeout();
  }
}
