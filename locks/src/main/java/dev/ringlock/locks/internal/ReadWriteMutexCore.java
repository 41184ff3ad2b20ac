package dev.ringlock.locks.internal;

import static dev.ringlock.core.memory.RegionDescriptor.MAX_PID;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.BLOCKS_READERS;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.NOT_RECOVERABLE;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.OWNER_DIED;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.PENDING;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.READER_SLOTS;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.WAITERS;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.WAITING;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.WRITE;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.afterDeathOf;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.newRecord;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.notRecoverable;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.recordCount;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.recordPid;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.writerOf;

import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexScope;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.WakeSignal;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.NotRecoverableException;
import dev.ringlock.locks.ReadGuard;
import dev.ringlock.locks.ReadWriteMutex;
import dev.ringlock.locks.ReaderSlotsFullException;
import dev.ringlock.locks.WriteGuard;
import dev.ringlock.locks.WriterDiedException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReadWriteLock;

/*
 * Overview
 *
 * One process's view of one read-write mutex (ReadWriteMutexDescriptor): a state word and one
 * reader record per reading process. It stands on QueuedPrimitive as MutexCore does: one FIFO of
 * this process's read and write requests, at most one kernel wait (the Sleeper, on the state word)
 * standing for all of them, named events, effects run outside the monitor. This class supplies
 * decide(): what the request at the head of the queue may do with the word.
 *
 * The word holds only writers' business: WRITE | writer pid, OWNER_DIED, NOT_RECOVERABLE, and
 * WAITERS (someone may sleep on the word). Readers count their holds in their own process's record
 * (pid << 32 | WAITING | count), never in the word, so a dead reader's holds are found by its pid
 * and dropped: an anonymous count could not be repaired. This is the "distributed reader count"
 * shape of big-reader locks, with one record per process instead of per CPU.
 *
 *   read:    add n to our record (full fence), then read the word: no WRITE (nor a death) and the
 *            readers are in; else subtract n again and queue.
 *   write:   CAS the word from free to WRITE | pid | PENDING (a claim): from then on no new
 *            reader enters. Once every record's count is 0 the claimant clears PENDING and holds
 *            the lock; until then it sleeps on the word with WAITERS. (The uncontended path
 *            scans the records first and claims without PENDING; see Owner death.)
 *   leave:   a reader's record drops to 0 (full fence), then it reads the word: WRITE | WAITERS
 *            means a pending writer may sleep; it clears WAITERS (the word changes, so a wait
 *            being armed on the old value fails) and wakes everyone on the word.
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
 * Writers among themselves race for the word after each release (everyone sleeping on it is
 * woken): no FIFO across processes. In-process, requests are granted in queue order, and a write
 * release hands the lock to a writer queued here (LOCAL_HANDOFF_LIMIT in a row while others sleep;
 * never while another process's readers wait).
 *
 * Every change that can unblock someone wakes everyone sleeping on the word (at most one kernel
 * wait per process): a write release or a claim given back (getAndSet of the word), a record that
 * drops to 0 under a claim, a WAITING mark cleared. Each first changes the word (the getAndSet,
 * or clearing WAITERS), so a wait armed on the value before fails with EAGAIN instead of missing
 * the wake; a waiter sets WAITERS and then re-reads what it waits for before it sleeps.
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
 * Locking: `this` guards the queue, the sleeper, the claim and the WAITING mark (QueuedPrimitive's
 * monitor rule). Futures are completed only outside it (Effects).
 */
public final class ReadWriteMutexCore extends QueuedPrimitive<ReadWriteRequest>
    implements ReadWriteMutex {
  /** In-process write handoffs allowed in a row while another process sleeps on the word. */
  public static final int LOCAL_HANDOFF_LIMIT = 32;

  private final String name;
  private final MappedRegion region;
  private final ReadWriteMutexWords words;
  private final FutexWord word;
  private final WakeSignal wakeAll;
  private final int pid;
  private final boolean localHandoff;

  private volatile int slot = -1; // this process's reader record, claimed on the first read
  // The read holds taken through this object: its share of the record, which other views of the
  // region in this process (another SharedRegion on the file) share. close() takes back this many.
  private final AtomicLong viewHolds = new AtomicLong();
  private volatile boolean writeHeld; // a WriteHold of this object holds the word
  private volatile BlockingReadWriteLock lockView;

  // ---- guarded by this ----
  private ReadWriteRequest claimedFor; // the queued writer whose claim is in the word, pending
  private boolean claimOwnerDied; // that claim took over from a dead writer
  private boolean waitingMarked; // our record's WAITING bit is set
  private int localHandoffsInARow;

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
    this.localHandoff = localHandoff;
  }

  // ---- ReadWriteMutex ----

  @Override
  public String name() {
    return name;
  }

  @Override
  public CompletableFuture<ReadGuard> read() {
    try {
      return acquireRead(Deadlines.NONE);
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public CompletableFuture<ReadGuard> read(Duration timeout) {
    try {
      return acquireRead(Deadlines.after(timeout));
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
        viewHolds.incrementAndGet();
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
          viewHolds.incrementAndGet();
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
      return acquireWrite(Deadlines.NONE);
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public CompletableFuture<WriteGuard> write(Duration timeout) {
    try {
      return acquireWrite(Deadlines.after(timeout));
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
      for (int i = 0; i < READER_SLOTS; i++) {
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

  private CompletableFuture<ReadGuard> acquireRead(long deadline) {
    checkOpen();
    if (queue.length() == 0 && enterRead(ensureSlot(), 1)) {
      viewHolds.incrementAndGet();
      return new ReadHold(this).asCompletedFuture();
    }
    return queued(new ReadWriteRequest(this, false, deadline));
  }

  /**
   * Adds {@code n} read holds to record {@code record}, then reads the word: true if no writer has
   * claimed it (nor died holding it), and the holds stand; else they are taken back (waking a
   * claimant that may wait for them) and false. Outside the monitor: it wakes directly. The count
   * cannot reach the record's WAITING bit: 2^31 holds would be 2^31 live guard objects.
   */
  private boolean enterRead(int record, int n) {
    words.addRecord(record, n);
    if ((words.lvWord() & BLOCKS_READERS) == 0) {
      return true;
    }
    if (leaveRead(record, n)) {
      wakeAll.signal();
    }
    return false;
  }

  /**
   * Takes {@code n} read holds off record {@code record}. True if the record dropped to 0 under a
   * claim whose writer may sleep: WAITERS was cleared, and the caller must wake everyone.
   */
  private boolean leaveRead(int record, int n) {
    long before = words.addRecord(record, -n);
    return recordCount(before) == n && unblockWriter(WRITE | WAITERS);
  }

  /**
   * After a change a sleeping writer may wait for: if the word has every bit of {@code when},
   * clears WAITERS (so a wait being armed on the old value fails) and returns true: wake everyone.
   */
  private boolean unblockWriter(int when) {
    int v = words.lvWord();
    if ((v & when) != when) {
      return false;
    }
    words.andWord(~WAITERS);
    return true;
  }

  void releaseRead() {
    checkOpen();
    try {
      int record = slot;
      // Our share first: a close() that took the share back already took this hold back too.
      if (record < 0 || viewHolds.getAndDecrement() <= 0) {
        viewHolds.incrementAndGet();
        throw closedException();
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

  /**
   * This process's reader record: the one it claimed before, one still carrying its pid, a free
   * one, or one of a dead process (its holds dropped).
   *
   * @throws ReaderSlotsFullException if every record belongs to another live process
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
        for (int i = 0; i < READER_SLOTS; i++) {
          long r = checkedRecord(i, words.lvRecord(i));
          if (recordPid(r) == pid) {
            slot = i; // ours already: another view of this process, or a close that left it
            return i;
          }
          if (r == 0 && free < 0) {
            free = i;
          }
        }
        if (free >= 0) {
          if (words.casRecord(free, 0, newRecord(pid))) {
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
                  + " reader records taken by other live processes; a record is freed when its"
                  + " process exits: retry later, or read from fewer processes");
        }
      }
    }
  }

  /**
   * Clears the record of a dead process (from the value read, so a live one that claimed it since
   * is never robbed), and wakes everyone if a writer may sleep waiting for that count or that
   * WAITING mark (WAITERS set). False if the record changed under us.
   */
  private boolean clearDeadRecord(int record, long value) {
    if (!words.casRecord(record, value, 0)) {
      return false;
    }
    if (unblockWriter(WAITERS)) {
      wakeAll.signal(); // a writer may wait for that count or that WAITING mark
    }
    return true;
  }

  // ---- writing ----

  private CompletableFuture<WriteGuard> acquireWrite(long deadline) {
    checkOpen();
    if (queue.length() == 0) {
      WriteHold hold = tryWriteFree();
      if (hold != null) {
        return hold.asCompletedFuture();
      }
    }
    return queued(new ReadWriteRequest(this, true, deadline));
  }

  @SuppressWarnings("unchecked") // a request is completed with the hold its `write` flag names
  private <G> CompletableFuture<G> queued(ReadWriteRequest request) {
    arrive(request);
    return (CompletableFuture<G>) (CompletableFuture<?>) request;
  }

  /**
   * The fast path of a write: a free word (no writer, no death), no process's readers waiting, a
   * claim, and no read hold anywhere (holds of dead processes are dropped here: only then are
   * liveness questions asked). A claim that finds live readers inside is given back at once (waking
   * whoever its brief claim kept out): the queue does the waiting. Null if not taken.
   */
  private WriteHold tryWriteFree() {
    int v = words.lvWord();
    if ((v & ~WAITERS) != 0 || anyWaitingRecord() || !words.casWord(v, WRITE | pid | v)) {
      return null;
    }
    boolean readersInside;
    try {
      readersInside = anyReadHold() && drainBlocker() != 0;
    } catch (RuntimeException damage) {
      words.xchgWord(0); // a record names no possible pid: give the claim back, report the damage
      wakeAll.signal();
      throw damage;
    }
    if (readersInside) {
      if ((words.xchgWord(0) & WAITERS) != 0) {
        wakeAll.signal();
      }
      if (queue.length() > 0) {
        released(); // a request that arrived meanwhile took our claim for a held lock
      }
      return null;
    }
    writeHeld = true;
    return new WriteHold(this, nextFence(), false);
  }

  /**
   * tryWrite's slow path: the word names a dead writer, or records one's death; taken over if no
   * read hold stands in the way. Null otherwise (a claim that found readers is given back with the
   * death still recorded).
   */
  private WriteHold tryWriteAfterDeath() {
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
    return new WriteHold(this, nextFence(), ownerDied);
  }

  /** Whether another process's record has WAITING set (a cheap look: no liveness asked). */
  private boolean anyWaitingRecord() {
    for (int i = 0; i < READER_SLOTS; i++) {
      long r = words.lvRecord(i);
      if ((r & WAITING) != 0 && recordPid(r) != pid) {
        return true;
      }
    }
    return false;
  }

  private boolean anyReadHold() {
    for (int i = 0; i < READER_SLOTS; i++) {
      if (recordCount(words.lvRecord(i)) != 0) {
        return true;
      }
    }
    return false;
  }

  /**
   * The process a claimant waits for: another live process with read holds, else this one if it has
   * some, else 0 (drained). Records of dead processes are cleared on the way.
   */
  private int drainBlocker() {
    int own = 0;
    for (int i = 0; i < READER_SLOTS; i++) {
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
   * A live process, other than this one, whose readers wait for a writer to leave (WAITING): a
   * writer may not claim before they have entered. 0 if none. Dead processes' records are cleared.
   */
  private int waitingBlocker() {
    for (int i = 0; i < READER_SLOTS; i++) {
      long r = words.lvRecord(i);
      if ((r & WAITING) == 0) {
        continue;
      }
      int owner = recordPid(checkedRecord(i, r));
      if (owner == pid) {
        continue;
      }
      if (alive(owner)) {
        return owner;
      }
      if (!clearDeadRecord(i, r)) {
        i--;
      }
    }
    return 0;
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
      ReadWriteRequest next = queue.length() > 0 ? takeForLocalHandoff() : null;
      if (next != null) {
        WriteHold handed;
        try {
          handed = new WriteHold(this, nextFence(), false);
        } catch (UncheckedIOException damage) {
          next.fail(damage);
          failAll(damage);
          throw damage;
        }
        Grants.grant(next, handed);
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

  /**
   * The write hold becomes a read hold: one hold is added to our record before the word is freed,
   * so a writer that claims in between waits for it. Readers queued here may then enter too.
   */
  ReadGuard downgrade() {
    checkOpen();
    try {
      int record = ensureSlot();
      words.addRecord(record, 1);
      viewHolds.incrementAndGet();
      writeHeld = false;
      if ((words.xchgWord(0) & WAITERS) != 0) {
        wakeAll.signal();
      }
      if (queue.length() > 0) {
        released();
      }
      return new ReadHold(this);
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

  private ReadWriteRequest takeForLocalHandoff() {
    ReadWriteRequest next;
    Effects<ReadWriteRequest> effects = new Effects<>();
    synchronized (this) {
      if (!localHandoff || closed || queue.isEmpty() || !queue.head().write) {
        return null;
      }
      if (anyWaitingRecord()) {
        return null; // readers elsewhere waited through this write: their turn comes first
      }
      if (localHandoffsInARow >= LOCAL_HANDOFF_LIMIT && sleeper.othersSleeping()) {
        localHandoffsInARow = 0;
        return null;
      }
      localHandoffsInARow++;
      next = queue.unlink(queue.head());
      if (queue.isEmpty()) {
        leaveEmpty(effects);
      }
    }
    effects.run(this);
    return next;
  }

  /**
   * Only the writer calls this, so a plain increment is enough; the word orders it. A fence that
   * cannot grow is damage: the claim is given back, and the damage reported.
   */
  private long nextFence() {
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
        if (head.write ? decideWriter(head, v, effects) : decideReaders(head, v, effects)) {
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

  /** A writer at the head; true when the decision ends (granted nothing more, or asleep). */
  private boolean decideWriter(ReadWriteRequest head, int v, Effects<ReadWriteRequest> effects) {
    if (waitingMarked) {
      unmarkWaiting(effects); // no reader of ours is at the head any more
    }
    if (claimedFor == head) {
      int blocker = drainBlocker();
      if (blocker == 0) {
        words.andWord(~PENDING); // held now: from here its death is a writer's death
        WriteHold hold = new WriteHold(this, nextFence(), claimOwnerDied);
        claimedFor = null;
        claimOwnerDied = false;
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
    if (writer != 0) {
      if (alive(writer)) {
        return sleepOn(v, writer, effects);
      }
      int left = afterDeathOf(v); // a dead pending claim is dropped, a dead holder is a death
      if (words.casWord(v, WRITE | pid | PENDING | left)) {
        claimedFor = head;
        claimOwnerDied = (left & OWNER_DIED) != 0;
      }
      return false;
    }
    int waiting = waitingBlocker();
    if (waiting != 0) {
      return sleepOn(v, waiting, effects); // their readers first (fairness)
    }
    if (words.casWord(v, WRITE | pid | PENDING | (v & (WAITERS | OWNER_DIED)))) {
      claimedFor = head;
      claimOwnerDied = (v & OWNER_DIED) != 0;
    }
    return false;
  }

  /** Readers at the head; true when the decision ends. */
  private boolean decideReaders(ReadWriteRequest head, int v, Effects<ReadWriteRequest> effects) {
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
    if (!enterRead(record, n)) {
      return false; // a writer claimed in between: look again
    }
    viewHolds.addAndGet(n);
    for (int i = 0; i < n; i++) {
      ReadWriteRequest reader = queue.head();
      queue.unlink(reader);
      effects.grant(reader, new ReadHold(this));
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

  /** Under the monitor: the pending claim is given back, the death it carried kept. */
  private void giveBackClaim(Effects<ReadWriteRequest> effects) {
    boolean died = claimOwnerDied;
    claimedFor = null;
    claimOwnerDied = false;
    if ((words.xchgWord(died ? OWNER_DIED : 0) & WAITERS) != 0 && !closed) {
      effects.passOn(wakeAll::signal);
    }
  }

  /** Under the monitor: our readers no longer wait at the head; a writer held back may claim. */
  private void unmarkWaiting(Effects<ReadWriteRequest> effects) {
    waitingMarked = false;
    int record = slot;
    if (record < 0) {
      return;
    }
    words.andRecord(record, ~WAITING);
    if (unblockWriter(WAITERS) && !closed) {
      effects.passOn(wakeAll::signal);
    }
  }

  /** The queue emptied: a pending claim is given back and the WAITING mark cleared. */
  @Override
  void queueEmptied(Effects<ReadWriteRequest> effects) {
    try {
      if (claimedFor != null) {
        giveBackClaim(effects);
      }
      if (waitingMarked) {
        unmarkWaiting(effects);
      }
    } catch (InternalError fault) {
      // the file shrank under the mapping: nobody can wait on this word any more
      claimedFor = null;
      waitingMarked = false;
    }
  }

  /**
   * A reader found the writer dead: a pending claim is dropped, a held lock's death written down;
   * every sleeper is woken to see it.
   */
  private void recordWriterDeath(int v) {
    if (words.casWord(v, afterDeathOf(v)) && (v & WAITERS) != 0) {
      wakeAll.signal();
    }
  }

  // ---- validation and liveness ----

  private boolean alive(int otherPid) {
    checkedPid(otherPid);
    return peers.alive(otherPid);
  }

  private void checkedPid(int otherPid) {
    if (otherPid <= 0 || otherPid > MAX_PID) {
      throw corrupt("names pid " + otherPid + ", outside 1.." + MAX_PID);
    }
  }

  private int checkedWord(int v) {
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

  private UncheckedIOException corrupt(String problem) {
    return region.corruption("has a " + describe() + " whose " + problem);
  }

  private NotRecoverableException notRecoverableException() {
    return new NotRecoverableException(
        describe()
            + " is not recoverable: a writer died holding it, and the writer that took it over"
            + " released it without markConsistent(). Rebuild what it protects and use a new"
            + " region file or lock name");
  }

  private WriterDiedException writerDiedException() {
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
  String timeoutMessage(ReadWriteRequest request) {
    return (request.write ? "write" : "read")
        + " of "
        + describe()
        + " was not granted within the timeout";
  }

  @Override
  RuntimeException regionFault(InternalError fault) {
    return region.truncated(fault);
  }

  // ---- closing ----

  /**
   * Fails every queued request, gives back a pending claim (queueEmptied), releases a write hold
   * and the read holds taken through this object (they would wedge every writer). Wakes by direct
   * system call: the mapping goes away next.
   */
  public void close() {
    if (!closeQueue()) {
      return;
    }
    if (writeHeld) {
      writeHeld = false;
      // Only the writer (us) changes OWNER_DIED under its claim: an unrepaired takeover released
      // is not recoverable, as unlocking it would be.
      boolean unrepaired = (words.lvWord() & OWNER_DIED) != 0;
      words.xchgWord(unrepaired ? NOT_RECOVERABLE : 0);
    }
    // Only this object's share of the record: other views of the region in this process may hold
    // reads through it still. The record itself stays this process's until it exits (then any
    // process that needs a record clears it): freeing it here could hand it to another process
    // while another view of ours still counts in it.
    int record = slot;
    long mine = Math.max(0, viewHolds.getAndSet(0));
    if (record >= 0 && mine > 0) {
      words.addRecord(record, -mine);
    }
    slot = -1;
    Futex.wake(word, FutexRing.WAKE_ALL, FutexRing.ANY_BITSET);
  }
}
