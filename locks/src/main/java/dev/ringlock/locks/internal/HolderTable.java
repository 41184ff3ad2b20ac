package dev.ringlock.locks.internal;

import static dev.ringlock.core.memory.RegionDescriptor.PID_MASK;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.HOLDER_BUSY;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.HOLDER_SLOTS;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.MAX_UNDO_PERMITS;

import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.SemaphoreHoldersFullException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
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
 * first takes permits. When its count returns to 0 the entry is PARKED, not freed: it stays (pid,
 * 0), so that the next acquire locks it with the same one CAS a move makes anyway instead of
 * claiming a slot again. A parked entry holds nothing and belongs to nobody's count: a claim that
 * finds no free entry takes a parked one (EVICTION: CAS (any pid, 0) -> its pid | BUSY), so "at most
 * HOLDER_SLOTS processes hold permits at once" is unchanged. Two views in one process have two
 * entries naming the same pid; neither touches the other's. A view never adopts an entry it did not
 * claim, not even one naming its own pid (a dead process whose pid this one reuses left it).
 *
 * BUSY is the view's lock and the repair's signal. A move (lockMine .. unlockMine) starts with one
 * CAS of the view's entry from (pid, held) to (pid | BUSY, held): it serialises the view's threads
 * (a thread that finds BUSY on its own entry waits: the holder is between two stores, never
 * blocked; a BUSY that outlasts SemaphoreUndo.REPAIR_WAIT_NANOS was written by someone else and is
 * reported as corruption) and tells a repairer that the count is about to disagree with the word. The move ends
 * with ONE RELEASE STORE (pid, held +/- n), BUSY off: while BUSY is set nobody else writes the
 * entry (an eviction CASes only a parked entry without BUSY; a repairer drops only a dead process's
 * entry; the owner's other threads wait), so the store needs no CAS. Ordering: the BUSY CAS comes
 * before the move's CAS of the word in program order and both are volatile, so a repairer whose R2
 * CAS of the word follows the move's sees BUSY (or the final store) when it reads the entry; the
 * release store pairs with the repairer's volatile read and the next move's CAS. Two atomics per
 * move, against four before (BUSY CAS, entry CAS, and a Java monitor's enter and exit). The
 * uncontended lockMine expects exactly (pid, heldHere), the value this view's last move stored: it
 * is valid by construction, so it skips the decode and the damage check, and anything else (BUSY,
 * another pid or count, no entry) fails the compare or the CAS and takes the general path.
 *
 * Whose entry it is: the view keeps its holding in heldHere, written only under BUSY and before the
 * release store, so a thread that wins the BUSY CAS reads it exactly (the CAS reads the previous
 * mover's store). A parked entry may be evicted and re-claimed behind its view's back, by another
 * process (the pid differs: the view claims anew) or by another view of this process (same pid:
 * the holding then differs from heldHere, or both are 0; a view whose heldHere is 0 then shares the
 * entry harmlessly, since it contributes nothing, until the first move that makes them differ sends
 * it to claim its own). A nonzero entry is never evicted, so a view holding permits always finds
 * its own entry: a mismatch there is corruption.
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
  private static final long BUSY_BIT = entry(HOLDER_BUSY, 0); // BUSY's bit in the 8-byte word

  private final MappedRegion region;
  private final SemaphoreWords words;
  private final int pid;
  private final String semaphore; // how messages name it: "semaphore 'pool'"

  private final Object claimLock = new Object(); // serialises this view's claims of a new entry

  private volatile int mySlot = -1; // the entry this view claimed, or -1; written under claimLock
  // This view's holding: written only by the thread holding BUSY on mySlot, before its release
  // store, so the next BUSY holder reads it exactly (diagnostics read it racily).
  private int heldHere;
  private int freeHint; // where the last claim found an entry (claimLock): stale costs a scan

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

  // ---- this view's entry: lockMine .. unlockMine is one move (see the overview) ----

  /** Whether an entry is parked: a pid holding nothing, not moving; another claim may take it. */
  public static boolean isParked(long entry) {
    return entry != 0 && heldOf(entry) == 0 && !isBusy(entry);
  }

  /**
   * Sets BUSY on this view's entry, claiming one (with 0 permits) if it has none and {@code claim}.
   * Every lockMine that returns a count is followed by one {@link #unlockMine} on the same thread.
   * Waits while another thread of this view holds BUSY (it is between two stores).
   *
   * @return the permits this view holds, or -1 if it has no entry and {@code claim} is false
   *     (nothing was locked: it holds nothing)
   * @throws SemaphoreHoldersFullException if it must claim and no entry is free or parked
   * @throws UncheckedIOException of an InvalidRegionException (CORRUPT) if the entry is damaged or
   *     changed under its owner
   */
  int lockMine(boolean claim) {
    return lockMine(words.object(), claim);
  }

  /** lockMine with the semaphore's bytes in a local (SemaphoreWords.lvWord says why). */
  int lockMine(MemorySegment object, boolean claim) {
    // The uncontended move: the entry is exactly as this view left it, (pid, heldHere) without
    // BUSY. That value is valid by construction, so it needs no decoding or damage check; a
    // stale heldHere (another thread's move in flight) fails the comparison or the CAS.
    int slot = mySlot;
    if (slot >= 0) {
      int held = heldHere;
      long mine = entry(pid, held);
      // the read first: a CAS on a shrunk file is SIGBUS
      if (SemaphoreWords.lvHolder(object, slot) == mine
          && SemaphoreWords.casHolderSeen(object, slot, mine, mine | BUSY_BIT)) {
        if (slot == mySlot) {
          return held; // heldHere is exact now: the CAS read the last mover's release store
        }
        // another view's entry after all (see lockMineSlow): as it was
        SemaphoreWords.srHolder(object, slot, mine);
      }
    }
    return lockMineSlow(claim);
  }

  /** lockMine's every other case: claims, an evicted or busy entry, damage. */
  private int lockMineSlow(boolean claim) {
    long busySince = 0; // when a BUSY of this process was first waited past the spins
    for (int round = 0; ; round++) {
      int slot = mySlot;
      if (slot < 0) {
        if (!claim) {
          return -1;
        }
        if (claimAnew(slot)) {
          return 0;
        }
        continue;
      }
      long entry = checkedEntry(slot); // the read first: a CAS on a shrunk file is SIGBUS
      if (pidOf(entry) != pid) {
        // Free or another process's: this parked entry was evicted (a nonzero one never is).
        if (!claim && heldHere == 0) {
          return -1;
        }
        if (claimAnew(slot)) {
          return 0;
        }
        continue;
      }
      if (isBusy(entry)) {
        // A thread of this view (or of a view of this process sharing it) between two stores:
        // never blocked there, only descheduled. BUSY for longer was written by someone else.
        if (round >= Backoff.SPIN_ROUNDS) {
          long now = System.nanoTime();
          if (busySince == 0) {
            busySince = now;
          } else if (now - busySince > SemaphoreUndo.REPAIR_WAIT_NANOS) {
            throw changedUnderOwner(slot);
          }
        }
        Backoff.pause(round);
        continue;
      }
      if (!words.casHolderSeen(slot, entry, entry | BUSY_BIT)) {
        continue; // changed since the read: look again
      }
      int held = heldOf(entry);
      if (held == heldHere && slot == mySlot) {
        return held; // this view's entry, locked
      }
      words.srHolder(slot, entry); // not this view's after all: as it was
      if (slot != mySlot) {
        continue; // another thread of this view claimed a new entry meanwhile: look there
      }
      if (heldHere != 0) {
        throw changedUnderOwner(slot); // a view holding permits is never moved off its entry
      }
      if (!claim) {
        return -1;
      }
      if (claimAnew(slot)) {
        return 0;
      }
    }
  }

  /**
   * Claims a new entry for this view (BUSY, 0 held) if {@code failedSlot} is still its entry (-1
   * for none): a free one, else a parked one (eviction). Its caller then holds BUSY on it.
   *
   * @return false if another thread of this view moved it meanwhile: look again
   */
  private boolean claimAnew(int failedSlot) {
    synchronized (claimLock) {
      if (mySlot != failedSlot) {
        return false;
      }
      if (heldHere != 0) {
        throw changedUnderOwner(failedSlot); // a nonzero entry is never evicted
      }
      int slot = claimFree();
      heldHere = 0;
      mySlot = slot; // after the claim: a thread that reads it finds the entry BUSY and waits
      return true;
    }
  }

  private int claimFree() {
    // checked: a damaged entry anywhere is reported, as the repair would report it
    for (int i = 0; i < HOLDER_SLOTS; i++) {
      int slot = (freeHint + i) % HOLDER_SLOTS;
      if (checkedEntry(slot) == 0 && words.casHolderSeen(slot, 0, entry(pid | HOLDER_BUSY, 0))) {
        freeHint = slot;
        return slot;
      }
    }
    for (int i = 0; i < HOLDER_SLOTS; i++) { // none free: evict a parked one, whoever's
      int slot = (freeHint + i) % HOLDER_SLOTS;
      long entry = checkedEntry(slot);
      if (isParked(entry) && words.casHolderSeen(slot, entry, entry(pid | HOLDER_BUSY, 0))) {
        freeHint = slot;
        return slot;
      }
    }
    throw new SemaphoreHoldersFullException(semaphore, HOLDER_SLOTS);
  }

  /**
   * Ends this thread's move: adds {@code delta} (negative to remove, 0 to restore) to this view's
   * holding and publishes it with one release store that clears BUSY; at 0 the entry is parked.
   */
  void unlockMine(int delta) {
    unlockMine(words.object(), delta);
  }

  /** unlockMine with the semaphore's bytes in a local (SemaphoreWords.lvWord says why). */
  void unlockMine(MemorySegment object, int delta) {
    int slot = mySlot; // stable while this thread holds BUSY on it (claimAnew needs it not ours)
    int held = heldHere + delta;
    if (held < 0 || held > MAX_UNDO_PERMITS) {
      words.srHolder(slot, entry(pid, heldHere));
      throw changedUnderOwner(slot);
    }
    heldHere = held; // before the store that publishes it (see the overview)
    SemaphoreWords.srHolder(object, slot, entry(pid, held));
  }

  private UncheckedIOException changedUnderOwner(int slot) {
    long entry = lvEntry(slot);
    return region.corruption(
        "has a "
            + semaphore
            + " whose holder entry "
            + slot
            + ", owned by this process ("
            + pid
            + ") recording "
            + heldHere
            + " permits, was changed by another to process "
            + Integer.toUnsignedString(pidOf(entry))
            + (isBusy(entry) ? " (busy)" : "")
            + " holding "
            + Integer.toUnsignedString(heldOf(entry))
            + " permits");
  }

  /** The permits this view holds (a racy read outside a move: for diagnostics). */
  int heldHere() {
    return heldHere;
  }

  /** How many entries are in use, parked ones not counted (a snapshot). */
  int entriesInUse() {
    int used = 0;
    for (int slot = 0; slot < HOLDER_SLOTS; slot++) {
      long entry = lvEntry(slot);
      if (entry != 0 && !isParked(entry)) {
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
