package dev.ringlock.locks.internal;

import static dev.ringlock.core.memory.RegionDescriptor.MAX_PID;
import static dev.ringlock.core.memory.RegionDescriptor.PID_MASK;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.StructLayout;

/**
 * The layout of a mutex in a region: one 64-byte object, so one cache line, shared by every process
 * that maps the region. All of it is written only with atomic or release accesses (see {@link
 * MutexCore}).
 *
 * <pre>
 * offset  size  field
 *      0     4  word       0 = free; else owner pid (bits 0..29, RegionDescriptor.PID_MASK)
 *                          | WAITERS (bit 30) | OWNER_DIED (bit 31)
 *      4     4  hold tag   the low 32 bits of the fence of the hold in place (while held, or
 *                          after its holder died), or of that fence + 1 once it was released
 *      8     8  fence      the fence the last acquisition drew; only the holder writes it
 *     16     4  sleepers   processes with a kernel wait armed on the word
 *     20     4  summary    the starving summary: 0 = no process is marked in the table
 *                          below; else one may be (read the table)
 *     24     8  reserved   (zero)
 *     32    32  starving   STARVING_SLOTS pids of processes whose oldest waiter starved (0 = none)
 * </pre>
 *
 * <p>The word's states: 0 or WAITERS is free; {@code pid [| WAITERS]} is held by {@code pid};
 * {@code pid | OWNER_DIED [| WAITERS]} is held by a process that took it over from an owner that
 * died, and has not yet marked it consistent; {@code OWNER_DIED [| WAITERS]} with no pid is not
 * recoverable, for good. A pid read from the word is never used as an index: it is only compared
 * and asked about (is that process alive?), so any value is safe to read.
 *
 * <p>Starving processes are recorded by pid, not counted, so that one that dies can be found and
 * removed: a count cannot tell whose share is stale. A process claims a zero slot with a CAS and
 * clears its own on the way out; anyone may clear the slot of a dead process.
 *
 * <p>The starving summary lets the uncontended path ask "is anyone marked?" with one load instead
 * of the table's four: a process sets it after claiming a slot, and whoever clears a slot clears it
 * again when the table is empty, then looks again (StarvingTable says why no mark is lost). Any
 * value is safe to read: it is only compared with 0, and a summary set over an empty table only
 * sends the fast path to read the table (which clears it).
 *
 * <p>The word and the hold tag are one 8-byte-aligned pair (layout version 6): a release is one
 * 64-bit CAS from exactly "this process holds, and the tag is this hold's" to "free, tag moved on",
 * so the once-only claim, freeing the word and learning WAITERS are one locked instruction
 * (MutexOwnership's overview). The word stays the 32-bit futex word the kernel waits on; every
 * other access to it stays 32-bit. The logical last fence is {@link #lastFence}: the fence field,
 * plus one if the tag says its hold was released. Any tag value is safe to read: it is only
 * compared.
 *
 * <p>{@link #LAYOUT} is the one definition of these offsets: every constant below is derived from
 * it, {@link MutexWords} reads and writes through them, and a unit test pins each to the table
 * above (docs/region-format.md), so an edit that moves a field fails loudly.
 */
public final class MutexDescriptor {
  /** How many processes can be marked starving at once; more simply wait unmarked. */
  public static final int STARVING_SLOTS = 8;

  /** One mutex: a cache line, the exclusive locks' header first (LockHeaderDescriptor). */
  public static final StructLayout LAYOUT =
      LockHeaderDescriptor.layout(
          JAVA_INT.withName("hold_tag"),
          JAVA_INT.withName("starving_summary"),
          paddingLayout(8),
          sequenceLayout(STARVING_SLOTS, JAVA_INT).withName("starving"));

  public static final int SIZE = (int) LAYOUT.byteSize();

  public static final long WORD_OFFSET = offset("word");
  public static final long FENCE_OFFSET = offset("fence");
  public static final long SLEEPERS_OFFSET = offset("sleepers");
  public static final long HOLD_TAG_OFFSET = offset("hold_tag");
  public static final long STARVING_SUMMARY_OFFSET = offset("starving_summary");
  public static final long STARVING_OFFSET = offset("starving");

  /** Set while some waiter may be asleep in the kernel: the releaser must wake one. */
  public static final int WAITERS = 1 << 30;

  /**
   * With a pid: the holder took the mutex over from a dead owner and has not marked it consistent.
   * Without one: the mutex is not recoverable.
   */
  public static final int OWNER_DIED = 1 << 31;

  /**
   * The largest fence a mutex may record: the next acquisition adds one, which must stay positive.
   * No real mutex gets there (2^63 acquisitions), so a fence beyond it is corruption.
   */
  public static final long MAX_FENCE = Long.MAX_VALUE - 1;

  private MutexDescriptor() {}

  private static long offset(String field) {
    return LAYOUT.byteOffset(groupElement(field));
  }

  // ---- validation, shared by MutexCore and the read-only RegionSnapshot: one rule, one message
  // ----

  /** What is wrong with a lock word read from the region, or null if it is one ringlock writes. */
  public static String wordProblem(int word) {
    int owner = ownerOf(word);
    return owner <= MAX_PID
        ? null
        : "lock word 0x%08x names pid %d, above the largest pid %d".formatted(word, owner, MAX_PID);
  }

  /** What is wrong with a starving slot's pid, or null if it is 0 (empty) or a possible pid. */
  public static String starvingProblem(int slot, int pid) {
    return pid >= 0 && pid <= MAX_PID
        ? null
        : "starving slot %d holds %d, not a pid (0 or 1..%d)".formatted(slot, pid, MAX_PID);
  }

  /** What is wrong with the recorded fence, or null if the next acquisition can add one. */
  public static String fenceProblem(long fence) {
    return fence >= 0 && fence <= MAX_FENCE
        ? null
        : "last fence is %d, outside 0..%d (the next fence would overflow)"
            .formatted(fence, MAX_FENCE);
  }

  /**
   * The last fence issued or released, from the fence field and the hold tag: how far the tag is
   * ahead of the field's low half. 0: the field's hold is in place (or its holder died); 1: it was
   * released (the release moved the tag on); 2: a holder drawing the next fence after a release has
   * stored the tag and not yet the field (or died between the two stores).
   *
   * @return the logical last fence, or -1 if the tag is none of these (damage: holdTagProblem)
   */
  public static long lastFence(long fence, int holdTag) {
    int ahead = holdTag - (int) fence;
    return ahead >= 0 && ahead <= 2 ? fence + ahead : -1;
  }

  /** What is wrong with the hold tag beside {@code fence}, or null if it is one ringlock writes. */
  public static String holdTagProblem(long fence, int holdTag) {
    return lastFence(fence, holdTag) >= 0
        ? null
        : "hold tag 0x%08x is not 0, 1 or 2 ahead of the fence's low half (fence %d)"
            .formatted(holdTag, fence);
  }

  /** The word's owner pid, 0 when free or not recoverable. */
  public static int ownerOf(int word) {
    return word & PID_MASK;
  }

  /** Whether the word says nobody can ever hold the mutex again. */
  public static boolean notRecoverable(int word) {
    return (word & (PID_MASK | OWNER_DIED)) == OWNER_DIED;
  }
}
