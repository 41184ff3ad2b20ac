package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.SemaphoreDescriptor.HOLDER_SLOTS;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.REPAIR;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.UNDO_PERMITS_MASK;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.WAITERS;

import dev.ringlock.core.WakeSignal;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.core.memory.RegionDescriptor;
import java.io.UncheckedIOException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;

/*
 * Overview
 *
 * The repair of a semaphore with undo on exit (SemaphoreUndo's overview: the records are the truth,
 * the word a count derived from them): it recomputes the word from the live holders' records.
 * Steps 1 to 3 below are a move of permits, as SemaphoreUndo's overview numbers them.
 *
 * Repair, by any process that finds a dead holder's entry, or REPAIR set with no live repairer:
 *   R1. take the lease: CAS repairer 0 -> own pid, or dead pid -> own pid (a pid this JVM does not
 *       repair with any more counts as dead: a dead process's pid reused by this one);
 *   R2. set REPAIR in the word (CAS; kept if a dead repairer left it): from now on no step 2
 *       succeeds, so no live entry's count changes except by finishing a move already past step 2;
 *   R3. read every entry: skip free ones; a dead holder's entry counts nothing (whatever it was
 *       doing); a live holder's entry is read again until BUSY is off (a bounded wait: a stopped
 *       process makes the repair give up, see below; an entry of this process, a thread of ours
 *       between two CASes, is waited out, up to REPAIR_WAIT_NANOS) and its count is summed;
 *   R4. drop the dead entries (CAS entry as read -> 0);
 *   R5. write the word: total - sum, clearing REPAIR and WAITERS in one CAS, and wake every sleeper
 *       if WAITERS was set (sleepers may have armed on REPAIR | WAITERS);
 *   R6. give the lease back (CAS own pid -> 0).
 * Giving up (a live entry stays BUSY past the bound, or the records exceed the total, which is
 * corruption): clear REPAIR and WAITERS, keeping the count as it was (nothing moved it), wake the
 * sleepers, give the lease back. The dead holders' permits stay recorded until the next repair.
 *
 * Every kill point, and why it is safe:
 *   - a mover killed between 1 and 2: nothing moved; its entry (BUSY) is dead, so R3 counts
 *     nothing for it and R5 makes the word total - the others: its old holding comes back.
 *   - between 2 and 3 (the window that lost permits before): the word moved but the entry did not.
 *     R3 ignores the entry entirely and the word is recomputed, so the move does not matter: an
 *     acquire's permits are not lost, a release's are not returned twice.
 *   - after 3: its entry is exact; R3 drops it and returns its holding, once (R5 writes an absolute
 *     value, so a second repair writes the same value, never adds).
 *   - a repairer killed before R2: the lease names a dead pid, the word is untouched; the next
 *     repair takes the lease over.
 *   - between R2 and R5: REPAIR stays set and every move waits; a waiter notices (a pump sees
 *     REPAIR on its next completion, at most Sleeper.RECHECK_MILLIS later; a synchronous call
 *     asks at once) that the lease names a dead pid and repairs from R1. R3 to R5 depend only on
 *     the records, the live set and the total, so a repeat gives the same word. Entries dropped in
 *     R4 were dead and count nothing either way.
 *   - between R5 and R6: the word is right and unlocked; the stale lease is taken over by the next
 *     repair (a dead pid).
 * Races of a live mover with a repair: a step 2 before R2 is finished (step 3) before R3 reads that
 * entry, as R3 waits for BUSY; a step 2 after R2 fails (the word has REPAIR), and step 3 restores
 * the entry's count, so R3 reads it unchanged either way. A claim of a free entry after R3 passed
 * it holds 0 and is freed again by its refused step 3. Two would-be repairers: one lease; the
 * other treats the word as having no permits (a pump arms its sleeper on REPAIR | WAITERS and is
 * woken by R5; a synchronous call waits, bounded).
 *
 * Liveness is the semaphore's PeerWatches question (a zombie is dead; cannot tell: alive, so a
 * live holder's records are counted, late but never twice).
 */
/** The repair of one semaphore view (R1 to R6); see the overview in the source. */
final class SemaphoreRepair {

  /**
   * Repairs in progress in this JVM, of any semaphore: a lease naming this pid while it is 0 was
   * left by a dead process whose pid this one reuses.
   */
  private static final AtomicInteger REPAIRS_HERE = new AtomicInteger();

  private final MappedRegion region;
  private final SemaphoreWords words; // the semaphore's fields (the repairer)
  private final int pid;
  private final int total; // available + every record, fixed at creation
  private final HolderTable holders;
  private final String described; // the semaphore, as messages name it
  private final WakeSignal wakeAll; // every sleeper of the word
  private final IntPredicate alive; // PeerWatches's one liveness question
  private final ObjectStats stats; // counts the permits a repair brings back

  SemaphoreRepair(
      MappedRegion region,
      SemaphoreWords words,
      int pid,
      int total,
      HolderTable holders,
      String described,
      WakeSignal wakeAll,
      IntPredicate alive,
      ObjectStats stats) {
    this.stats = stats;
    this.region = region;
    this.words = words;
    this.pid = pid;
    this.total = total;
    this.holders = holders;
    this.described = described;
    this.wakeAll = wakeAll;
    this.alive = alive;
  }

  // ---- shared memory, access mode in the name ----

  int lvRepairer() {
    return words.lvRepairer();
  }

  /** Read first, then CAS, as SemaphoreWords.casWord. */
  private boolean casRepairer(int expected, int next) {
    return words.casRepairer(expected, next);
  }

  /** Whether {@code holder} is alive, for the repair: this process is; PeerWatches's policy. */
  private boolean aliveForRepair(int holder) {
    return holder == pid || alive.test(holder); // cannot tell: counted as alive (late, not twice)
  }

  /**
   * Recomputes the word from the live holders' records (R1 to R6 in the overview), unless another
   * live process holds the repair lease.
   *
   * @param busyWaitNanos how long to wait for one live entry's BUSY to clear before giving up
   * @return true if this call rewrote the word; false if another live process is repairing, or this
   *     one gave up (then the word is as it was, without REPAIR)
   * @throws UncheckedIOException of an InvalidRegionException (CORRUPT) for a damaged entry or
   *     repairer, or records that exceed the total (the word is left as it was, without REPAIR)
   */
  boolean repair(long busyWaitNanos) {
    REPAIRS_HERE.incrementAndGet(); // before the lease: a lease naming us is then never stale
    try {
      if (!takeRepairLease()) {
        return false;
      }
      try {
        return repairUnderLease(busyWaitNanos);
      } finally {
        casRepairer(pid, 0); // R6
      }
    } finally {
      REPAIRS_HERE.decrementAndGet();
    }
  }

  /** R1: the lease, if it is free or its holder is dead (see the overview). */
  private boolean takeRepairLease() {
    int owner = lvRepairer();
    if (owner == 0) {
      return casRepairer(0, pid);
    }
    if (owner < 0 || owner > RegionDescriptor.PID_MASK) {
      throw region.corruption(
          "has a "
              + described
              + " whose repairer is "
              + Integer.toUnsignedString(owner)
              + " (0, or a pid from 1 to "
              + RegionDescriptor.PID_MASK
              + ")");
    }
    boolean stale =
        owner == pid ? REPAIRS_HERE.get() == 1 /* only this call */ : !aliveForRepair(owner);
    return stale && casRepairer(owner, pid);
  }

  private boolean repairUnderLease(long busyWaitNanos) {
    for (int v = words.lvWord(); (v & REPAIR) == 0; v = words.lvWord()) { // R2
      if (words.casWord(v, v | REPAIR)) {
        break;
      }
    }
    long live = 0;
    long[] dead = new long[HOLDER_SLOTS]; // the entries as read, 0 where not dead
    try {
      for (int slot = 0; slot < HOLDER_SLOTS; slot++) { // R3
        long entry = holders.checkedEntry(slot);
        long busySince = 0;
        for (int round = 0;
            entry != 0 && aliveForRepair(HolderTable.pidOf(entry)) && HolderTable.isBusy(entry);
            round++) {
          // A busy entry of this process is a thread of ours between two CASes: never stopped
          // while we run, only descheduled (on a loaded machine for longer than busyWaitNanos), so
          // it is waited out. Another process's may be stopped (SIGSTOP): give up after the bound.
          long bound =
              HolderTable.pidOf(entry) == pid ? SemaphoreUndo.REPAIR_WAIT_NANOS : busyWaitNanos;
          long now = System.nanoTime();
          if (busySince == 0) {
            busySince = now;
          } else if (now - busySince > bound) {
            giveUpRepair();
            return false;
          }
          Backoff.pause(round); // a descheduled mover may need our core to finish
          entry = holders.checkedEntry(slot);
        }
        if (entry == 0) {
          continue;
        }
        if (aliveForRepair(HolderTable.pidOf(entry))) {
          live += HolderTable.heldOf(entry);
        } else {
          dead[slot] = entry;
        }
      }
    } catch (RuntimeException failed) {
      // a damaged entry (CORRUPT), or the region closing under us: never leave REPAIR behind
      giveUpRepair();
      throw failed;
    }
    if (live > total) {
      giveUpRepair();
      throw region.corruption(
          "has a "
              + described
              + " whose live holders record "
              + live
              + " permits, more than its total of "
              + total);
    }
    for (int slot = 0; slot < HOLDER_SLOTS; slot++) { // R4
      if (dead[slot] != 0) {
        holders.drop(slot, dead[slot]); // fails only if the entry changed: then it was not dead
      }
    }
    publishRepair((int) (total - live)); // R5
    return true;
  }

  /** Giving up a repair: the count as it was (nothing moved it), without REPAIR. */
  private void giveUpRepair() {
    publishRepair(-1);
  }

  /**
   * R5: writes {@code available} (or, if negative, the count as it is) clearing REPAIR and WAITERS
   * in one CAS, and wakes every sleeper if WAITERS was set.
   */
  private void publishRepair(int available) {
    int old;
    for (old = words.lvWord(); ; old = words.lvWord()) {
      if (words.casWord(old, available >= 0 ? available : old & UNDO_PERMITS_MASK)) {
        break;
      }
    }
    if (available > (old & UNDO_PERMITS_MASK)) {
      // what the dead holders' records kept from the word, back now: the recovered permits
      stats.countRecovered(available - (old & UNDO_PERMITS_MASK));
    }
    if ((old & WAITERS) != 0) {
      wakeAll.signal();
    }
  }
}
