package dev.ringlock.locks.internal;

import static dev.ringlock.core.memory.RegionDescriptor.MAX_PID;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.StructLayout;

/**
 * The layout of a read-write mutex in a region: a 64-byte header line holding the state word, and
 * then one 8-byte reader record per view that reads it (a view: one SharedRegion's object; see
 * {@link ReadWriteMutexCore}).
 *
 * <pre>
 * offset  size  field
 *      0     4  word       writer pid (bits 0..26, 0 = none) | PENDING (bit 27)
 *                          | NOT_RECOVERABLE (bit 28) | OWNER_DIED (bit 29) | WAITERS (bit 30)
 *                          | WRITE (bit 31)
 *      4     4  bound      reader records in use: every record at this index or past it is free
 *                          (0); only grows, each claim past it raising it first
 *      8     8  fence      the last write fence issued; only the writer writes it
 *     16     4  sleepers   processes with a kernel wait armed on the word
 *     20    44  reserved   (zero)
 *     64   256  readers    READER_SLOTS records: pid (high 32 bits) | WAITING (bit 31)
 *                          | STARVING (bit 30) | CLOSED (bit 29) | read holds of that view
 *                          (bits 0..28); 0 = free record
 * </pre>
 *
 * <p>The word's states: {@code 0} (or WAITERS alone) is free; {@code WRITE | pid} is claimed by
 * writer {@code pid}, which holds the lock once every reader record's count is 0 (it waits for them
 * while new readers stay out); {@code WRITE | pid | OWNER_DIED} the same for a writer that took the
 * lock over from a writer that died; {@code OWNER_DIED} without WRITE: a writer died and no writer
 * has taken over yet (readers are refused until one does); {@code NOT_RECOVERABLE}: for good.
 * Readers never write the word except to record a writer's death: their holds are counted in their
 * own view's record, which names their process, so a dead reader's holds are found, by pid, and
 * dropped (a process may have several records, one per view).
 *
 * <p>The bound spares a writer the records nobody has claimed: a writer looks at every record, for
 * holds and marks, twice on its uncontended path, and with a few processes reading all but the
 * first few records are free. Raised (by compare-and-set, to the claimed index + 1) before a record
 * past it is claimed, and read after the writer's claim, so a reader whose hold the writer must see
 * raised it before the writer looked; see ReaderRecords' overview. Added in layout version 7: a
 * version 6 process would claim records past it without raising it.
 *
 * <p>{@link #LAYOUT} is the one definition of these offsets; {@link ReadWriteMutexWords} reads and
 * writes through them, and ObjectLayoutsTest pins each to the table above (docs/region-format.md).
 */
public final class ReadWriteMutexDescriptor {
  /** How many processes can hold (or wait for) read locks of one read-write mutex at once. */
  public static final int READER_SLOTS = 32;

  /**
   * One read-write mutex: the header line (the exclusive locks' header, LockHeaderDescriptor), then
   * the reader records.
   */
  public static final StructLayout LAYOUT =
      LockHeaderDescriptor.layout(
          JAVA_INT.withName("bound"),
          paddingLayout(44),
          sequenceLayout(READER_SLOTS, JAVA_LONG).withName("readers"));

  public static final int SIZE = (int) LAYOUT.byteSize();

  public static final long WORD_OFFSET = offset("word");
  public static final long FENCE_OFFSET = offset("fence");
  public static final long SLEEPERS_OFFSET = offset("sleepers");
  public static final long READERS_OFFSET = offset("readers");
  public static final long BOUND_OFFSET = offset("bound");

  /** The writer's pid in the word: pid_max (2^22) fits with room to spare. */
  public static final int WRITER_MASK = (1 << 27) - 1;

  /**
   * With WRITE: the writer has claimed the lock but still waits for readers to leave; it has
   * written nothing, so its death is no writer's death: the claim is simply dropped.
   */
  public static final int PENDING = 1 << 27;

  /** No process can ever hold the lock again: a takeover was released unrepaired. */
  public static final int NOT_RECOVERABLE = 1 << 28;

  /**
   * A writer died holding the lock: with WRITE, the writer that took over has not yet marked the
   * state consistent; without it, no writer has taken over yet.
   */
  public static final int OWNER_DIED = 1 << 29;

  /**
   * Set while some process may be asleep in the kernel on the word: whoever changes it wakes all.
   */
  public static final int WAITERS = 1 << 30;

  /** A writer has claimed the lock (its pid is in the low bits): no new reader may enter. */
  public static final int WRITE = 1 << 31;

  /** What keeps a reader out: a writer's claim, its unrepaired death, or the end of the lock. */
  public static final int BLOCKS_READERS = WRITE | OWNER_DIED | NOT_RECOVERABLE;

  /**
   * In a reader record: this process has a reader at the head of its queue kept out by a writer.
   */
  public static final long WAITING = 1L << 31;

  /**
   * In a reader record: this process has a writer at the head of its queue that has waited past the
   * starvation threshold (ReadWriteDecisions.STARVATION_MILLIS) and lost a round to another
   * process: no writer of another process claims the word before it (fast path, in-process handoff
   * or queue) while the mark stands, unless it is marked too. A writer-only process claims a record
   * for this mark alone. Added in layout version 4: a version 3 process would count it as 2^30 read
   * holds.
   */
  public static final long STARVING = 1L << 30;

  /** The marks a record may carry besides its count. */
  public static final long MARKS = WAITING | STARVING;

  /**
   * In a reader record: its view was closed. The close set it and took the count to 0 in one
   * compare-and-set, giving back every hold of the view at once; an add that finds it (a read
   * racing the close) is refused and taken back, and a release that finds it throws
   * RegionClosedException (its hold was given back). Its count, if any (refused adds on their way
   * out), counts nothing. Only the view's process reuses the record, once the view's mapping is
   * gone (ReaderRecords.ensureSlot); after the process exits, anyone does. Added in layout version
   * 6: a version 5 process would count it as 2^29 read holds.
   */
  public static final long CLOSED = 1L << 29;

  /** In a reader record: the read holds of its view. */
  public static final long COUNT_MASK = CLOSED - 1;

  /**
   * The most read holds one view may have at once: a read past it is refused before its add can
   * carry into the CLOSED bit (half the count's 29 bits, so that adds racing the check cannot reach
   * the bit either).
   */
  public static final long MAX_HOLDS_PER_VIEW = 1L << 28;

  /** The largest fence the lock may record: the next write adds one, which must stay positive. */
  public static final long MAX_FENCE = Long.MAX_VALUE - 1;

  private ReadWriteMutexDescriptor() {}

  private static long offset(String field) {
    return LAYOUT.byteOffset(groupElement(field));
  }

  /** The writer named in a word, 0 when no writer has claimed it. */
  public static int writerOf(int word) {
    return (word & WRITE) != 0 ? word & WRITER_MASK : 0;
  }

  /**
   * What replaces the word {@code v} of a writer that is dead: a claim still pending is dropped
   * (keeping a death it carried over), a held one leaves OWNER_DIED; WAITERS stays.
   */
  public static int afterDeathOf(int v) {
    return (v & PENDING) != 0 ? v & (OWNER_DIED | WAITERS) : OWNER_DIED | (v & WAITERS);
  }

  /** Whether the word says nobody can ever hold the lock again. */
  public static boolean notRecoverable(int word) {
    return (word & NOT_RECOVERABLE) != 0;
  }

  /** The pid a reader record belongs to, 0 when free. */
  public static int recordPid(long record) {
    return (int) (record >>> 32);
  }

  /** The read holds a reader record counts: none once it is CLOSED. */
  public static int recordCount(long record) {
    return (record & CLOSED) != 0 ? 0 : (int) (record & COUNT_MASK);
  }

  /** Whether a reader record's view was closed (CLOSED). */
  public static boolean recordClosed(long record) {
    return (record & CLOSED) != 0;
  }

  /** A fresh reader record of {@code pid}: no holds, not waiting. */
  public static long newRecord(int pid) {
    return (long) pid << 32;
  }

  /** The record of {@code pid} as its view's close() leaves it: CLOSED, no holds, no marks. */
  public static long closedRecord(int pid) {
    return newRecord(pid) | CLOSED;
  }

  // ---- validation, shared by ReadWriteMutexCore and RegionSnapshot: one rule, one message ----

  /** What is wrong with a state word read from the region, or null if ringlock could write it. */
  public static String wordProblem(int word) {
    int writer = word & WRITER_MASK;
    if (writer > MAX_PID) {
      return "state word 0x%08x names pid %d, above the largest pid %d"
          .formatted(word, writer, MAX_PID);
    }
    if ((word & WRITE) == 0 && (writer != 0 || (word & PENDING) != 0)) {
      return "state word 0x%08x names a writer (pid %d) without its claim".formatted(word, writer);
    }
    if ((word & WRITE) != 0 && writer == 0) {
      return "state word 0x%08x claims the lock for pid 0".formatted(word);
    }
    return null;
  }

  /** What is wrong with a reader record, or null if it is free or names a possible pid. */
  public static String recordProblem(int slot, long record) {
    int pid = recordPid(record);
    if (pid < 0 || pid > MAX_PID) {
      return "reader record %d names pid %d, not a pid (0 or 1..%d)".formatted(slot, pid, MAX_PID);
    }
    if (pid == 0 && record != 0) {
      return "reader record %d counts holds (0x%016x) without a pid".formatted(slot, record);
    }
    return null;
  }

  /**
   * How many records from the first a scan must look at for bound {@code bound} read from the
   * region: the bound itself, or every record when it is out of range (a safe look, never an index
   * past the table: boundProblem reports the damage).
   */
  public static int recordsInUse(int bound) {
    return boundInRange(bound) ? bound : READER_SLOTS;
  }

  /** What is wrong with the records' bound, or null if it is 0..READER_SLOTS. */
  public static String boundProblem(int bound) {
    return boundInRange(bound)
        ? null
        : "reader records' bound is %d, outside 0..%d".formatted(bound, READER_SLOTS);
  }

  private static boolean boundInRange(int bound) {
    return bound >= 0 && bound <= READER_SLOTS;
  }

  /**
   * What is wrong with record {@code slot} for the bound {@code bound}, read after it, or null: a
   * record past the bound that is not free was claimed without raising it.
   */
  public static String pastBoundProblem(int slot, long record, int bound) {
    return record != 0 && slot >= recordsInUse(bound)
        ? "reader record %d is in use (0x%016x) past the records' bound %d"
            .formatted(slot, record, bound)
        : null;
  }

  /** What is wrong with the recorded fence, or null if the next write can add one. */
  public static String fenceProblem(long fence) {
    return fence >= 0 && fence <= MAX_FENCE
        ? null
        : "last fence is %d, outside 0..%d (the next fence would overflow)"
            .formatted(fence, MAX_FENCE);
  }
}
