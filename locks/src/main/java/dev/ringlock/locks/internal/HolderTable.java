package dev.ringlock.locks.internal;

import static dev.ringlock.core.memory.RegionDescriptor.PID_MASK;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.HOLDER_BUSY;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.HOLDER_SLOTS;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.MAX_UNDO_PERMITS;

import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.SemaphoreHoldersFullException;
import java.io.UncheckedIOException;
import java.nio.ByteOrder;

/*
 * Overview
 *
 * A semaphore's table of holding processes (SemaphoreDescriptor, lines 1 to 8): HOLDER_SLOTS
 * entries of (pid u32, held u32), each read and written as one 64-bit word, so that a pid, its
 * BUSY bit and its count change together. 0 is a free entry. An entry records the permits its
 * process took and has not given back; these records are the truth the repair (SemaphoreRepair)
 * recomputes the count from (available = total - the live holders' records).
 *
 * One entry per view: each SemaphoreCore (one process's view of the semaphore through one
 * SharedRegion) owns at most one entry, mySlot, which it claims (CAS 0 -> its pid | BUSY) when it
 * first takes permits and frees when its count returns to 0. Two views in one process have two
 * entries naming the same pid; neither touches the other's. A view never adopts an entry it did not
 * claim, not even one naming its own pid (a dead process whose pid this one reuses left it).
 *
 * BUSY: the owner sets it (lockMine) before its one CAS of the semaphore's word and clears it
 * (unlockMine) in the same CAS of the entry that adds or removes the permits the word CAS moved.
 * Between the two the entry's count is not yet what the word says, so a repair waits for a live
 * process's BUSY to clear; a dead process's entry is dropped, BUSY or not. Owner-only writes while
 * it lives (the caller serialises its view's calls), a repairer's drop only once the owner is dead:
 * the entry has one writer at a time, so a failed CAS means another process wrote values no
 * ringlock writes, reported as corruption.
 *
 * Distrust: every entry read is checked (checkedEntry) before it is used: a pid outside
 * 1..PID_MASK (pid bits 30 set), a count above MAX_UNDO_PERMITS, BUSY on a free pid, are
 * corruption, thrown as the region's corruption exception, never used as a number of permits.
 */
public final class HolderTable {
  // Where the descriptor's HOLDER layout puts the pid and the count inside the 8-byte word the
  // entry is read as: derived from their byte offsets, in the native order the word is read in.
  private static final int PID_SHIFT = shiftOf(SemaphoreDescriptor.HOLDER_PID_OFFSET);
  private static final int HELD_SHIFT = shiftOf(SemaphoreDescriptor.HOLDER_HELD_OFFSET);
  private static final long U32 = 0xFFFF_FFFFL;

  private final MappedRegion region;
  private final SemaphoreWords words;
  private final int pid;
  private final String semaphore; // how messages name it: "semaphore 'pool'"

  // ---- guarded by the owning view's undo lock (SemaphoreUndo) ----
  private int mySlot = -1; // the entry this view claimed, or -1
  private int freeHint; // where the last claim found a free entry: a stale value only costs a scan

  HolderTable(MappedRegion region, SemaphoreWords words, int pid, String semaphore) {
    this.region = region;
    this.words = words;
    this.pid = pid;
    this.semaphore = semaphore;
  }

  private static int shiftOf(long byteOffset) {
    long fromLowByte =
        ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN
            ? byteOffset
            : SemaphoreDescriptor.HOLDER_BYTES - Integer.BYTES - byteOffset;
    return (int) fromLowByte * Byte.SIZE;
  }

  /**
   * The 8-byte word of an entry naming {@code pidField} (with BUSY or not) holding {@code held}.
   */
  public static long entry(int pidField, int held) {
    return (Integer.toUnsignedLong(pidField) << PID_SHIFT)
        | (Integer.toUnsignedLong(held) << HELD_SHIFT);
  }

  /** The pid of a holder entry read as one 8-byte word, without BUSY (inspection uses it too). */
  public static int pidOf(long entry) {
    return (int) ((entry >>> PID_SHIFT) & U32) & ~HOLDER_BUSY;
  }

  /** Whether the entry's process is moving permits between the word and the entry. */
  public static boolean isBusy(long entry) {
    return (((entry >>> PID_SHIFT) & U32) & HOLDER_BUSY) != 0;
  }

  /** The permits a holder entry read as one 8-byte word records. */
  public static int heldOf(long entry) {
    return (int) ((entry >>> HELD_SHIFT) & U32);
  }

  /**
   * Whether an entry is one no ringlock writes: a pid outside 1..PID_MASK (or bit 30 of its pid
   * field set), a count above MAX_UNDO_PERMITS. 0 is a free entry and valid.
   */
  public static boolean isDamaged(long entry) {
    if (entry == 0) {
      return false;
    }
    int holder = pidOf(entry);
    int held = heldOf(entry);
    return holder <= 0 || holder > PID_MASK || held < 0 || held > MAX_UNDO_PERMITS;
  }

  /**
   * What is wrong with the entry in {@code slot}, or null if it is one a ringlock writes (see
   * {@link #isDamaged}): the one rule the library and the read-only RegionSnapshot apply.
   */
  public static String entryProblem(int slot, long entry) {
    if (!isDamaged(entry)) {
      return null;
    }
    return ("holder entry %d records process %s holding %s permits (pids are 1 to %d, counts 0"
            + " to %d, and a free entry is all zero)")
        .formatted(
            slot,
            Integer.toUnsignedString((int) ((entry >>> PID_SHIFT) & U32)),
            Integer.toUnsignedString(heldOf(entry)),
            PID_MASK,
            MAX_UNDO_PERMITS);
  }

  // ---- shared memory, access mode in the name ----

  private long lvEntry(int slot) {
    return words.lvHolder(slot);
  }

  /** Read first, then CAS: see MutexWords for why (a CAS on a shrunk file's page is SIGBUS). */
  private boolean casEntry(int slot, long expected, long next) {
    return words.casHolder(slot, expected, next);
  }

  /**
   * The entry in {@code slot} (0..HOLDER_SLOTS-1), checked: 0, or a pid in 1..PID_MASK (BUSY or
   * not) with a count in 0..MAX_UNDO_PERMITS.
   *
   * @throws UncheckedIOException of an InvalidRegionException (CORRUPT) for anything else
   */
  long checkedEntry(int slot) {
    long entry = lvEntry(slot);
    String problem = entryProblem(slot, entry);
    if (problem != null) {
      throw region.corruption("has a " + semaphore + " whose " + problem);
    }
    return entry;
  }

  /**
   * A repairer's drop of a dead process's entry: frees {@code slot} if it still holds {@code
   * expected}.
   */
  boolean drop(int slot, long expected) {
    return casEntry(slot, expected, 0);
  }

  // ---- this view's entry: the caller holds its view's undo lock (SemaphoreUndo) ----

  /**
   * Sets BUSY on this view's entry, claiming a free entry (with 0 permits) if it has none and
   * {@code claim}. Every lockMine that returns is followed by one {@link #unlockMine}.
   *
   * @return the permits the entry records, or -1 if this view has no entry and {@code claim} is
   *     false (nothing was locked)
   * @throws SemaphoreHoldersFullException if it must claim and every entry is taken
   * @throws UncheckedIOException of an InvalidRegionException (CORRUPT) if the entry is damaged or
   *     changed under its owner
   */
  int lockMine(boolean claim) {
    if (mySlot >= 0) {
      long entry = ownEntry(false); // just read: the CAS needs no second read
      if (!words.casHolderSeen(mySlot, entry, entry | entry(HOLDER_BUSY, 0))) {
        throw changedUnderOwner();
      }
      return heldOf(entry);
    }
    if (!claim) {
      return -1;
    }
    for (int i = 0; i < HOLDER_SLOTS; i++) {
      int slot = (freeHint + i) % HOLDER_SLOTS;
      // checked: a damaged entry anywhere is reported, as the repair would report it
      if (checkedEntry(slot) == 0 && words.casHolderSeen(slot, 0, entry(pid | HOLDER_BUSY, 0))) {
        mySlot = slot;
        freeHint = slot;
        return 0;
      }
    }
    throw new SemaphoreHoldersFullException(semaphore, HOLDER_SLOTS);
  }

  /**
   * Adds {@code delta} (negative to remove) to this view's entry and clears BUSY in the same CAS;
   * frees the entry when its count reaches 0.
   */
  void unlockMine(int delta) {
    long entry = ownEntry(true);
    int held = heldOf(entry) + delta;
    if (held < 0 || held > MAX_UNDO_PERMITS) {
      throw changedUnderOwner();
    }
    if (!words.casHolderSeen(mySlot, entry, held == 0 ? 0 : entry(pid, held))) { // entry just read
      throw changedUnderOwner();
    }
    if (held == 0) {
      mySlot = -1;
    }
  }

  /** This view's entry, which must name this process with BUSY as {@code busy} says. */
  private long ownEntry(boolean busy) {
    long entry = checkedEntry(mySlot);
    if (pidOf(entry) != pid || isBusy(entry) != busy) {
      throw changedUnderOwner();
    }
    return entry;
  }

  private UncheckedIOException changedUnderOwner() {
    long entry = lvEntry(mySlot);
    return region.corruption(
        "has a "
            + semaphore
            + " whose holder entry "
            + mySlot
            + ", owned by this process ("
            + pid
            + "), was changed by another to process "
            + Integer.toUnsignedString(pidOf(entry))
            + (isBusy(entry) ? " (busy)" : "")
            + " holding "
            + Integer.toUnsignedString(heldOf(entry))
            + " permits");
  }

  /** The permits this view's entry records (0 without one); caller holds the undo lock. */
  int heldHere() {
    return mySlot < 0 ? 0 : heldOf(ownEntry(false));
  }

  /** How many entries are in use (a snapshot). */
  int entriesInUse() {
    int used = 0;
    for (int slot = 0; slot < HOLDER_SLOTS; slot++) {
      if (lvEntry(slot) != 0) {
        used++;
      }
    }
    return used;
  }

  /**
   * The sum of every entry's permits, live or dead (a snapshot, for diagnostics).
   *
   * @throws UncheckedIOException of an InvalidRegionException (CORRUPT) for a damaged entry
   */
  long heldByAll() {
    long held = 0;
    for (int slot = 0; slot < HOLDER_SLOTS; slot++) {
      held += heldOf(checkedEntry(slot));
    }
    return held;
  }
}
