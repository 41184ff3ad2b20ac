package dev.ringlock.locks.internal;

import static dev.ringlock.core.memory.RegionDescriptor.MAX_PID;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.BLOCKS_READERS;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.CLOSED;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.MAX_HOLDS_PER_VIEW;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.PENDING;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.READER_SLOTS;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.STARVING;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.WAITERS;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.WRITE;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.closedRecord;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.newRecord;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.recordClosed;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.recordCount;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.recordPid;

import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexScope;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.WakeSignal;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.NotRecoverableException;
import dev.ringlock.locks.ReaderSlotsFullException;
import dev.ringlock.locks.WriterDiedException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/*
 * Overview
 *
 * The ground a read-write mutex stands on: who this view is on the object (its pid, its reader
 * record), the reader-record table and the rules for trusting what the region says. It owns
 * everything a reader does to the records and every scan a writer makes of them:
 *
 *   - enterRead / leaveRead: add holds to our record, then read the word (Dekker's pattern with
 *     a claiming writer; ReadWriteMutexCore's overview); a record that drops to 0 under a pending
 *     claim, the last to count a hold, clears PENDING and the caller wakes everyone
 *     (claimDrained: a change of the word that cannot be undone before the claimant sleeps);
 *   - one record per view, not per process: closing a view gives back its whole record in one
 *     compare-and-set (closeRecord: CLOSED, count 0), which also decides every race with it. An
 *     add that finds CLOSED is refused (the read fails with RegionClosedException), a release that
 *     finds it throws RegionClosedException, so no count of the view's holds is kept on the heap
 *     (that count, taken and given back around every read, cost two atomic instructions a read:
 *     docs/read-write-mutex.md, "What a read costs");
 *   - ensureSlot: this view's record, claimed once (a closed one of this process whose view's
 *     mapping is gone, a free one, or a dead process's, cleared by a CAS from the value read, so a
 *     live claimant is never robbed). A closed record is not reused while its view is still
 *     mapped (UNMAPPING): a release of that view that read the record before the close could
 *     otherwise land on the new view's count (ABA); once the mapping is closed no access of the old
 *     view can reach the record;
 *   - the bound (ReadWriteMutexDescriptor): every record past it is free, so every scan below
 *     looks only at records [0, bound), the bound read at the scan's start. ensureSlot raises it
 *     (a CAS) before it claims a record past it, and holds and marks come after the claim: a scan
 *     whose Dekker argument says it sees a record's hold or mark (the writer's claim, then its
 *     scan; the reader's add, then its read of the word) reads the bound after the same fence,
 *     so it covers that record. Free records are most of the 32, so a writer's uncontended path
 *     reads two or three records, not 64 (docs/read-write-mutex.md, "What a write costs");
 *   - the writer's scans: anyMarkedRecord and afterFastClaim (cheap looks, no liveness asked),
 *     drainBlocker and markedRecord (the live process a claimant waits for, or the record it
 *     stands back for while its WAITING readers or its STARVING writer have their turn; dead
 *     processes' records cleared on the way, waking whoever may sleep for them: clearDeadRecord);
 *   - distrust: a pid read from the word or a record is checked against pid_max before it is
 *     asked about (ReadWriteMutexDescriptor.wordProblem / recordProblem, shared with
 *     RegionSnapshot), a record index never comes from the region; damage is
 *     InvalidRegionException(CORRUPT), a fault on the memory TRUNCATED.
 *
 * It is a class of its own because the records are a table with its own life (claimed, closed,
 * reused by the views of one process, cleared after a death) apart from the word's transitions
 * (WriterOwnership) and the queue's decisions (ReadWriteDecisions); a superclass rather than a
 * field so that the uncontended read (enterRead) and release (leaveRead) run with no object
 * between, as before the split.
 *
 * `slot` is written under the monitor and read without it (volatile: a view's first read claims
 * it once; close() sets it back to -1).
 */
/** The reader-record table of one read-write mutex; see the overview in the source. */
abstract sealed class ReaderRecords extends QueuedPrimitive<ReadWriteRequest>
    permits WriterOwnership {
  /** What afterFastClaim found: another process's starving writer (the claim must go back). */
  static final int STARVING_FOUND = 1;

  /** What afterFastClaim found: read holds, whose processes the claimant must ask about. */
  static final int READ_HOLDS_FOUND = 2;

  final String name;
  final MappedRegion region;
  final ReadWriteMutexWords words;
  final FutexWord word;
  final WakeSignal wakeAll;
  final int pid;
  // The lock's counters, on the line after its records (ObjectStatsDescriptor): reads (fast ones
  // counted per view without an atomic, published in batches), contention, takeovers, and the
  // read holds dropped with dead readers' records. Its writes are its fence.
  final ObjectStats stats;
  private final MemorySegment memory;
  private final FutexScope scope;
  private final long recordsAt; // the first reader record's offset in memory

  volatile int slot = -1; // this view's record, claimed on the first read or starving mark

  /**
   * Records closed by a view of this JVM whose mapping may still be open, by lock name and index
   * (views of other files with a lock of the same name only make it wait longer): ensureSlot does
   * not reuse them yet. A view enters its record at close() and leaves it at recordUnmapped().
   */
  private static final Map<ClosedRecord, Integer> UNMAPPING = new ConcurrentHashMap<>();

  private record ClosedRecord(String lock, int record) {}

  private ClosedRecord unmappingEntry; // this view's entry in UNMAPPING, until recordUnmapped()

  /**
   * @param region the region
   * @param offset where the object starts (ReadWriteMutexDescriptor.SIZE bytes, 64-byte aligned)
   */
  ReaderRecords(
      String name, MappedRegion region, long offset, FutexScope scope, FutexRing ring, int pid) {
    if (pid <= 0 || pid > ReadWriteMutexDescriptor.WRITER_MASK) {
      throw new IllegalArgumentException("process id " + pid + " does not fit the state word");
    }
    MemorySegment memory = region.segment();
    FutexWord word = FutexWord.of(memory, offset + ReadWriteMutexDescriptor.WORD_OFFSET, scope);
    super(ring, word, memory, offset + ReadWriteMutexDescriptor.SLEEPERS_OFFSET, true);
    this.name = name;
    this.region = region;
    this.words = new ReadWriteMutexWords(memory, offset);
    this.word = word;
    this.wakeAll = ring.wakeSignal(word, FutexRing.WAKE_ALL, FutexRing.ANY_BITSET);
    this.pid = pid;
    this.stats =
        new ObjectStats(
            memory, offset + ObjectStatsDescriptor.statsOffset(ReadWriteMutexDescriptor.SIZE));
    this.memory = memory;
    this.scope = scope;
    this.recordsAt = offset + ReadWriteMutexDescriptor.READERS_OFFSET;
  }

  // ---- a record as a futex word: what a writer standing back for its mark sleeps on ----

  /**
   * The low half of record {@code record} (little-endian: WAITING | STARVING | count) as a futex
   * word. A writer that stands back for a process's mark sleeps on it
   * (ReadWriteDecisions.standBack) rather than on the state word: the mark's removal changes it,
   * and nothing but the same mark set again (a reason to stand back again) brings the value back,
   * where the state word's WAITERS is set again by the next waiter and would let a wait armed late
   * sleep through the removal.
   */
  final FutexWord recordWord(int record) {
    if (record < 0 || record >= READER_SLOTS) {
      throw new IndexOutOfBoundsException("reader record " + record + " of " + READER_SLOTS);
    }
    return FutexWord.of(memory, recordsAt + (long) Long.BYTES * record, scope);
  }

  /**
   * Wakes every writer standing back for a mark of record {@code record}, after the mark changed
   * (cleared, or the record dropped): a wake of all, without asking whether anyone sleeps there.
   */
  final void wakeRecord(int record) {
    if (!closed) {
      sleeper.ring().wake(recordWord(record), FutexRing.WAKE_ALL, FutexRing.ANY_BITSET);
    } else {
      Futex.wake(recordWord(record), FutexRing.WAKE_ALL, FutexRing.ANY_BITSET);
    }
  }

  // ---- entering and leaving (a reader's own record) ----

  /**
   * Adds {@code n} read holds to record {@code record}, then reads the word: true if no writer has
   * claimed it (nor died holding it), and the holds stand; else they are taken back (waking a
   * claimant that may wait for them) and false. Outside the monitor: it wakes directly.
   *
   * @throws dev.ringlock.locks.RegionClosedException if the view's close() closed the record first
   *     (the holds are taken back): one getAndAdd decides a read against the close
   * @throws IllegalStateException if this view already has MAX_HOLDS_PER_VIEW read holds (taken
   *     back first): the count must never carry into the record's CLOSED bit
   */
  boolean enterRead(int record, int n) {
    // One local slice for both accesses: its checks made once (LockHeaderWords' overview)
    MemorySegment object = words.object;
    long before = ReadWriteMutexWords.addRecord(object, record, n);
    if ((before & (CLOSED | MAX_HOLDS_PER_VIEW)) != 0) {
      refuseHolds(record, n, before); // addHolds' test, on the same local
    }
    if ((LockHeaderWords.lvWord(object) & BLOCKS_READERS) == 0) {
      return true;
    }
    backOut(record, n);
    return false;
  }

  /** enterRead met a writer: its holds taken back, waking a claimant that may wait for them. */
  private void backOut(int record, int n) {
    if (leaveRead(record, n)) {
      wakeAll.signal();
    }
  }

  /**
   * Adds {@code n} holds to record {@code record} (a full fence), refusing them on a closed record
   * or past MAX_HOLDS_PER_VIEW (both are taken back before the throw).
   */
  final void addHolds(int record, int n) {
    long before = words.addRecord(record, n);
    // One test for both: the count stays below 2 * MAX_HOLDS_PER_VIEW, so its bit 28 is set
    // exactly when the count reached the limit.
    if ((before & (CLOSED | MAX_HOLDS_PER_VIEW)) != 0) {
      refuseHolds(record, n, before);
    }
  }

  private void refuseHolds(int record, int n, long before) {
    // A closed record's count counts nothing (recordCount), and this subtraction cannot borrow
    // from its bits: the count is at least n, our add.
    words.addRecord(record, -n);
    if (recordClosed(before)) {
      throw closedException();
    }
    throw new IllegalStateException(
        "this view holds "
            + recordCount(before)
            + " read holds of "
            + describe()
            + ", the most one view may hold: unlock the ones it no longer needs (a guard dropped"
            + " without unlock() keeps its hold)");
  }

  /**
   * Takes {@code n} read holds off record {@code record}, by compare-and-set: a record closed since
   * (close() gave these holds back with the rest) is left alone and RegionClosedException thrown; a
   * getAndAdd there could borrow from the CLOSED bit. True if the record dropped to 0 and that
   * drained a pending claim whose writer may sleep (claimDrained): the caller must wake everyone.
   *
   * @throws dev.ringlock.locks.RegionClosedException if the record is closed
   */
  boolean leaveRead(int record, int n) {
    // One local slice for the path's accesses (LockHeaderWords' overview); the first try inline,
    // the retries and the closed record's answer out of line, so that an unlock() compiled with
    // this inlined stays small enough for its callers to inline it (ReadHold)
    MemorySegment object = words.object;
    long before = ReadWriteMutexWords.lvRecord(object, record);
    if (recordClosed(before)
        || !ReadWriteMutexWords.casRecordJustRead(object, record, before, before - n)) {
      before = leaveReadAgain(record, n);
    }
    // claimDrained's own first test, on the local: a pending claim is rare, the look is not
    return recordCount(before) == n
        && (LockHeaderWords.lvWord(object) & (WRITE | PENDING)) == (WRITE | PENDING)
        && claimDrained();
  }

  /** leaveRead's compare-and-set after a first one failed; returns the record it replaced. */
  private long leaveReadAgain(int record, int n) {
    long before = words.lvRecord(record);
    while (true) {
      if (recordClosed(before)) {
        throw closedException();
      }
      if (words.casRecord(record, before, before - n)) {
        return before;
      }
      before = words.lvRecord(record);
    }
  }

  /**
   * After a record dropped to 0 (a full fence since): if the word holds a pending claim (WRITE |
   * PENDING) and no record counts a hold any more, the claim is drained: PENDING is cleared, and
   * true returned if WAITERS was set (the caller wakes everyone). False if no claim is pending, or
   * a record still counts holds: its process drops it to 0 later and looks again.
   *
   * <p>Why PENDING, and not WAITERS as every other wake of the word clears: the claimant sleeps on
   * a value it read before it scanned the records, and what it waits for is in the records, not the
   * word. Cleared WAITERS can come back before its wait reaches the kernel: a reader of the leaving
   * process queues at once behind the claim and sets WAITERS again, the word is again the value the
   * claimant read, and the claimant sleeps with the records drained while the reader sleeps for the
   * claimant's write: both stood until the re-check (WakeRescueTest,
   * ReadWriteMutexCrossProcessTest.aDrainWakeIsNotLostWhenWaitersIsSetAgainBeforeTheClaimantSleeps).
   * PENDING, once cleared, never comes back in that claim (only its claimant sets it, by a new
   * claim), so a claimant's wait armed on the old value fails once the drain has happened.
   *
   * <p>Cleared PENDING is the drain's one wake: the claimant takes a claim without PENDING at once
   * (ReadWriteDecisions.decideWriter) and never waits for a count after it, since a reader that
   * adds a hold after the claim and takes it back finds no pending claim here, and wakes nobody
   * (ReadWriteMutexCrossProcessTest.aDrainedClaimIsGrantedAtOnceThoughAReaderOnItsWayOutStillCounts).
   *
   * <p>A dead claimant's PENDING is left alone: its claim wrote nothing and is dropped without a
   * report by whoever finds it. A claimant that dies between this look and the CAS is taken for a
   * writer that died holding the lock: the safe side, as for the fast path's claim.
   */
  boolean claimDrained() {
    for (; ; ) {
      int v = words.lvWord();
      if ((v & (WRITE | PENDING)) != (WRITE | PENDING) || anyRecordCounts()) {
        return false;
      }
      int claimant = ReadWriteMutexDescriptor.writerOf(v);
      if (claimant != pid && (claimant <= 0 || claimant > MAX_PID || !peers.alive(claimant))) {
        return false; // a dead claim wrote nothing: whoever finds it drops it (afterDeathOf)
      }
      if (words.casWord(v, v & ~PENDING)) {
        return (v & WAITERS) != 0;
      }
    }
  }

  /** Whether any record counts a read hold: a cheap look, no liveness asked. */
  private boolean anyRecordCounts() {
    for (int i = 0, inUse = recordsInUse(); i < inUse; i++) {
      if (recordCount(words.lvRecord(i)) != 0) {
        return true;
      }
    }
    return false;
  }

  /**
   * After a change a sleeping writer may wait for: if the word has every bit of {@code when},
   * clears WAITERS (so a wait being armed on the old value fails) and returns true: wake everyone.
   */
  boolean unblockWriter(int when) {
    int v = words.lvWord();
    if ((v & when) != when) {
      return false;
    }
    words.andWord(~WAITERS);
    return true;
  }

  /**
   * This view's reader record: the one it claimed before, a closed one of this process whose view
   * is no longer mapped (preferred: it leaves free records to other processes), a free one, or one
   * of a dead process (its holds dropped). A record of this pid that is not closed belongs to
   * another view of this process: never shared.
   *
   * @throws ReaderSlotsFullException if every record belongs to another live process or view
   */
  int ensureSlot() {
    int claimed = slot;
    if (claimed >= 0) {
      return claimed;
    }
    synchronized (this) {
      checkOpen();
      for (; ; ) {
        if (slot >= 0) {
          return slot;
        }
        int free = -1;
        long freeValue = 0;
        for (int i = 0; i < READER_SLOTS; i++) {
          long r = checkedRecord(i, words.lvRecord(i));
          if (recordPid(r) == pid
              && recordClosed(r)
              && !UNMAPPING.containsKey(new ClosedRecord(name, i))) {
            free = i; // ours, closed, its view unmapped: nothing of that view can reach it
            freeValue = r;
            break;
          }
          if (r == 0 && free < 0) {
            free = i;
          }
        }
        if (free >= 0) {
          // Raised before the claim, so any scan that begins after this view's first hold or mark
          // (each a full fence after the claim) reads a bound that covers the record. A claim
          // that then loses its CAS (another view took the record), or a process that dies here,
          // leaves the bound over a record that may stay free: scans read one more free record,
          // which changes no answer
          words.raiseBound(free + 1);
          if (words.casRecord(free, freeValue, newRecord(pid))) {
            slot = free;
          }
          continue;
        }
        boolean cleared = false;
        for (int i = 0; i < READER_SLOTS; i++) {
          long r = words.lvRecord(i);
          int owner = recordPid(r);
          if (owner != 0 && owner != pid && !alive(owner) && clearDeadRecord(i, r)) {
            cleared = true;
          }
        }
        if (!cleared) {
          throw new ReaderSlotsFullException(
              describe()
                  + " has all "
                  + READER_SLOTS
                  + " reader records taken by other live processes or by other open views of"
                  + " this one (one per SharedRegion that reads it); a record is freed when its"
                  + " process exits, or for this process when its view's region is closed: retry"
                  + " later, or read from fewer processes or regions");
        }
      }
    }
  }

  /**
   * close(): closes this view's record in one compare-and-set (CLOSED, count 0, marks gone), giving
   * back every hold taken through it; a read racing it either added first (its hold is given back
   * here) or finds CLOSED and is refused. The record stays this process's, not reused until
   * recordUnmapped(). Returns the holds given back (0 if there was no record).
   */
  final int closeRecord() {
    int record = slot;
    slot = -1;
    if (record < 0) {
      return 0;
    }
    // In UNMAPPING before the record shows CLOSED: another view of this process must never see it
    // closed and reusable while this view's mapping is open.
    ClosedRecord entry = new ClosedRecord(name, record);
    synchronized (this) {
      UNMAPPING.merge(entry, 1, Integer::sum);
      unmappingEntry = entry;
    }
    long r;
    do {
      r = words.lvRecord(record);
      if (recordPid(r) != pid || recordClosed(r)) {
        recordUnmapped();
        return 0; // not ours any more (damage): nothing of it to give back
      }
    } while (!words.casRecord(record, r, closedRecord(pid)));
    Futex.wake(recordWord(record), FutexRing.WAKE_ALL, FutexRing.ANY_BITSET); // its marks went
    return recordCount(r);
  }

  /**
   * After this view's mapping is closed (SharedRegion.close, after unmapping; or a test that closed
   * a view on a mapping it keeps, once no thread can use the view): its closed record may be reused
   * by another view of this process. Idempotent.
   */
  public final synchronized void recordUnmapped() {
    ClosedRecord entry = unmappingEntry;
    if (entry != null) {
      unmappingEntry = null;
      UNMAPPING.computeIfPresent(entry, (key, views) -> views == 1 ? null : views - 1);
    }
  }

  /**
   * Clears the record of a dead process (from the value read, so a live one that claimed it since
   * is never robbed), and wakes everyone if a writer may sleep waiting for that count or that mark
   * (WAITERS set). False if the record changed under us.
   */
  private boolean clearDeadRecord(int record, long value) {
    if (!words.casRecord(record, value, 0)) {
      return false;
    }
    if (recordCount(value) > 0) {
      stats.countRecovered(recordCount(value)); // the dead reader's holds, dropped
    }
    wakeRecord(record); // whoever stands back for its mark
    // A drain wake that must change PENDING (claimDrained), else a wake for that mark
    if (claimDrained() || unblockWriter(WAITERS)) {
      wakeAll.signal(); // a writer may wait for that count or stand back for that mark
    }
    return true;
  }

  // ---- the writer's scans ----

  /**
   * How many records from the first a scan looks at: the bound, read now (after whatever fence
   * orders the scan), or all of them if it is damaged (ReadWriteMutexDescriptor.recordsInUse).
   */
  final int recordsInUse() {
    return ReadWriteMutexDescriptor.recordsInUse(words.lvBound());
  }

  /**
   * Whether another process's record has one of {@code marks} (WAITING, STARVING) set: a cheap
   * look, no liveness asked.
   */
  boolean anyMarkedRecord(long marks) {
    for (int i = 0, inUse = recordsInUse(); i < inUse; i++) {
      long r = words.lvRecord(i);
      if ((r & marks) != 0 && recordPid(r) != pid && !recordClosed(r)) {
        return true; // a closed view's mark, had one been left, holds nobody back
      }
    }
    return false;
  }

  /**
   * The fast path's look after its claim (Dekker with a starving writer, which marks its record and
   * then reads the word): STARVING if another process's record is marked starving, else READ_HOLDS
   * if any record counts holds, else 0. No liveness asked.
   */
  int afterFastClaim() {
    int found = 0;
    for (int i = 0, inUse = recordsInUse(); i < inUse; i++) {
      long r = words.lvRecord(i);
      if ((r & STARVING) != 0 && recordPid(r) != pid && !recordClosed(r)) {
        return STARVING_FOUND;
      }
      if (recordCount(r) != 0) {
        found = READ_HOLDS_FOUND;
      }
    }
    return found;
  }

  /**
   * The process a claimant waits for: another live process with read holds, else this one if it has
   * some, else 0 (drained). Records of dead processes are cleared on the way.
   */
  int drainBlocker() {
    int own = 0;
    for (int i = 0, inUse = recordsInUse(); i < inUse; i++) {
      long r = words.lvRecord(i);
      if (recordCount(r) == 0) {
        continue;
      }
      int owner = recordPid(checkedRecord(i, r));
      if (owner == pid) {
        own = pid;
      } else if (alive(owner)) {
        return owner;
      } else if (!clearDeadRecord(i, r)) {
        i--; // it changed under us: look at it again
      }
    }
    return own;
  }

  /**
   * The index of the record of a live process, other than this one, that has one of {@code marks}:
   * readers that wait for a writer to leave (WAITING), or a writer that starves (STARVING); -1 if
   * none. A writer may not claim before they have had their turn: it stands back for that record.
   * Dead processes' records are cleared.
   */
  int markedRecord(long marks) {
    for (int i = 0, inUse = recordsInUse(); i < inUse; i++) {
      long r = words.lvRecord(i);
      if ((r & marks) == 0 || recordClosed(r)) {
        continue;
      }
      int owner = recordPid(checkedRecord(i, r));
      if (owner == pid) {
        continue;
      }
      if (alive(owner)) {
        return i;
      }
      if (!clearDeadRecord(i, r)) {
        i--;
      }
    }
    return -1;
  }

  // ---- validation and liveness ----

  boolean alive(int otherPid) {
    checkedPid(otherPid);
    return peers.alive(otherPid);
  }

  void checkedPid(int otherPid) {
    if (otherPid <= 0 || otherPid > MAX_PID) {
      throw corrupt("names pid " + otherPid + ", outside 1.." + MAX_PID);
    }
  }

  int checkedWord(int v) {
    String problem = ReadWriteMutexDescriptor.wordProblem(v);
    if (problem != null) {
      throw corrupt(problem);
    }
    return v;
  }

  private long checkedRecord(int record, long r) {
    String problem = ReadWriteMutexDescriptor.recordProblem(record, r);
    if (problem != null) {
      throw corrupt(problem);
    }
    return r;
  }

  UncheckedIOException corrupt(String problem) {
    return region.corruption("has a " + describe() + " whose " + problem);
  }

  NotRecoverableException notRecoverableException() {
    return new NotRecoverableException(
        describe()
            + " is not recoverable: a writer died holding it, and the writer that took it over"
            + " released it without markConsistent(). Rebuild what it protects and use a new"
            + " region file or lock name");
  }

  WriterDiedException writerDiedException() {
    return new WriterDiedException(
        describe()
            + " refuses readers: a writer died holding it and no writer has repaired the state."
            + " Take it with write(), repair what it protects, markConsistent() and unlock");
  }

  // ---- QueuedPrimitive ----

  @Override
  String describe() {
    return "read-write mutex '" + name + "'";
  }

  @Override
  RuntimeException regionFault(InternalError fault) {
    return region.truncated(fault);
  }

  /**
   * This object as the guards see it: ReadWriteMutexCore is the one class below (the chain is
   * sealed), so the cast cannot fail (and is free once the JIT knows the exact type).
   */
  final ReadWriteMutexCore core() {
    return (ReadWriteMutexCore) this;
  }

  @Override
  final ObjectStats stats() {
    return stats;
  }
}
