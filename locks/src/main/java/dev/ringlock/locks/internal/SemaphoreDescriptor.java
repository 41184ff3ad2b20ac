package dev.ringlock.locks.internal;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.ringlock.locks.Semaphore;
import java.lang.foreign.StructLayout;

/**
 * The layout of a semaphore in a region: nine 64-byte lines shared by every process that maps the
 * region. Line 0 is the hot line: the word every acquire and release touches, and the counts and
 * flags beside it. Lines 1 to 8 are the table of holding processes, from which a dead holder's
 * permits are returned (undo on exit, as SysV's SEM_UNDO; see {@link SemaphoreCore} and {@link
 * HolderTable}).
 *
 * <pre>
 * offset  size  field
 *      0     4  word       permits available (bits 0..30) | WAITERS (bit 31). With undo on exit
 *                          the permits are bits 0..29 and bit 30 is REPAIR
 *      4     4  sleepers   processes with a kernel wait armed on the word (diagnostics)
 *      8     4  starving   reserved (zero): a count of starving processes, should cross-process
 *                          fairness be added as the mutex has it
 *     12     4  flags      creation options, written before the object is published, never
 *                          changed: FLAG_NO_UNDO; every other bit is zero
 *     16     4  total      with undo on exit, the permits the semaphore was created with, never
 *                          changed: available + every holder's record (zero without undo)
 *     20     4  repairer   with undo on exit, 0 or the pid of the process recomputing the word
 *                          (the repair lease; see SemaphoreCore)
 *     24    40  reserved   (zero)
 *     64   512  holders    HOLDER_SLOTS entries of (pid u32, held u32), each read and written as one
 *                          8-byte word (8-byte aligned): 0 = free; else pid (bits 0..29, the
 *                          region's PID_MASK; BUSY in
 *                          bit 31 while the process moves permits between the word and the entry)
 *                          and the permits it holds, 0..total. Untouched with FLAG_NO_UNDO
 * </pre>
 *
 * <p>The word is written only with atomic read-modify-writes (see {@link SemaphoreCore}); the
 * sleepers count with atomic adds; holder entries with 8-byte CAS ({@link HolderTable}); the
 * repairer with CAS. Every value read from the flags, the total, the repairer and the holder table
 * is checked before use (a pid, a held count, unknown flag bits, a total beyond MAX_UNDO_PERMITS):
 * any process sharing the region can write them, and a bad one is reported as corruption.
 *
 * <p>Layout version 2 added total and repairer; version 1 files are refused at open.
 *
 * <p>{@link #LAYOUT} (with {@link #HOLDER} for one entry) is the one definition of these offsets:
 * every constant below is derived from it, {@link SemaphoreWords} reads and writes through them,
 * and a unit test pins each to the table above (docs/region-format.md).
 */
public final class SemaphoreDescriptor {
  /** Entries in the holder table. */
  public static final int HOLDER_SLOTS = 64;

  /** One holder entry: the holder's pid, then the permits it holds, read as one 8-byte word. */
  public static final StructLayout HOLDER =
      structLayout(JAVA_INT.withName("pid"), JAVA_INT.withName("held")).withByteAlignment(8);

  /** One semaphore: the hot line, then the holder table on lines 1 to 8. */
  public static final StructLayout LAYOUT =
      structLayout(
          JAVA_INT.withName("word"),
          JAVA_INT.withName("sleepers"),
          JAVA_INT.withName("starving"),
          JAVA_INT.withName("flags"),
          JAVA_INT.withName("total"),
          JAVA_INT.withName("repairer"),
          paddingLayout(40),
          sequenceLayout(HOLDER_SLOTS, HOLDER).withName("holders"));

  public static final int SIZE = (int) LAYOUT.byteSize(); // 576: 9 lines

  public static final long WORD_OFFSET = offset("word");
  public static final long SLEEPERS_OFFSET = offset("sleepers");
  public static final long STARVING_OFFSET = offset("starving");
  public static final long FLAGS_OFFSET = offset("flags");
  public static final long TOTAL_OFFSET = offset("total");
  public static final long REPAIRER_OFFSET = offset("repairer");

  /** Where the holder table starts: the second line. */
  public static final long HOLDERS_OFFSET = offset("holders");

  /** Bytes of one holder entry. */
  public static final int HOLDER_BYTES = (int) HOLDER.byteSize();

  public static final long HOLDER_PID_OFFSET = HOLDER.byteOffset(groupElement("pid"));
  public static final long HOLDER_HELD_OFFSET = HOLDER.byteOffset(groupElement("held"));

  /**
   * Set in the flags when the semaphore was created with undo on exit off: the holder table is
   * never written, and a dead process's permits stay taken.
   */
  public static final int FLAG_NO_UNDO = 1;

  /** Every flag this version writes: any other bit set is corruption (or a newer layout). */
  public static final int KNOWN_FLAGS = FLAG_NO_UNDO;

  /** The largest number of permits the word holds: 2^31 - 1. */
  public static final int MAX_PERMITS = Semaphore.MAX_PERMITS;

  /** The permit count's bits. */
  public static final int PERMITS_MASK = MAX_PERMITS;

  /**
   * The largest number of permits an undo-on-exit semaphore holds: 2^30 - 1, since its word gives
   * bit 30 to REPAIR. Its count never grows past its total (a release is bounded by the holding).
   */
  public static final int MAX_UNDO_PERMITS = Semaphore.MAX_UNDO_PERMITS;

  /** The permit count's bits in an undo-on-exit semaphore's word. */
  public static final int UNDO_PERMITS_MASK = MAX_UNDO_PERMITS;

  /**
   * Undo on exit only: set while a process recomputes the count from the holders' records. No
   * permit moves while it is set: acquires and releases wait for the repair (or take it over from a
   * dead repairer), and the repair's final write clears it with WAITERS and wakes every sleeper.
   */
  public static final int REPAIR = 1 << 30;

  /**
   * In a holder entry's pid field: the process is moving permits between the word and this entry
   * (its one CAS of the word is pending or done, the entry's held not yet updated). A repair waits
   * for a live process's BUSY to clear; a dead process's entry is dropped whatever its state.
   */
  public static final int HOLDER_BUSY = Integer.MIN_VALUE; // bit 31 of the pid field

  /**
   * Set while some process may be asleep in the kernel on the word: the next release clears it and
   * wakes every sleeper.
   */
  public static final int WAITERS = Integer.MIN_VALUE; // bit 31

  private SemaphoreDescriptor() {}

  /** Where holder entry {@code slot} starts, from the start of the semaphore object. */
  public static long holderOffset(int slot) {
    return HOLDERS_OFFSET + (long) slot * HOLDER_BYTES;
  }

  private static long offset(String field) {
    return LAYOUT.byteOffset(groupElement(field));
  }

  // ---- validation, shared by SemaphoreCore, HolderTable and the read-only RegionSnapshot ----

  /** What is wrong with the flags, or null if every bit set is one this version writes. */
  public static String flagsProblem(int flags) {
    return (flags & ~KNOWN_FLAGS) == 0
        ? null
        : "flags 0x%x have bits no ringlock of this version writes (it knows 0x%x)"
            .formatted(flags, KNOWN_FLAGS);
  }

  /**
   * What is wrong with the total, or null: with undo on exit 0..MAX_UNDO_PERMITS (the permits the
   * semaphore was created with), without it 0 (never written).
   */
  public static String totalProblem(boolean undo, int total) {
    if (undo ? total >= 0 && total <= MAX_UNDO_PERMITS : total == 0) {
      return null;
    }
    return "total is "
        + Integer.toUnsignedString(total)
        + (undo
            ? " (with undo on exit it is 0 to " + MAX_UNDO_PERMITS + ")"
            : " (without undo on exit it is 0)");
  }
}
