package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.SemaphoreDescriptor.HOLDER_SLOTS;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.MAX_PERMITS;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.MAX_UNDO_PERMITS;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.PERMITS_MASK;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.REPAIR;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.UNDO_PERMITS_MASK;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.WAITERS;

import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexScope;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.WakeSignal;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.Semaphore;
import dev.ringlock.locks.SemaphoreHoldersFullException;
import dev.ringlock.locks.SemaphoreOptions;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/*
 * Overview
 *
 * One process's view of one semaphore. The shared state is the object of SemaphoreDescriptor: the
 * word (permits in bits 0..30 | WAITERS in bit 31) and the count of processes sleeping in the
 * kernel. The local state is built like MutexCore's: a FIFO RequestQueue of this process's pending
 * requests (SemaphoreRequests, each the caller's future) and at most one kernel wait, the Sleeper,
 * standing for the whole queue; QueuedPrimitive holds both, and the plumbing around them.
 *
 * Acquiring. A request takes its permits with one CAS (word - n; WAITERS stays as it was) if they
 * are available and nothing of this process is queued; otherwise it is queued and the queue is
 * pumped. The pump, under the monitor:
 *   1. fails the requests whose deadline has passed (TimeoutException);
 *   2. takes permits for the head while the word covers it (CAS word - head's n), unlinking each
 *      such request as it takes its permits; it stops at the first request that does not fit, so
 *      a request for 5 is never overtaken by later requests for 1 of this process;
 *   2b. with undo on exit, if the head does not fit, returns dead holders' permits (see below);
 *   3. if requests remain and no sleeper is armed (or one just arrived with a deadline earlier
 *      than the sleeper's timeout), sets WAITERS with a CAS on the value v it decided on, and arms
 *      FUTEX_WAIT(word, v | WAITERS) with the earliest deadline in the queue as linked timeout.
 * The granted requests are completed after the monitor is released, through Grants: a
 * continuation that releases permits pumps again, and the trampoline keeps that from nesting.
 *
 * An armed sleeper stands for the queue until it completes, and it always completes after the
 * word changes: it was armed with WAITERS in its expected value, so either the word still has
 * WAITERS and the next release will wake it, or a release has cleared the bit and owes a wake,
 * issued after the clearing; then the wait is woken if it is in the kernel, or fails with EAGAIN
 * when it gets there (the value differs), which the ring reports as value-changed. So a pump that
 * finds it armed need not arm another. Its completion (woken, value changed or timed out) pumps;
 * the pump re-arms if the head still cannot proceed.
 *
 * Releasing: one CAS adds n to the permits and CLEARS WAITERS in the same step; if the old word
 * had WAITERS, one FUTEX_WAKE of every sleeper (FutexRing.WAKE_ALL) goes out as a WakeSignal. A
 * sleeper's CAS that set the bit before the release is seen by it; one after it fails (the value
 * changed) or sees the new value, so no wake is lost. Each process has at most one sleeper per
 * semaphore, so "every sleeper" is at most one per waiting process: each woken process grants as
 * many of its requests as the permits now cover, and sets WAITERS again and sleeps if its head
 * still cannot proceed. Why not wake only n sleepers: a count-limited wake can reach a process
 * whose head needs more than is available; it goes back to sleep while a process that could
 * proceed was never woken, a lost wakeup. Passing such a wake on instead livelocks: two
 * processes whose heads cannot proceed can hand it back and forth forever. Waking every process
 * costs one SQE, and a woken process that cannot proceed only re-arms. Then the releaser pumps its
 * own queue: local waiters proceed without a kernel round trip.
 *
 * The wake is a WakeSignal: fire-and-forget, batched with everything else the ring submits in
 * that iteration, and coalesced while queued, which the protocol allows (a queued wake reaches the
 * kernel after every release that asked for it).
 *
 * drainPermits sets the permits to 0 and keeps WAITERS: nothing was added, so no sleeper is owed
 * a wake, and the bit must stay for the next release to wake them.
 *
 * Cancel safety. Permits leave the word only in step 2, for a request unlinked in the same
 * critical section, or in a direct CAS whose caller gets a completed future (with undo on exit,
 * recorded in the same move: see below; a request whose entry cannot be claimed takes nothing and
 * fails). A request completed by its caller (cancel, complete, orTimeout) that is still queued is unlinked and never takes
 * permits; if it was withdrawn as its head position let the next request fit, the queue is pumped
 * again. A grant that loses the race with the caller's completion (Grants sees grant() fail)
 * releases the permits it carried. An expired request is unlinked before it takes anything. So
 * every permit is in the word or held by exactly one successfully completed future.
 *
 * A sleeper that is no longer needed (the queue emptied) is cancelled; a wake it consumed in that
 * race is passed on by the ring (AbandonedWakeHandler.PASS_ON). With wake-all nobody needed it
 * (every sleeper of that moment was woken), so it is only a spurious wake-up elsewhere.
 *
 * Fairness: none across processes. Any process may take released permits, so a process whose
 * head needs many can starve while others keep taking few (as in java.util.concurrent.Semaphore's
 * non-fair mode). The descriptor reserves a word should bounded barging, as the mutex has it, be
 * added.
 *
 * Memory ordering: the word is changed only with CAS (volatile, full fence), so actions before a
 * release happen-before actions after the acquire that takes its permits, in any process. The
 * sleepers count is a plain atomic add: diagnostics only.
 *
 * Undo on exit (on unless the semaphore was created with SemaphoreOptions.undoOnExit(false), which
 * the descriptor's flags record; then none of this runs, the holder table stays zero, and every
 * path above is exactly as described). Permits are ownership: each view's holding, what it
 * acquired minus what it released, is recorded in its own holder table entry (HolderTable), a
 * release beyond it is refused (IllegalStateException), and the object's total (fixed at creation)
 * is always available + every entry's count, except while some process is between its two steps
 * below. The records are the truth; the word is a count derived from them that a repair recomputes
 * whenever it may be wrong: available = total - the live holders' records.
 *
 * Moving permits (acquire, tryAcquire, drainPermits, a grant in the pump, release, a give-back),
 * always under undoLock, so one view makes one move at a time:
 *   1. set BUSY on this view's entry (claiming a free one, held 0, for a first acquire);
 *   2. one CAS of the word: available -/+ n, refused if REPAIR is set (then nothing moved);
 *   3. one CAS of the entry: held +/- n (or held unchanged if step 2 was refused) and BUSY off.
 * Nothing waits between 1 and 3: step 2 is a CAS loop that gives up on REPAIR.
 *
 * Repair (SemaphoreRepair, R1 to R6, and why every kill point is safe): any process that finds a
 * dead holder's entry, or REPAIR set with no live repairer, recomputes the word from the live
 * holders' records under a lease, with REPAIR set so that no step 2 succeeds meanwhile.
 *
 * Who notices a death:
 *   (a) a process with requests queued: each pump that is about to arm a sleeper (and every
 *       sleeper completion pumps with none armed) sweeps the table, and watches the exit
 *       of every other live holder in the peer-watch registry (PeerWatches: one watch per pid);
 *       the exit (peerExited) pumps with a sweep; a sweep that finds a dead holder repairs;
 *   (b) tryAcquire that finds too few permits sweeps (asking isAlive, no subscriptions), repairs if
 *       it found a dead holder and tries once more; acquire queues and pumps;
 *   (c) nobody else: until some process needs permits, a dead holder's stay recorded.
 * PID reuse: a pid asked about names the process that has it now. A holder that died and whose pid
 * was reused before anyone asked looks alive until the new process exits (then its permits return
 * too): late, never doubled. A repairer whose pid was reused so stalls the semaphore until the new
 * process exits, unless that process is this JVM (then R1 takes the lease over).
 *
 * Costs with undo: an uncontended acquire or release is two CASes of the entry and one of the word
 * (a first acquire scans for a free entry), under an uncontended Java lock. Without undo nothing
 * of this runs: one CAS of the word.
 *
 * Locking: `this` guards the queue, the sleeper and the exit subscriptions. Futures are
 * completed, and sleepers cancelled, only after the monitor is released, because completion runs
 * user continuations. Watches are made and cancelled under it: PeerWatches runs the exit event
 * outside its own monitor, so the order is always this, then PeerWatches, then ProcessWatch. undoLock guards this
 * view's holder entry (HolderTable's mySlot) and serialises its moves; it is taken inside `this`
 * (a grant in the pump) or alone, never the other way, and nothing waits while holding it. A
 * repair runs outside undoLock (it waits for BUSY, which a holder of undoLock may have set).
 */
public final class SemaphoreCore extends QueuedPrimitive<SemaphoreRequest> implements Semaphore {
  private static final CompletableFuture<Void> ACQUIRED = new Acquired();

  // What a move of permits under undo on exit found (see the overview).
  private static final int TAKEN = 0;
  private static final int TOO_FEW = 1;
  private static final int REPAIRING = 2;

  /**
   * How long a repair waits for a live holder's BUSY to clear before it gives up (for now): a move
   * keeps BUSY for a few CASes unless its process is descheduled or stopped. A pump's repair runs
   * on the ring's completion thread too, which must never wait for another process for long: it
   * gives up sooner, and the sleeper's next re-check tries again.
   */
  private static final long BUSY_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private static final long PUMP_BUSY_WAIT_NANOS = TimeUnit.MICROSECONDS.toNanos(200);

  /**
   * How long a synchronous release (or tryAcquire, briefly) waits for another live process's repair
   * before it gives up: a repair takes microseconds unless its process is stopped.
   */
  static final long REPAIR_WAIT_NANOS = TimeUnit.SECONDS.toNanos(5);

  private static final long TRY_REPAIR_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  private final String name;
  private final SemaphoreWords words; // the object's fields, by access mode
  private final FutexWord word;
  private final WakeSignal wakeAll;
  private final FutexRing ring;
  private final int pid;
  private final MappedRegion region;
  private final HolderTable holders; // null: undo on exit is off
  private final SemaphoreRepair repairs; // null: undo on exit is off
  private final int total; // with undo: available + every record, read once (fixed at creation)
  private final Object undoLock = new Object(); // serialises this view's moves (see the overview)

  /**
   * @param region the region
   * @param offset where the semaphore object starts (SemaphoreDescriptor.SIZE bytes, 64-byte
   *     aligned), initialised by {@link #initialize}
   * @param pid this process's id, as holder entries record it
   * @throws UncheckedIOException of an InvalidRegionException (CORRUPT) if the object's flags have
   *     a bit this version does not know
   */
  public SemaphoreCore(
      String name, MappedRegion region, long offset, FutexScope scope, FutexRing ring, int pid) {
    MemorySegment memory = region.segment();
    FutexWord word = FutexWord.of(memory, offset + SemaphoreDescriptor.WORD_OFFSET, scope);
    super(ring, word, memory, offset + SemaphoreDescriptor.SLEEPERS_OFFSET, false);
    this.name = name;
    this.region = region;
    SemaphoreWords words = new SemaphoreWords(memory, offset);
    this.words = words;
    this.word = word;
    this.wakeAll = ring.wakeSignal(word, FutexRing.WAKE_ALL, FutexRing.ANY_BITSET);
    this.ring = ring;
    this.pid = pid;
    // Written by the creator before the object was published, never changed: a plain read.
    int flags = words.lpFlags();
    String flagsProblem = SemaphoreDescriptor.flagsProblem(flags);
    if (flagsProblem != null) {
      throw region.corruption("has a " + describe() + " whose " + flagsProblem);
    }
    boolean undo = (flags & SemaphoreDescriptor.FLAG_NO_UNDO) == 0;
    // Written by the creator before the object was published, never changed: a plain read, kept.
    int total = words.lpTotal();
    String totalProblem = SemaphoreDescriptor.totalProblem(undo, total);
    if (totalProblem != null) {
      throw region.corruption("has a " + describe() + " whose " + totalProblem);
    }
    this.total = total;
    this.holders = undo ? new HolderTable(region, words, pid, describe()) : null;
    this.repairs =
        undo
            ? new SemaphoreRepair(
                region,
                words,
                pid,
                total,
                holders,
                describe(),
                this::lvWord,
                this::casWord,
                wakeAll::signal,
                peers::alive)
            : null;
  }

  /**
   * Writes a new semaphore object's initial state: {@code initialPermits}, no waiters, the flags of
   * {@code options}. Runs in the region's creating initializer only, before any other process can
   * see the object (which arrives zeroed, so the holder table is empty and the rest zero).
   *
   * @throws IllegalArgumentException if {@code initialPermits} is negative
   */
  public static void initialize(
      MemorySegment object, int initialPermits, SemaphoreOptions options) {
    checkInitial(initialPermits, options);
    SemaphoreWords words = new SemaphoreWords(object, 0);
    words.spWord(initialPermits);
    words.spFlags(options.undoOnExit() ? 0 : SemaphoreDescriptor.FLAG_NO_UNDO);
    if (options.undoOnExit()) {
      words.spTotal(initialPermits);
    }
  }

  /**
   * Returns {@code initialPermits} if it is a valid initial count (0 is) for a semaphore of {@code
   * options}: at most MAX_UNDO_PERMITS with undo on exit (its word gives a bit to REPAIR).
   */
  public static int checkInitial(int initialPermits, SemaphoreOptions options) {
    if (initialPermits < 0) {
      throw new IllegalArgumentException(
          "a semaphore's initial permits must be 0 or more, not " + initialPermits);
    }
    if (options.undoOnExit() && initialPermits > MAX_UNDO_PERMITS) {
      throw new IllegalArgumentException(
          "a semaphore with undo on exit holds at most "
              + MAX_UNDO_PERMITS
              + " permits, not "
              + initialPermits
              + "; ask for fewer, or create it with SemaphoreOptions.builder().undoOnExit(false)");
    }
    return initialPermits;
  }

  /**
   * Refuses {@code options} that disagree with those the semaphore was created with: two processes
   * must not disagree on whether a dead holder's permits come back.
   *
   * @throws IllegalStateException if they disagree
   */
  public void checkOptions(SemaphoreOptions options) {
    if (options.undoOnExit() != (holders != null)) {
      throw new IllegalStateException(
          describe()
              + " was created with undoOnExit "
              + (holders != null)
              + ", and this call asks for "
              + options
              + ": a semaphore's options are fixed when it is created. Pass the options it was"
              + " created with (every process must), or use another name");
    }
  }

  // ---- shared memory, access mode in the name ----

  private int lvWord() {
    return words.lvWord();
  }

  /**
   * Read first, then CAS (test-and-test-and-set): on a page that the file no longer covers (shrunk
   * under the mapping) a compareAndSet kills the JVM with SIGBUS, where the read throws
   * InternalError, which the public API turns into InvalidRegionException(TRUNCATED). A value that
   * differs would fail the CAS anyway. See docs/validation.md, the CAS audit.
   */
  private boolean casWord(int expected, int next) {
    return words.casWord(expected, next);
  }

  // ---- Semaphore ----

  @Override
  public String name() {
    return name;
  }

  // Every public entry that reads the region turns a fault on its memory (InternalError: the file
  // shrank under the mapping) into InvalidRegionException(TRUNCATED); see regionFaulted.

  @Override
  public CompletableFuture<Void> acquire(int permits) {
    checkPermits(permits);
    try {
      return acquire(permits, Deadlines.NONE, -1);
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public CompletableFuture<Void> acquire(int permits, Duration timeout) {
    checkPermits(permits);
    long deadline = Deadlines.after(timeout);
    try {
      return acquire(permits, deadline, Deadlines.nanos(timeout));
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public boolean tryAcquire(int permits) {
    checkPermits(permits);
    checkOpen();
    try {
      return tryAcquireChecked(permits);
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  private boolean tryAcquireChecked(int permits) {
    if (holders == null) {
      return queue.length() == 0 && tryTake(permits);
    }
    if (queue.length() > 0) {
      return false;
    }
    long giveUp = System.nanoTime() + TRY_REPAIR_WAIT_NANOS;
    boolean swept = false;
    while (true) {
      int found = takeRecordedOrSweep(permits, false, false);
      if (found == TAKEN) {
        return true;
      }
      if (found == TOO_FEW) {
        // A dead holder's permits may be what is missing, and with nobody waiting nobody has
        // returned them yet. Then one more try, as if they had been there.
        if (swept || !returnDeadHoldings(false)) {
          return false;
        }
        swept = true;
      } else if (!repairOrWait(giveUp)) {
        return false; // another live process is still repairing: the count is not known now
      }
    }
  }

  @Override
  public void release(int permits) {
    checkPermits(permits);
    checkOpen();
    try {
      releaseChecked(permits);
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  private void releaseChecked(int permits) {
    if (holders == null) {
      add(permits, true);
      return;
    }
    long giveUp = System.nanoTime() + REPAIR_WAIT_NANOS;
    while (releaseRecorded(permits, true) == REPAIRING) {
      if (!repairOrWait(giveUp)) {
        throw repairStalled("nothing was released");
      }
    }
    pumpIfQueued();
  }

  @Override
  public int queueLength() {
    checkOpen();
    try {
      return queueLength((lvWord() & WAITERS) != 0);
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public int availablePermits() {
    checkOpen();
    try {
      return lvWord() & (holders == null ? PERMITS_MASK : UNDO_PERMITS_MASK);
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public int drainPermits() {
    checkOpen();
    try {
      return drainChecked();
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  private int drainChecked() {
    if (holders != null) {
      return drainRecorded();
    }
    for (int v = lvWord(); ; v = lvWord()) {
      int available = v & PERMITS_MASK;
      // keeps WAITERS: nothing was added, and the next release must still wake the sleepers
      if (available == 0) {
        return 0;
      }
      if (casWord(v, v & WAITERS)) {
        return available;
      }
    }
  }

  /** drainPermits with undo on exit: takes and records every available permit, as acquire does. */
  private int drainRecorded() {
    long giveUp = System.nanoTime() + REPAIR_WAIT_NANOS;
    while (true) {
      int available = lvWord() & UNDO_PERMITS_MASK;
      if (available == 0 && (lvWord() & REPAIR) == 0) {
        return 0;
      }
      int found = available == 0 ? REPAIRING : takeRecordedOrSweep(available, true, false);
      if (found == TAKEN) {
        return available;
      }
      if (found == REPAIRING && !repairOrWait(giveUp)) {
        throw repairStalled("nothing was drained");
      }
      // TOO_FEW: another process took some meanwhile; drain what is there now
    }
  }

  @Override
  public String toString() {
    if (closed) {
      return "Semaphore['" + name + "', closed]";
    }
    int v = lvWord();
    String local;
    synchronized (this) {
      SemaphoreRequest head = queue.head();
      local =
          ", "
              + queue.length()
              + " queued here"
              + (head != null ? " (the oldest wants " + head.permits + ")" : "")
              + (sleeper.isArmed() ? ", a kernel wait armed" : "");
    }
    return "Semaphore['"
        + name
        + "', "
        + (v & (holders == null ? PERMITS_MASK : UNDO_PERMITS_MASK))
        + " permits available"
        + ((v & WAITERS) != 0 ? " with waiters" : "")
        + (holders != null && (v & REPAIR) != 0 ? ", being repaired" : "")
        + local
        + ", sleeping processes "
        + sleeper.processesSleeping()
        + describeHolders()
        + "]";
  }

  private String describeHolders() {
    if (holders == null) {
      return ", undo on exit off";
    }
    try {
      int heldHere;
      synchronized (undoLock) {
        heldHere = holders.heldHere();
      }
      return ", held here "
          + heldHere
          + ", holder entries in use "
          + holders.entriesInUse()
          + " of "
          + HOLDER_SLOTS
          + " recording "
          + holders.heldByAll()
          + ", total "
          + total;
    } catch (UncheckedIOException corrupt) {
      return ", holder table corrupt: " + corrupt.getMessage();
    }
  }

  // ---- acquiring ----

  private CompletableFuture<Void> acquire(int permits, long deadline, long timeoutNanos) {
    checkOpen();
    if (queue.length() == 0) {
      if (holders == null) {
        if (tryTake(permits)) {
          return ACQUIRED;
        }
      } else {
        try {
          if (takeRecordedOrSweep(permits, false, false) == TAKEN) {
            return ACQUIRED;
          }
        } catch (SemaphoreHoldersFullException | UncheckedIOException refused) {
          return CompletableFuture.failedFuture(refused); // nothing was taken
        }
      }
    }
    SemaphoreRequest request = new SemaphoreRequest(this, permits, deadline, timeoutNanos);
    arrive(request);
    return request;
  }

  /** Without undo: takes {@code permits} from the word if it has that many; keeps WAITERS. */
  private boolean tryTake(int permits) {
    for (int v = lvWord(); (v & PERMITS_MASK) >= permits; v = lvWord()) {
      if (casWord(v, v - permits)) {
        return true;
      }
    }
    return false;
  }

  // ---- moves under undo on exit (see the overview: steps 1 to 3) ----

  /**
   * Takes {@code permits} from the word and records them in this view's entry, as one move.
   *
   * @param exactly with true, TOO_FEW also when the word has more than {@code permits} (drain)
   * @return TAKEN, TOO_FEW or REPAIRING (then nothing was taken)
   * @throws SemaphoreHoldersFullException if this view has no entry and none is free (nothing
   *     taken)
   * @throws UncheckedIOException of an InvalidRegionException (CORRUPT) for a damaged entry
   */
  private int takeRecorded(int permits, boolean exactly) {
    synchronized (undoLock) {
      int found = takeable(lvWord(), permits, exactly);
      if (found != TAKEN) {
        return found; // decided before claiming an entry: a refused acquire claims nothing
      }
      holders.lockMine(true); // step 1
      int taken = 0;
      try {
        for (int v = lvWord(); ; v = lvWord()) {
          found = takeable(v, permits, exactly);
          if (found != TAKEN) {
            return found;
          }
          if (casWord(v, v - permits)) { // step 2; WAITERS stays as it was
            taken = permits;
            return TAKEN;
          }
        }
      } finally {
        holders.unlockMine(taken); // step 3
      }
    }
  }

  /**
   * {@link #takeRecorded}, and if the table is full, a sweep first: dead processes' entries (even
   * ones recording nothing, left by a kill during a first acquire) are freed by the repair. Not
   * under undoLock (the repair must not run there).
   *
   * @param subscribe under the monitor with requests queued (see returnDeadHoldings)
   */
  private int takeRecordedOrSweep(int permits, boolean exactly, boolean subscribe) {
    try {
      return takeRecorded(permits, exactly);
    } catch (SemaphoreHoldersFullException full) {
      if (!returnDeadHoldings(subscribe)) {
        throw full;
      }
      return takeRecorded(permits, exactly);
    }
  }

  private static int takeable(int v, int permits, boolean exactly) {
    if ((v & REPAIR) != 0) {
      return REPAIRING;
    }
    int available = v & UNDO_PERMITS_MASK;
    return available < permits || (exactly && available != permits) ? TOO_FEW : TAKEN;
  }

  /**
   * Takes {@code permits} off this view's entry and adds them to the word, as one move, clearing
   * WAITERS and waking every sleeper if it was set (a WakeSignal: never blocks).
   *
   * @param refuseBeyond throw if this view holds fewer than {@code permits}; else (a give-back of
   *     permits just recorded) the caller knows it holds them
   * @return TAKEN (released) or REPAIRING (nothing changed)
   * @throws IllegalStateException if this view holds fewer than {@code permits}
   */
  private int releaseRecorded(int permits, boolean refuseBeyond) {
    int old;
    synchronized (undoLock) {
      int held = holders.heldHere();
      if (held < permits) {
        if (!refuseBeyond) {
          return TAKEN; // cannot happen: a give-back's permits were recorded by this view
        }
        throw new IllegalStateException(
            "releasing "
                + permits
                + " permits of "
                + describe()
                + ", which has undo on exit, but this process holds "
                + held
                + " through this region: with undo on exit permits are owned, and a process"
                + " releases only what it acquired. Release at most "
                + held
                + ", or create the semaphore with SemaphoreOptions.builder().undoOnExit(false) to"
                + " signal between processes");
      }
      if ((lvWord() & REPAIR) != 0) {
        return REPAIRING;
      }
      holders.lockMine(false); // step 1 (the entry exists: it holds permits)
      int released = 0;
      try {
        for (old = lvWord(); ; old = lvWord()) {
          if ((old & REPAIR) != 0) {
            return REPAIRING;
          }
          int available = old & UNDO_PERMITS_MASK;
          if ((long) available + permits > total) {
            // the word and the records disagree beyond what any move allows
            throw corruptCount(available, permits);
          }
          if (casWord(old, available + permits)) { // step 2, clearing WAITERS
            released = permits;
            break;
          }
        }
      } finally {
        holders.unlockMine(-released); // step 3
      }
    }
    if ((old & WAITERS) != 0) {
      wakeAll.signal();
    }
    return TAKEN;
  }

  private UncheckedIOException corruptCount(int available, int releasing) {
    return region.corruption(
        "has a "
            + describe()
            + " whose word says "
            + available
            + " permits are available while this process releases "
            + releasing
            + " it holds: more than its total of "
            + total);
  }

  /** A release or drain that waited REPAIR_WAIT_NANOS for a repair that never ended. */
  private IllegalStateException repairStalled(String nothingMoved) {
    int repairer = repairs.lvRepairer();
    return new IllegalStateException(
        describe()
            + " has been under repair for over "
            + TimeUnit.NANOSECONDS.toSeconds(REPAIR_WAIT_NANOS)
            + " s ("
            + (repairer == 0
                ? "repairs kept starting over"
                : "its repairer, process " + repairer + ", is alive but not finishing: stopped?")
            + "); "
            + nothingMoved
            + ". Retry once the repair has ended");
  }

  /**
   * A move found REPAIR: repairs if the repairer is dead (or there is none), else waits a little
   * for the live one.
   *
   * @return true to try the move again; false once {@code giveUp} (System.nanoTime) has passed with
   *     the repair still in progress
   */
  private boolean repairOrWait(long giveUp) {
    for (int spins = 0; (lvWord() & REPAIR) != 0; spins++) {
      if (repairs.repair(BUSY_WAIT_NANOS)) {
        // This call rewrote the word. Another repair may have set REPAIR again since (a process
        // that found a dead holder before ours dropped it): the move retries, and meets that one
        // with the same giveUp, rather than calling this a repair that never finished.
        return true;
      }
      if (System.nanoTime() - giveUp > 0) {
        return (lvWord() & REPAIR) == 0;
      }
      if (spins < 100) {
        Thread.onSpinWait();
      } else {
        Thread.yield();
      }
    }
    return true;
  }

  /**
   * After permits were added outside the pump: requests queued here may fit now. Dekker-style with
   * acquire: it writes the queue's length then reads the word (in the pump), we wrote the word then
   * read the length, both with full fences, so one of us sees the other.
   */
  private void pumpIfQueued() {
    if (queue.length() > 0) {
      released();
    }
  }

  /**
   * The decision on the word (under the monitor; overdue requests have expired): grants the oldest
   * requests while the permits cover them, returns dead holders' permits when the head does not
   * fit, and keeps a sleeper armed while requests remain (see the overview).
   *
   * <p>PEER_EXIT: a watched holder process has exited, so the holder table is swept even though a
   * sleeper is armed.
   */
  @Override
  void decide(Event event, long arrivingDeadline, Effects<SemaphoreRequest> effects) {
    // Sweep at most once a pump, and only when it may find what nobody else will report: before
    // arming a sleeper (every sleeper completion pumps with none armed), or on a holder's exit.
    // An armed sleeper's pumps (local releases, arrivals) rely on the watches made then.
    boolean sweep = holders != null && (event == Event.PEER_EXIT || !sleeper.isArmed());
    // Every `continue` follows a change of the word, ours (a grant, returned permits) or
    // another's (a failed CAS): deciding afresh on the new value is always safe.
    for (int v = lvWord(); ; v = lvWord()) {
      SemaphoreRequest head = queue.head();
      if (head == null) {
        leaveEmpty(effects);
        break;
      }
      if (holders == null) {
        if ((v & PERMITS_MASK) >= head.permits) {
          if (casWord(v, v - head.permits)) {
            queue.unlink(head);
            effects.grant(head, null);
          }
          continue;
        }
      } else if (takeable(v, head.permits, false) == TAKEN) {
        try {
          if (takeRecordedOrSweep(head.permits, false, true) == TAKEN) {
            queue.unlink(head);
            effects.grant(head, null);
          }
        } catch (SemaphoreHoldersFullException | UncheckedIOException refusal) {
          queue.unlink(head); // nothing was taken: the request fails with the reason
          effects.refuse(head, refusal);
        }
        continue;
      }
      if (sweep) {
        sweep = false;
        try {
          // A dead holder's entry, or a repair left by a dead repairer: repair now. A live
          // repairer's R5 wakes the sleeper armed below (on REPAIR | WAITERS).
          if (returnDeadHoldings(true)
              || ((v & REPAIR) != 0 && repairs.repair(PUMP_BUSY_WAIT_NANOS))) {
            continue;
          }
        } catch (UncheckedIOException e) {
          effects.failQueued(e); // the holder table is damaged: fail the queue with it
          peers.unwatchAll();
          break;
        }
      }
      if (sleeper.isArmed() && arrivingDeadline >= sleeper.deadline()) {
        break; // it completes after the next release (see the overview), and pumps then
      }
      int expected = v | WAITERS;
      if (v != expected && !casWord(v, expected)) {
        continue;
      }
      effects.cancel(sleeper.detach()); // armed with a later timeout than the new arrival's
      effects.armed(sleeper.arm(expected, queue.earliestDeadline()));
      break;
    }
  }

  // ---- dead holders and the repair ----

  /**
   * Sweeps the holder table for entries of processes that have exited, and repairs if it finds one.
   * With {@code subscribe} (under the monitor, requests queued) it also watches each live holder's
   * exit, so that the exit pumps; without, it only asks.
   *
   * @return whether a repair rewrote the word
   * @throws UncheckedIOException of an InvalidRegionException (CORRUPT) for a damaged entry
   */
  private boolean returnDeadHoldings(boolean subscribe) {
    boolean deadFound = false;
    int[] named = subscribe ? new int[HOLDER_SLOTS] : null; // the holders the table names now
    for (int slot = 0; slot < HOLDER_SLOTS; slot++) {
      long entry = holders.checkedEntry(slot);
      int holder = HolderTable.pidOf(entry);
      if (entry == 0 || holder == pid) {
        continue; // free, or this process's
      }
      if (subscribe) {
        named[slot] = holder;
      }
      // Watched (or now watched): a live process whose exit the registry will report.
      if (subscribe ? !peers.watch(holder) : !peers.alive(holder)) {
        deadFound = true;
      }
    }
    if (subscribe) {
      peers.unwatchUnless(watched -> names(named, watched)); // entries that name another now
    }
    if (!deadFound) {
      return false;
    }
    return repairs.repair(subscribe ? PUMP_BUSY_WAIT_NANOS : BUSY_WAIT_NANOS);
  }

  private static boolean names(int[] holders, int holder) {
    for (int named : holders) {
      if (named == holder) {
        return true;
      }
    }
    return false;
  }

  // ---- releasing ----

  /**
   * Gives back the permits of a grant that lost to its request's withdrawal: they were recorded as
   * this process's holding, and leave it again. Never throws: it runs inside another caller's grant
   * loop. If the region is closed the permits go with the mapping.
   */
  void giveBack(int permits) {
    if (!closed) {
      try {
        if (holders == null) {
          add(permits, false);
          return;
        }
        long giveUp = System.nanoTime() + REPAIR_WAIT_NANOS;
        while (releaseRecorded(permits, false) == REPAIRING) {
          if (!repairOrWait(giveUp)) {
            return; // still recorded as this view's holding: they return when this process exits
          }
        }
        pumpIfQueued();
      } catch (IllegalStateException e) {
        // closed meanwhile (RegionClosedException, or the memory's arena): nothing to give back to
      } catch (UncheckedIOException corrupt) {
        // a damaged holder table: reported to the next caller that reads it; the permits stay
        // recorded as this view's (the move did not happen)
      }
    }
  }

  /**
   * Adds permits (see {@link #addToWord}) and pumps this process's queue.
   *
   * @param refuseOverflow see {@link #addToWord}
   */
  private void add(int permits, boolean refuseOverflow) {
    addToWord(permits, refuseOverflow);
    pumpIfQueued();
  }

  /**
   * Adds permits, clearing WAITERS in the same CAS, and wakes every sleeper if the bit was set. The
   * wake is a WakeSignal: it never blocks, so this may run under the monitor.
   *
   * @param refuseOverflow throw IllegalArgumentException, changing nothing, if the count would
   *     exceed MAX_PERMITS; else add what fits (a grant's give-back, or a dead holder's permits,
   *     and only when other releases filled the word meanwhile)
   */
  private void addToWord(int permits, boolean refuseOverflow) {
    int old;
    for (old = lvWord(); ; old = lvWord()) {
      int available = old & PERMITS_MASK;
      int room = MAX_PERMITS - available;
      if (permits > room && refuseOverflow) {
        throw new IllegalArgumentException(
            "releasing "
                + permits
                + " permits to semaphore '"
                + name
                + "', which has "
                + available
                + " available, would exceed the maximum of "
                + MAX_PERMITS
                + "; release fewer");
      }
      if (casWord(old, available + Math.min(permits, room))) {
        break;
      }
    }
    if ((old & WAITERS) != 0) {
      wakeAll.signal();
    }
  }

  // ---- closing ----

  /**
   * Fails every queued request and withdraws the sleeper. Releases nothing: a semaphore has no
   * owner. Wakes by direct system call: the mapping goes away next.
   */
  public void close() {
    if (closeQueue()) {
      // Stands in for a WakeSignal still queued: it would reach an unmapped word.
      Futex.wake(word, FutexRing.WAKE_ALL, FutexRing.ANY_BITSET);
    }
  }

  @Override
  String describe() {
    return "semaphore '" + name + "'";
  }

  @Override
  String timeoutMessage(SemaphoreRequest request) {
    return describe()
        + ": "
        + request.permits
        + " permits were not acquired "
        + request.withinTimeout();
  }

  private int checkPermits(int permits) {
    if (permits <= 0) {
      throw new IllegalArgumentException(
          "semaphore '" + name + "': a permit count must be positive, not " + permits);
    }
    return permits;
  }

  /**
   * The future every immediate acquire returns: completed, and shared, so its result cannot be
   * replaced.
   */
  private static final class Acquired extends CompletableFuture<Void> {
    Acquired() {
      super.complete(null);
    }

    @Override
    public void obtrudeValue(Void value) {
      throw new UnsupportedOperationException("an acquire's result cannot be replaced");
    }

    @Override
    public void obtrudeException(Throwable failure) {
      throw new UnsupportedOperationException("an acquire's result cannot be replaced");
    }
  }

  @Override
  RuntimeException regionFault(InternalError fault) {
    return region.truncated(fault);
  }
}
