package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.SemaphoreDescriptor.HOLDER_SLOTS;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.REPAIR;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.UNDO_PERMITS_MASK;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.WAITERS;

import dev.ringlock.core.WakeSignal;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.SemaphoreHoldersFullException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

/*
 * Overview
 *
 * Undo on exit, for one semaphore view: permits are ownership, and every move of them is recorded.
 * SemaphoreCore makes the decisions (which request takes permits, when to sleep); this class makes
 * the moves when the semaphore was created with undo on exit (the descriptor's flags; with
 * SemaphoreOptions.undoOnExit(false) none of it exists and SemaphoreCore moves permits with one
 * CAS of the word). It is separate because it is a protocol of its own, with its own lock, its own
 * waits and its own failure modes, that the decisions need only as "take", "give back" and "sweep".
 *
 * Each view's holding, what it acquired minus what it released, is recorded in its own holder
 * table entry (HolderTable), a release beyond it is refused (IllegalStateException), and the
 * object's total (fixed at creation) is always available + every entry's count, except while some
 * process is between its two steps below. The records are the truth; the word is a count derived
 * from them that a repair recomputes whenever it may be wrong: available = total - the live
 * holders' records.
 *
 * Moving permits (acquire, tryAcquire, drainPermits, a grant in the pump, release, a give-back),
 * one move at a time per view (BUSY on its entry is the view's lock: HolderTable's overview):
 *   1. one CAS of this view's entry setting BUSY (claiming a free or parked one, held 0, for a
 *      view without an entry);
 *   2. one CAS of the word: available -/+ n, refused if REPAIR is set (then nothing moved);
 *   3. one release store of the entry: held +/- n (or unchanged if step 2 was refused), BUSY off;
 *      an entry at 0 stays claimed (parked) for this view's next move.
 * Nothing waits between 1 and 3: step 2 is a CAS loop that gives up on REPAIR. A move that finds
 * REPAIR repairs if the repairer is dead, else waits for the live one, bounded (repairOrWait).
 *
 * Repair (SemaphoreRepair, R1 to R6, and why every kill point is safe): any process that finds a
 * dead holder's entry, or REPAIR set with no live repairer, recomputes the word from the live
 * holders' records under a lease, with REPAIR set so that no step 2 succeeds meanwhile.
 *
 * Who notices a death:
 *   (a) a process with requests queued: each pump that is about to arm a sleeper (and every
 *       sleeper completion pumps with none armed) sweeps the table (sweepAndRepair), and watches
 *       the exit of every other live holder in the peer-watch registry (PeerWatches: one watch
 *       per pid); the exit pumps with a sweep; a sweep that finds a dead holder repairs;
 *   (b) tryAcquire that finds too few permits sweeps (asking isAlive, no subscriptions), repairs if
 *       it found a dead holder and tries once more; acquire queues and pumps;
 *   (c) nobody else: until some process needs permits, a dead holder's stay recorded.
 * PID reuse: a pid asked about names the process that has it now. A holder that died and whose pid
 * was reused before anyone asked looks alive until the new process exits (then its permits return
 * too): late, never doubled. A repairer whose pid was reused so stalls the semaphore until the new
 * process exits, unless that process is this JVM (then R1 takes the lease over).
 *
 * Costs: an uncontended acquire or release is two atomics, the entry's BUSY CAS and the word's
 * CAS, and one release store (a view's first acquire, or one after its parked entry was evicted,
 * claims an entry with the same CAS). Before: three CASes and a Java monitor each way. Every access
 * of a move goes through one local slice of the object (SemaphoreWords), and the first CAS of the
 * word expects the value read before step 1, so an uncontended move reads the word once.
 *
 * Locking: BUSY on this view's entry serialises its moves (HolderTable); it is taken inside the
 * semaphore's monitor (a grant in the pump) or alone, never the other way, and nothing blocks while
 * holding it, so a thread that finds its view's entry BUSY spins briefly (Backoff). A repair never
 * runs while its thread holds BUSY (it waits for BUSY, which another thread of this view may have
 * set). Peer watches are made under the semaphore's monitor (sweepAndRepair's callers hold it).
 */
/** Undo on exit for one semaphore view: recorded moves of permits; see the overview. */
final class SemaphoreUndo {
  // What a move of permits found.
  static final int TAKEN = 0;
  static final int TOO_FEW = 1;
  static final int REPAIRING = 2;

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

  private final MappedRegion region;
  private final SemaphoreWords words; // the semaphore's fields, by access mode
  private final int pid;
  private final String described; // the semaphore, as messages name it
  private final WakeSignal wakeAll;
  private final PeerWatches peers; // the semaphore's: holders watched while requests are queued
  private final HolderTable holders;
  private final SemaphoreRepair repairs;
  private final int total; // available + every record, read once (fixed at creation)

  /**
   * The undo side of a semaphore view being opened, or null if the object was created without undo
   * on exit. Its flags and total were written by the creator before the object was published and
   * never change: plain reads, checked here, the total kept.
   *
   * @throws UncheckedIOException of an InvalidRegionException (CORRUPT) if the flags have a bit
   *     this version does not know, or the total is not one a creator writes
   */
  static SemaphoreUndo open(
      MappedRegion region,
      SemaphoreWords words,
      int pid,
      String described,
      WakeSignal wakeAll,
      PeerWatches peers,
      ObjectStats stats) {
    int flags = words.lpFlags();
    String flagsProblem = SemaphoreDescriptor.flagsProblem(flags);
    if (flagsProblem != null) {
      throw region.corruption("has a " + described + " whose " + flagsProblem);
    }
    boolean undoOnExit = (flags & SemaphoreDescriptor.FLAG_NO_UNDO) == 0;
    int total = words.lpTotal();
    String totalProblem = SemaphoreDescriptor.totalProblem(undoOnExit, total);
    if (totalProblem != null) {
      throw region.corruption("has a " + described + " whose " + totalProblem);
    }
    return undoOnExit
        ? new SemaphoreUndo(region, words, pid, total, described, wakeAll, peers, stats)
        : null;
  }

  private SemaphoreUndo(
      MappedRegion region,
      SemaphoreWords words,
      int pid,
      int total,
      String described,
      WakeSignal wakeAll,
      PeerWatches peers,
      ObjectStats stats) {
    this.region = region;
    this.words = words;
    this.pid = pid;
    this.described = described;
    this.wakeAll = wakeAll;
    this.peers = peers;
    this.total = total;
    this.holders = new HolderTable(region, words, pid, described);
    this.repairs =
        new SemaphoreRepair(
            region, words, pid, total, holders, described, wakeAll, peers::alive, stats);
  }

  // ---- the moves SemaphoreCore makes (steps 1 to 3) ----

  /**
   * tryAcquire: takes {@code permits} now, or returns false; a dead holder's permits may be what is
   * missing (swept and repaired, then one more try), and a live repair is waited for briefly.
   */
  boolean tryAcquire(int permits) {
    // The clock is read only once a repair is in the way: the uncontended path pays no clock read.
    long giveUp = 0;
    boolean waiting = false;
    boolean swept = false;
    while (true) {
      int found = take(permits, false, false);
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
      } else {
        if (!waiting) {
          giveUp = System.nanoTime() + TRY_REPAIR_WAIT_NANOS;
          waiting = true;
        }
        if (!repairOrWait(giveUp)) {
          return false; // another live process is still repairing: the count is not known now
        }
      }
    }
  }

  /**
   * Releases {@code permits} this view holds, waiting out a repair (bounded).
   *
   * @throws IllegalStateException if this view holds fewer, or a repair never ended
   */
  void release(int permits) {
    if (releaseRecorded(permits, true) != REPAIRING) {
      return; // the uncontended path: no clock read (a vDSO call of some 20 ns on a VM)
    }
    long giveUp = System.nanoTime() + REPAIR_WAIT_NANOS;
    do {
      if (!repairOrWait(giveUp)) {
        throw repairStalled("nothing was released");
      }
    } while (releaseRecorded(permits, true) == REPAIRING);
  }

  /**
   * Gives back the permits of a grant that lost to its request's withdrawal: recorded as this
   * view's holding, they leave it again.
   *
   * @return false if a repair never ended: they stay recorded, and return when this process exits
   */
  boolean giveBack(int permits) {
    long giveUp = System.nanoTime() + REPAIR_WAIT_NANOS;
    while (releaseRecorded(permits, false) == REPAIRING) {
      if (!repairOrWait(giveUp)) {
        return false;
      }
    }
    return true;
  }

  /** drainPermits: takes and records every available permit, as acquire does. */
  int drain() {
    long giveUp = System.nanoTime() + REPAIR_WAIT_NANOS;
    while (true) {
      int available = words.lvWord() & UNDO_PERMITS_MASK;
      if (available == 0 && (words.lvWord() & REPAIR) == 0) {
        return 0;
      }
      int found = available == 0 ? REPAIRING : take(available, true, false);
      if (found == TAKEN) {
        return available;
      }
      if (found == REPAIRING && !repairOrWait(giveUp)) {
        throw repairStalled("nothing was drained");
      }
      // TOO_FEW: another process took some meanwhile; drain what is there now
    }
  }

  /**
   * {@link #takeRecorded}, and if the table is full, a sweep first: dead processes' entries (even
   * ones recording nothing, left by a kill during a first acquire) are freed by the repair. Not
   * while holding BUSY (the repair must not run there).
   *
   * @param subscribe under the monitor with requests queued (see returnDeadHoldings)
   * @return TAKEN, TOO_FEW or REPAIRING (then nothing was taken)
   * @throws SemaphoreHoldersFullException if this view has no entry and none is free (nothing
   *     taken)
   */
  int take(int permits, boolean exactly, boolean subscribe) {
    try {
      return takeRecorded(permits, exactly);
    } catch (SemaphoreHoldersFullException full) {
      if (!returnDeadHoldings(subscribe)) {
        throw full;
      }
      return takeRecorded(permits, exactly);
    }
  }

  /** Whether a move of {@code permits} could take them from word value {@code v} now. */
  static boolean fits(int v, int permits) {
    return takeable(v, permits, false) == TAKEN;
  }

  /**
   * The pump's sweep (under the semaphore's monitor, requests queued): returns dead holders'
   * permits, and repairs a repair left by a dead repairer. A live repairer's R5 wakes the sleeper
   * the pump arms next (on REPAIR | WAITERS).
   *
   * @return whether the word was rewritten: the pump decides again
   * @throws UncheckedIOException of an InvalidRegionException (CORRUPT) for a damaged entry
   */
  boolean sweepAndRepair(int v) {
    return returnDeadHoldings(true) || ((v & REPAIR) != 0 && repairs.repair(PUMP_BUSY_WAIT_NANOS));
  }

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
    MemorySegment object = words.object(); // every access through one local (SemaphoreWords)
    int v = SemaphoreWords.lvWord(object);
    int found = takeable(v, permits, exactly);
    if (found != TAKEN) {
      return found; // decided before locking the entry: a refused acquire claims nothing
    }
    holders.lockMine(object, true); // step 1
    TestPausePoints.inSemaphoreMove(described, "take-busy");
    int taken = 0;
    try {
      // The first CAS expects the value read before step 1: it is the read first, and if the
      // word moved since, the CAS fails and the loop reads it again.
      for (; ; v = SemaphoreWords.lvWord(object)) {
        found = takeable(v, permits, exactly);
        if (found != TAKEN) {
          return found;
        }
        // step 2 (v read first); WAITERS stays
        if (SemaphoreWords.casWordSeen(object, v, v - permits)) {
          taken = permits;
          TestPausePoints.inSemaphoreMove(described, "take-word");
          return TAKEN;
        }
      }
    } finally {
      holders.unlockMine(object, taken); // step 3
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
    MemorySegment object = words.object(); // every access through one local (SemaphoreWords)
    int held = holders.lockMine(object, false); // step 1 (-1: no entry: nothing held or locked)
    if (held < permits) {
      if (held >= 0) {
        holders.unlockMine(object, 0);
      }
      if (!refuseBeyond) {
        return TAKEN; // cannot happen: a give-back's permits were recorded by this view
      }
      throw refusedBeyondHolding(permits, Math.max(held, 0));
    }
    TestPausePoints.inSemaphoreMove(described, "release-busy");
    int old;
    int released = 0;
    try {
      for (old = SemaphoreWords.lvWord(object); ; old = SemaphoreWords.lvWord(object)) {
        if ((old & REPAIR) != 0) {
          return REPAIRING;
        }
        int available = old & UNDO_PERMITS_MASK;
        if ((long) available + permits > total) {
          // the word and the records disagree beyond what any move allows
          throw corruptCount(available, permits);
        }
        // step 2 (old just read); WAITERS off
        if (SemaphoreWords.casWordSeen(object, old, available + permits)) {
          released = permits;
          TestPausePoints.inSemaphoreMove(described, "release-word");
          break;
        }
      }
    } finally {
      holders.unlockMine(object, -released); // step 3
    }
    if ((old & WAITERS) != 0) {
      wakeAll.signal();
    }
    return TAKEN;
  }

  private IllegalStateException refusedBeyondHolding(int permits, int held) {
    return new IllegalStateException(
        "releasing "
            + permits
            + " permits of "
            + described
            + ", which has undo on exit, but this process holds "
            + held
            + " through this region: with undo on exit permits are owned, and a process"
            + " releases only what it acquired. Release at most "
            + held
            + ", or create the semaphore with SemaphoreOptions.builder().undoOnExit(false) to"
            + " signal between processes");
  }

  private UncheckedIOException corruptCount(int available, int releasing) {
    return region.corruption(
        "has a "
            + described
            + " whose word says "
            + available
            + " permits are available while this process releases "
            + releasing
            + " it holds: more than its total of "
            + total);
  }

  // ---- dead holders and the repair ----

  /** A release or drain that waited REPAIR_WAIT_NANOS for a repair that never ended. */
  private IllegalStateException repairStalled(String nothingMoved) {
    int repairer = repairs.lvRepairer();
    return new IllegalStateException(
        described
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
    for (int round = 0; (words.lvWord() & REPAIR) != 0; round++) {
      if (repairs.repair(BUSY_WAIT_NANOS)) {
        // This call rewrote the word. Another repair may have set REPAIR again since (a process
        // that found a dead holder before ours dropped it): the move retries, and meets that one
        // with the same giveUp, rather than calling this a repair that never finished.
        return true;
      }
      if (System.nanoTime() - giveUp > 0) {
        return (words.lvWord() & REPAIR) == 0;
      }
      Backoff.pause(round);
    }
    return true;
  }

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
      if (entry == 0 || holder == pid || HolderTable.isParked(entry)) {
        continue; // free, this process's, or parked: holding nothing, it returns nothing
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

  // ---- what toString shows ----

  /** The records, for the semaphore's toString; a damaged table says so instead. */
  String describeRecords() {
    try {
      return ", held here "
          + holders.heldHere()
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
}
