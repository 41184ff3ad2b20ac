package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.SemaphoreDescriptor.HOLDERS_OFFSET;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.HOLDER_BYTES;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.HOLDER_SLOTS;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.MAX_PERMITS;

import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.SemaphoreHoldersFullException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/*
 * Overview
 *
 * A semaphore's table of holding processes (SemaphoreDescriptor, lines 1 to 8): HOLDER_SLOTS
 * entries of (pid u32, held u32), each read and written as one 64-bit word, so that a pid and its
 * count change together. 0 is a free entry. An entry records permits that process `pid` took and
 * has not given back; when the process dies, a recoverer claims the entry (CAS entry -> 0) and
 * returns its permits to the semaphore's word (SemaphoreCore does that part).
 *
 * Who writes an entry: the process it names, while it lives (record and forget, below), and a
 * recoverer, only once that process is dead (claim). The two never meet on one entry, except
 * through PID reuse (see SemaphoreCore's overview). Every write is a CAS of the whole entry against
 * the value just read, so a claim and an update never mix: whichever CAS comes second fails and
 * looks again.
 *
 * One process, several entries: two threads of one process (or two SharedRegions of one process on
 * the same file) can claim two free entries at once for the same pid. That is allowed: a holding
 * is the sum of the entries that name the process, forget walks them all, and each is freed when it
 * reaches 0. It costs slots only while both are non-zero.
 *
 * Costs: the entry this object last used (slotHint) is tried first, so an uncontended acquire and
 * release touch one entry each, one CAS each; an entry is freed by the same CAS that takes its
 * count to 0, so freeing costs nothing extra. The hint is a plain int: a stale value only sends the
 * caller to the full scan.
 *
 * Distrust: every entry read is checked (checkedEntry) before it is used: a pid outside
 * 1..MAX_HOLDER_PID, a count above MAX_PERMITS, or a count without a pid is corruption, thrown as
 * the region's corruption exception, never used as a number of permits.
 */
public final class HolderTable {
  private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

  // The descriptor places the pid in the entry's first 4 bytes and the count in the next 4.
  private static final int PID_SHIFT = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? 0 : 32;
  private static final int HELD_SHIFT = 32 - PID_SHIFT;
  private static final long U32 = 0xFFFF_FFFFL;

  private final MappedRegion region;
  private final MemorySegment memory;
  private final long tableAt;
  private final int pid;
  private final String semaphore; // how messages name it: "semaphore 'pool'"
  private int slotHint; // racy by design: validated against the entry before use

  HolderTable(MappedRegion region, long objectOffset, int pid, String semaphore) {
    this.region = region;
    this.memory = region.segment();
    this.tableAt = objectOffset + HOLDERS_OFFSET;
    this.pid = pid;
    this.semaphore = semaphore;
  }

  static long entry(int pid, int held) {
    return (Integer.toUnsignedLong(pid) << PID_SHIFT)
        | (Integer.toUnsignedLong(held) << HELD_SHIFT);
  }

  /** The pid of a holder entry read as one 8-byte word (inspection tools decode it here too). */
  public static int pidOf(long entry) {
    return (int) ((entry >>> PID_SHIFT) & U32);
  }

  /** The permits a holder entry read as one 8-byte word records. */
  public static int heldOf(long entry) {
    return (int) ((entry >>> HELD_SHIFT) & U32);
  }

  // ---- shared memory, access mode in the name ----

  private long lvEntry(int slot) {
    return (long) LONG.getVolatile(memory, entryAt(slot));
  }

  /**
   * Read first, then CAS (test-and-test-and-set): on a page that the file no longer covers (shrunk
   * under the mapping) a compareAndSet kills the JVM with SIGBUS, where the read throws
   * InternalError, which the public API turns into InvalidRegionException(TRUNCATED). A value that
   * differs would fail the CAS anyway. See docs/validation.md, the CAS audit.
   */
  private boolean casEntry(int slot, long expected, long next) {
    return lvEntry(slot) == expected && LONG.compareAndSet(memory, entryAt(slot), expected, next);
  }

  private long entryAt(int slot) {
    return tableAt + (long) slot * HOLDER_BYTES;
  }

  /**
   * The entry in {@code slot} (0..HOLDER_SLOTS-1), checked: 0, or a pid in 1..MAX_HOLDER_PID with a
   * count in 0..MAX_PERMITS.
   *
   * @throws UncheckedIOException of an InvalidRegionException (CORRUPT) for anything else
   */
  long checkedEntry(int slot) {
    long entry = lvEntry(slot);
    int holder = pidOf(entry);
    int held = heldOf(entry);
    String problem = SemaphoreDescriptor.holderProblem(slot, holder, held);
    if (problem != null) {
      throw region.corruption("has a " + semaphore + " whose " + problem);
    }
    return entry;
  }

  /** Frees {@code slot} if it still holds {@code expected}: a recoverer's claim. */
  boolean claim(int slot, long expected) {
    return casEntry(slot, expected, 0);
  }

  // ---- this process's holding ----

  /**
   * Adds {@code permits} to this process's holding, already taken from the word. A holding is
   * capped at MAX_PERMITS: more could never be returned to the word anyway.
   *
   * @throws SemaphoreHoldersFullException if no entry names this process and none is free
   */
  void record(int permits) {
    if (addTo(slotHint, permits)) {
      return;
    }
    while (true) {
      int free = -1;
      int mine = -1;
      for (int slot = 0; slot < HOLDER_SLOTS && mine < 0; slot++) {
        long entry = checkedEntry(slot);
        if (entry != 0 && pidOf(entry) == pid) {
          mine = slot;
        } else if (entry == 0 && free < 0) {
          free = slot;
        }
      }
      int slot = mine >= 0 ? mine : free;
      if (slot < 0) {
        throw new SemaphoreHoldersFullException(semaphore, HOLDER_SLOTS);
      }
      if (addTo(slot, permits)) {
        slotHint = slot;
        return;
      }
      // that entry changed under us (another thread here, or another process took the free one)
    }
  }

  /**
   * Adds to {@code slot} if it is this process's entry or free; false if it names another process.
   * Retries its own failed CASes: only this process and a recoverer of a dead one write the entry.
   */
  private boolean addTo(int slot, int permits) {
    for (long entry = checkedEntry(slot); ; entry = checkedEntry(slot)) {
      if (entry != 0 && pidOf(entry) != pid) {
        return false;
      }
      int held = (int) Math.min(MAX_PERMITS, (long) heldOf(entry) + permits);
      if (casEntry(slot, entry, entry(pid, held))) {
        return true;
      }
    }
  }

  /**
   * Takes up to {@code permits} off this process's holding, never below zero (a process may release
   * permits it never acquired: they are a signal, not a holding), freeing each entry that reaches
   * 0.
   *
   * @return how many were taken off
   */
  int forget(int permits) {
    int left = takeFrom(slotHint, permits);
    for (int slot = 0; slot < HOLDER_SLOTS && left > 0; slot++) {
      int before = left;
      left = takeFrom(slot, left);
      if (left < before) {
        slotHint = slot;
      }
    }
    return permits - left;
  }

  /** Takes up to {@code permits} off {@code slot} if it is this process's; returns what is left. */
  private int takeFrom(int slot, int permits) {
    for (long entry = checkedEntry(slot); ; entry = checkedEntry(slot)) {
      if (entry == 0 || pidOf(entry) != pid) {
        return permits;
      }
      int held = heldOf(entry);
      int taken = Math.min(held, permits);
      long next = held == taken ? 0 : entry(pid, held - taken);
      if (casEntry(slot, entry, next)) {
        return permits - taken;
      }
    }
  }

  /** The permits this process's entries record (a snapshot). */
  long heldHere() {
    long held = 0;
    for (int slot = 0; slot < HOLDER_SLOTS; slot++) {
      long entry = checkedEntry(slot);
      if (entry != 0 && pidOf(entry) == pid) {
        held += heldOf(entry);
      }
    }
    return held;
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

  /** This process's id, as its entries record it. */
  int pid() {
    return pid;
  }
}
