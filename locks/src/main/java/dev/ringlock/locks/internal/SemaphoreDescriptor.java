package dev.ringlock.locks.internal;

import dev.ringlock.locks.Semaphore;

/**
 * The layout of a semaphore in a region: nine 64-byte lines shared by every process that maps the
 * region. Line 0 is the hot line: the word every acquire and release touches, and the counts and
 * flags beside it. Lines 1 to 8 are the table of holding processes, from which a dead holder's
 * permits are returned (undo on exit, as SysV's SEM_UNDO; see {@link SemaphoreCore} and {@link
 * HolderTable}).
 *
 * <pre>
 * offset  size  field
 *      0     4  word       permits available (bits 0..30) | WAITERS (bit 31)
 *      4     4  sleepers   processes with a kernel wait armed on the word (diagnostics)
 *      8     4  starving   reserved (zero): a count of starving processes, should cross-process
 *                          fairness be added as the mutex has it
 *     12     4  flags      creation options, written before the object is published, never
 *                          changed: FLAG_NO_UNDO; every other bit is zero
 *     16    48  reserved   (zero)
 *     64   512  holders    HOLDER_SLOTS entries of (pid u32, held u32), each read and written as one
 *                          8-byte word (8-byte aligned): 0 = free; else the permits process pid took
 *                          and has not given back, 0..MAX_PERMITS. Untouched with FLAG_NO_UNDO
 * </pre>
 *
 * <p>The word is written only with atomic read-modify-writes (see {@link SemaphoreCore}); the
 * sleepers count with atomic adds; holder entries with 8-byte CAS ({@link HolderTable}). Every
 * value read from the flags and the holder table is checked before use (a pid, a held count,
 * unknown flag bits): any process sharing the region can write them, and a bad one is reported as
 * corruption.
 */
public final class SemaphoreDescriptor {
  public static final int WORD_OFFSET = 0;
  public static final int SLEEPERS_OFFSET = 4;
  public static final int STARVING_OFFSET = 8;
  public static final int FLAGS_OFFSET = 12;

  /** Where the holder table starts: the second line. */
  public static final int HOLDERS_OFFSET = 64;

  /** Entries in the holder table. */
  public static final int HOLDER_SLOTS = 64;

  /** Bytes of one holder entry: the holder's pid, then the permits it holds. */
  public static final int HOLDER_BYTES = 8;

  public static final int HOLDER_PID_OFFSET = 0;
  public static final int HOLDER_HELD_OFFSET = 4;

  public static final int SIZE = HOLDERS_OFFSET + HOLDER_SLOTS * HOLDER_BYTES; // 576: 9 lines

  /**
   * Set in the flags when the semaphore was created with undo on exit off: the holder table is
   * never written, and a dead process's permits stay taken.
   */
  public static final int FLAG_NO_UNDO = 1;

  /** Every flag this version writes: any other bit set is corruption (or a newer layout). */
  public static final int KNOWN_FLAGS = FLAG_NO_UNDO;

  /** The largest pid a holder entry may record: PIDs are below 2^22 (pid_max), within 30 bits. */
  public static final int MAX_HOLDER_PID = (1 << 30) - 1;

  /** The largest number of permits the word holds: 2^31 - 1. */
  public static final int MAX_PERMITS = Semaphore.MAX_PERMITS;

  /** The permit count's bits. */
  public static final int PERMITS_MASK = MAX_PERMITS;

  /**
   * Set while some process may be asleep in the kernel on the word: the next release clears it and
   * wakes every sleeper.
   */
  public static final int WAITERS = Integer.MIN_VALUE; // bit 31

  private SemaphoreDescriptor() {}

  // ---- validation, shared by SemaphoreCore, HolderTable and the read-only RegionReport ----

  /** What is wrong with the flags, or null if every bit set is one this version writes. */
  public static String flagsProblem(int flags) {
    return (flags & ~KNOWN_FLAGS) == 0
        ? null
        : "flags 0x%x have bits no ringlock of this version writes (it knows 0x%x)"
            .formatted(flags, KNOWN_FLAGS);
  }

  /**
   * What is wrong with a holder entry (its pid and count), or null: all zero (free), or a pid in
   * 1..MAX_HOLDER_PID with a count in 0..MAX_PERMITS.
   */
  public static String holderProblem(int slot, int pid, int held) {
    if ((pid == 0 && held == 0) || (pid > 0 && pid <= MAX_HOLDER_PID && held >= 0)) {
      return null;
    }
    return ("holder entry %d records process %s holding %s permits (pids are 1 to %d, counts 0"
            + " to %d, and a free entry is all zero)")
        .formatted(
            slot,
            Integer.toUnsignedString(pid),
            Integer.toUnsignedString(held),
            MAX_HOLDER_PID,
            MAX_PERMITS);
  }
}
