package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.NOT_RECOVERABLE;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.OWNER_DIED;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.WAITERS;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.WRITE;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.notRecoverable;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.recordCount;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.writerOf;

import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexScope;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.ReadGuard;
import dev.ringlock.locks.ReadWriteMutex;
import dev.ringlock.locks.WriteGuard;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReadWriteLock;

/*
 * Overview
 *
 * One process's view of one read-write mutex (ReadWriteMutexDescriptor): a state word and one
 * reader record per reading view (this object is one; another SharedRegion of the file in this
 * process is another, with a record of its own). It stands on QueuedPrimitive as MutexCore does: one FIFO of
 * this process's read and write requests, at most one kernel wait (the Sleeper, on the state word)
 * standing for all of them, named events, effects run outside the monitor. This class holds the
 * public API, the uncontended paths and the releases; the rest stands below it as superclasses, so
 * that the uncontended paths reach it with no object between: the reader-record table, its scans
 * and the distrust rules (ReaderRecords), the writer's word transitions, owner death and the fence
 * (WriterOwnership), and the queue's decisions, decide() among them (ReadWriteDecisions).
 *
 * The word holds only writers' business: WRITE | writer pid, OWNER_DIED, NOT_RECOVERABLE, and
 * WAITERS (someone may sleep on the word). Readers count their holds in their own view's record
 * (pid << 32 | WAITING | STARVING | CLOSED | count), never in the word, so a dead reader's holds
 * are found by its pid and dropped: an anonymous count could not be repaired. This is the
 * "distributed reader count" shape of big-reader locks, with one record per view instead of per
 * CPU. A record per view (not per process) lets close() give back the view's holds by closing its
 * record in one compare-and-set, with no count of them on the heap (ReaderRecords).
 *
 *   read:    add n to our record (full fence), then read the word: no WRITE (nor a death) and the
 *            readers are in; else subtract n again and queue.
 *   write:   CAS the word from free to WRITE | pid | PENDING (a claim): from then on no new
 *            reader enters. Once every record's count is 0 the claimant clears PENDING and holds
 *            the lock; until then it sleeps on the word with WAITERS. A claim whose PENDING a
 *            leave cleared is drained: the claimant takes it without looking at the counts again
 *            (a count then is a reader backing out, whose leave wakes nobody: it found no pending
 *            claim). (The uncontended path scans the records first and claims without PENDING;
 *            see Owner death.)
 *   leave:   a reader's record drops to 0 (full fence), then it reads the word: WRITE | PENDING
 *            of a live claimant, with no record counting a hold any more, means the claim is
 *            drained; it clears PENDING (a change nothing undoes in that claim, so a wait being
 *            armed on the old value fails: ReaderRecords.claimDrained) and, with WAITERS set,
 *            wakes everyone on the word.
 * Dekker's pattern makes the read and the claim safe: each side writes its own word with a full
 * fence, then reads the other's; at least one sees the other. A reader that sees the claim backs
 * out (and wakes, as leaving does); a claimant that sees a count waits for it.
 *
 * Fairness, both ways (the bound is in docs/read-write-mutex.md):
 *   - a writer's claim keeps new readers out: a writer waits only for the readers already in;
 *   - a reader kept out by a writer sets WAITING in its process's record, and a writer may claim
 *     only while no live process has WAITING set; so when the writer leaves, the readers that
 *     waited get in before the next writer. A reader waits for at most the writer holding when it
 *     came and one more (one that claimed between that writer's release and our WAITING mark).
 *   - writers of different processes race for the word after each release (everyone sleeping on
 *     it is woken), which a process writing in a loop would win every time (its thread claims
 *     again before a woken one runs). So the writer at the head of a queue that has waited
 *     STARVATION_MILLIS and then loses a round (a kernel wait of its ended, and it did not get the
 *     word) sets STARVING in its process's record, and while another live process is marked, a
 *     writer of an unmarked process takes no fast path, no in-process handoff and no claim from
 *     its queue: it stands back (sleeps on the marked process's record, watching the process)
 *     until the mark goes. The mark goes when its writer claims, leaves or its queue empties (then
 *     whoever stood back is woken), or its process dies (the record is dropped). Marked processes never stand
 *     back for each other: two that did would sleep on a free word. The fast path looks at the
 *     marks again after its CAS (Dekker with the marker, which sets its mark and then reads the
 *     word) and gives a claim back that met a mark. WAITING still beats every claim, starving or
 *     not, and readers ignore STARVING, so the reader bound stands.
 * In-process, requests are granted in queue order, and a write release hands the lock to a writer
 * queued here (LOCAL_HANDOFF_LIMIT in a row while others sleep; never while another process's
 * readers wait or writer starves).
 *
 * Every change that can unblock someone wakes everyone sleeping on the word (at most one kernel
 * wait per process): a write release or a claim given back (getAndSet of the word), the record
 * that drains a claim, a WAITING or STARVING mark cleared. Each first changes the word (the
 * getAndSet, clearing PENDING, or clearing WAITERS), so a wait armed on the value before fails
 * with EAGAIN instead of missing the wake; a waiter sets WAITERS and then re-reads what it waits
 * for before it sleeps. The change must not be undone before the waiter's wait reaches the
 * kernel: WAITERS is set again by the next waiter, so clearing it cannot tell a waiter whose
 * condition lies in the records (docs/read-write-mutex.md, Wake obligations). So a drained
 * claim's wake clears PENDING, and a writer standing back for a mark sleeps on the marked record
 * (whose removal changes it and wakes it: ReadWriteDecisions.standBack), not on the state word.
 * Waits that the 250 ms re-check finds grantable are counted (QueuedPrimitive.recheckRescues):
 * missed wakes.
 *
 * Owner death.
 *   - A dead reader: its record (pid dead, by PeerWatches's one definition) is cleared with a CAS
 *     from the value read, by a claimant waiting for it to drain or a writer held back by its
 *     WAITING mark; a pending writer watches the processes whose counts it waits for. Nothing is
 *     reported: readers change nothing.
 *   - A dead writer (WRITE | pid, pid not alive): a writer takes the word over with a CAS to WRITE
 *     | pid | OWNER_DIED and its guard reports ownerDied(); a reader that finds it first records
 *     the death as OWNER_DIED without WRITE, and every read then fails with WriterDiedException
 *     until a writer takes over and marks the state consistent. Readers are refused rather than
 *     let in, because they cannot repair and must not read half-written state unknowingly; they
 *     are answered at once, so nothing wedges, and the death stays in the word until a writer
 *     repairs it.
 *   - A writer that dies while its claim is still PENDING (waiting for readers to leave) wrote
 *     nothing: whoever finds it drops the claim (keeping a death the claim had carried over from a
 *     takeover) and nobody is told. The claimant clears PENDING (an atomic and) before it is
 *     granted. The fast path's claim has no PENDING: it scans the records, and gives the claim
 *     back at once if a reader slipped in; a death in that instant is taken for a writer's death,
 *     the safe side.
 *   - markConsistent() clears OWNER_DIED; a release that finds the takeover unrepaired stores
 *     NOT_RECOVERABLE, wakes everyone, and every request fails with NotRecoverableException.
 *
 * Cancellation. The claim belongs to the writer at the head of the queue (claimedFor). If that
 * request leaves (cancelled, timed out) the claim passes to the next request if it is a writer,
 * or is given back (the word freed, everyone woken), so readers kept out by it enter again: the
 * AsyncEx #134 bug cannot happen. A queue that empties gives back its claim and its WAITING mark.
 *
 * Downgrade adds one read hold to our record before freeing the word: no writer can complete a
 * claim between the two, since it would wait for that count.
 *
 * Distrust: a pid read from the word or a record is checked against pid_max before it is asked
 * about (ReadWriteMutexDescriptor.wordProblem / recordProblem, shared with RegionSnapshot), a record
 * index never comes from the region, and the fence is checked before it is incremented; damage is
 * InvalidRegionException(CORRUPT), a fault on the memory TRUNCATED, as for the mutex.
 *
 * Locking: `this` guards the queue, the sleeper, the claim and the WAITING and STARVING marks
 * (QueuedPrimitive's monitor rule). Futures are completed only outside it (Effects).
 */
public final class ReadWriteMutexCore extends ReadWriteDecisions implements ReadWriteMutex {
  private volatile BlockingReadWriteLock lockView;

  /**
   * @param region the region
   * @param offset where the object starts (ReadWriteMutexDescriptor.SIZE bytes, 64-byte aligned)
   */
  public ReadWriteMutexCore(
      String name,
      MappedRegion region,
      long offset,
      FutexScope scope,
      FutexRing ring,
      int pid,
      boolean localHandoff) {
    super(name, region, offset, scope, ring, pid, localHandoff);
  }

  // ---- ReadWriteMutex ----

  @Override
  public String name() {
    return name;
  }

  @Override
  public CompletableFuture<ReadGuard> read() {
    try {
      return acquireRead(Deadlines.NONE, -1);
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public CompletableFuture<ReadGuard> read(Duration timeout) {
    try {
      return acquireRead(Deadlines.after(timeout), Deadlines.nanos(timeout));
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public Optional<ReadGuard> tryRead() {
    checkOpen();
    try {
      if (queue.length() != 0) {
        return Optional.empty(); // FIFO in-process: queued requests come first
      }
      int record = ensureSlot();
      if (enterRead(record, 1)) {
        stats.countFastAcquisition();
        return Optional.of(new ReadHold(this));
      }
      int v = checkedWord(words.lvWord());
      if (notRecoverable(v)) {
        throw notRecoverableException();
      }
      int writer = writerOf(v);
      if (writer != 0 && writer != pid && !alive(writer)) {
        recordWriterDeath(v);
        if (enterRead(record, 1)) {
          stats.countFastAcquisition();
          return Optional.of(new ReadHold(this)); // it had only claimed: dropped, and we are in
        }
        v = words.lvWord();
      }
      if ((v & (WRITE | OWNER_DIED)) == OWNER_DIED) {
        throw writerDiedException();
      }
      return Optional.empty();
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public CompletableFuture<WriteGuard> write() {
    try {
      return acquireWrite(Deadlines.NONE, -1);
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public CompletableFuture<WriteGuard> write(Duration timeout) {
    try {
      return acquireWrite(Deadlines.after(timeout), Deadlines.nanos(timeout));
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public Optional<WriteGuard> tryWrite() {
    checkOpen();
    try {
      if (queue.length() != 0) {
        return Optional.empty();
      }
      int v = checkedWord(words.lvWord());
      if (notRecoverable(v)) {
        throw notRecoverableException();
      }
      WriteHold hold = tryWriteFree();
      if (hold == null) {
        hold = tryWriteAfterDeath();
      }
      if (hold == null && queue.length() > 0) {
        released(); // a request queued while our claim stood saw it as ours: it looks again
      }
      return Optional.ofNullable(hold);
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public int readers() {
    try {
      long holds = 0;
      for (int i = 0, inUse = recordsInUse(); i < inUse; i++) {
        holds += recordCount(words.lvRecord(i));
      }
      return (int) Math.min(holds, Integer.MAX_VALUE);
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public boolean isWriteLocked() {
    return writerPid() != 0;
  }

  @Override
  public int writerPid() {
    try {
      return writerOf(words.lvWord());
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public ReadWriteLock asReadWriteLock() {
    BlockingReadWriteLock view = lockView;
    if (view == null) {
      synchronized (this) {
        view = lockView;
        if (view == null) {
          view = new BlockingReadWriteLock(this);
          lockView = view;
        }
      }
    }
    return view;
  }

  @Override
  public String toString() {
    int v = words.lvWord();
    String local;
    synchronized (this) {
      local =
          ", "
              + queue.length()
              + " queued here"
              + (sleeper.isArmed() ? ", a kernel wait armed" : "")
              + (claimedFor != null ? ", a writer here waits for readers to leave" : "");
    }
    int writer = writerOf(v);
    return "ReadWriteMutex['"
        + name
        + "', "
        + (notRecoverable(v)
            ? "not recoverable"
            : writer != 0
                ? "written by pid " + writer
                : (v & OWNER_DIED) != 0 ? "its writer died" : "no writer")
        + (writer != 0 && (v & OWNER_DIED) != 0 ? " after its writer died" : "")
        + ", "
        + readers()
        + " read holds"
        + ((v & WAITERS) != 0 ? ", with waiters" : "")
        + local
        + "]";
  }

  // ---- reading ----

  /** {@code timeoutNanos}: the caller's time limit, for the timeout message; -1 if none. */
  private CompletableFuture<ReadGuard> acquireRead(long deadline, long timeoutNanos) {
    checkOpen();
    if (queue.length() == 0) {
      int record = ensureSlot();
      if (enterRead(record, 1)) {
        // No `closed` check after it: the record's add decided the race with close()
        // (ReaderRecords)
        stats.countFastAcquisition();
        // Completed with a volatile store, no compare-and-set; join() answered from a final
        // field, through which the hold does not escape (AcquiredFuture)
        return new AcquiredFuture<>(new ReadHold(this));
      }
    }
    return queued(new ReadWriteRequest(this, false, deadline, timeoutNanos));
  }

  /**
   * Gives one read hold of this view back: a compare-and-set on the view's record, which fails with
   * RegionClosedException if close() gave the record's holds back first (the hold went with them).
   * The hold's once-only claim came first (ReadHold).
   */
  void releaseRead() {
    checkOpen();
    try {
      int record = slot;
      if (record < 0) {
        throw closedException(); // close() ran between checkOpen and here
      }
      if (leaveRead(record, 1)) {
        wakeAll.signal();
      }
      // Dekker with an arrival: it links, then reads the records; we wrote the record, then read
      // the queue's length (full fences both).
      if (queue.length() > 0) {
        released();
      }
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  // ---- writing ----

  /** {@code timeoutNanos}: the caller's time limit, for the timeout message; -1 if none. */
  private CompletableFuture<WriteGuard> acquireWrite(long deadline, long timeoutNanos) {
    checkOpen();
    if (queue.length() == 0) {
      WriteHold hold = tryWriteFree();
      if (hold != null) {
        return hold.asCompletedFuture();
      }
    }
    return queued(new ReadWriteRequest(this, true, deadline, timeoutNanos));
  }

  @SuppressWarnings("unchecked") // a request is completed with the hold its `write` flag names
  private <G> CompletableFuture<G> queued(ReadWriteRequest request) {
    arrive(request);
    return (CompletableFuture<G>) (CompletableFuture<?>) request;
  }

  /**
   * Releases the write hold: hands it to a writer queued here, or frees the word and wakes whoever
   * sleeps on it; or, if the hold took over from a dead writer and was never marked consistent,
   * makes the lock not recoverable.
   */
  void releaseWrite(WriteHold hold) {
    checkOpen();
    try {
      if (hold.leavesInconsistent()) {
        writeHeld = false;
        words.xchgWord(NOT_RECOVERABLE);
        wakeAll.signal();
        failAll(notRecoverableException());
        return;
      }
      if (queue.length() > 0 && handedOffHere()) {
        return;
      }
      writeHeld = false;
      // getAndSet: freeing the word and reading WAITERS in one step (as the mutex's release)
      if ((words.xchgWord(0) & WAITERS) != 0) {
        wakeAll.signal();
      }
      if (queue.length() > 0) {
        released();
      }
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  // ---- closing ----

  /**
   * Fails every queued request, gives back a pending claim (queueEmptied), releases a write hold
   * and the read holds taken through this object (they would wedge every writer): its reader record
   * is closed (ReaderRecords.closeRecord). Wakes by direct system call: the mapping goes away next;
   * once it has, the owner calls recordUnmapped() so that the record can serve another view.
   */
  public void close() {
    if (!closeQueue()) {
      return;
    }
    stats.publish(); // this view's uncounted fast reads, before the mapping goes
    if (writeHeld) {
      writeHeld = false;
      // Only the writer (us) changes OWNER_DIED under its claim: an unrepaired takeover released
      // is not recoverable, as unlocking it would be.
      boolean unrepaired = (words.lvWord() & OWNER_DIED) != 0;
      long fence = unrepaired ? words.laFence() : 0;
      words.xchgWord(unrepaired ? NOT_RECOVERABLE : 0);
      if (unrepaired) {
        recordNotRecoverable(fence, "close");
      }
    }
    // This view's whole record, in one compare-and-set: the holds taken through this view, and
    // only those (other views of the region in this process have records of their own).
    if (closeRecord() > 0) {
      claimDrained(); // the wake below must find the word changed under a pending claim
    }
    Futex.wake(word, FutexRing.WAKE_ALL, FutexRing.ANY_BITSET);
  }
}
