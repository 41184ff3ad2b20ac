package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.MutexDescriptor.HOLD_TAG_OFFSET;
import static dev.ringlock.locks.internal.MutexDescriptor.SIZE;
import static dev.ringlock.locks.internal.MutexDescriptor.STARVING_OFFSET;
import static dev.ringlock.locks.internal.MutexDescriptor.STARVING_SUMMARY_OFFSET;
import static dev.ringlock.locks.internal.MutexDescriptor.WORD_OFFSET;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/*
 * Overview
 *
 * A flyweight over one mutex object (MutexDescriptor): its header (word, fence, sleepers) through
 * LockHeaderWords, which says how the accesses are built and named, and the mutex's own starving
 * table here. Shared by MutexCore, the read-only RegionSnapshot and the tests.
 *
 * The word: 0 = free, else owner pid | WAITERS | OWNER_DIED. Which access mode each protocol step
 * needs, and why it is enough, is MutexOwnership's overview (and MutexCore's); the starving
 * summary's, StarvingTable's. Beyond LockHeaderWords' modes: sv volatile store. A slot index is a
 * constant of this process (a loop bound or a slot it claimed), never a value read from the region.
 *
 * The hold: the word and the hold tag beside it, read and CASed as one 8-byte-aligned long (the
 * release's one atomic: MutexOwnership.releaseHold). In memory the word comes first, so which half
 * of the long it is depends on the byte order; wordOf, holdTagOf and hold say it once.
 */
/** One mutex's fields in a region, by access mode. */
public final class MutexWords extends LockHeaderWords {
  /**
   * @param region the mapped region (or any segment holding the object)
   * @param offset where the mutex starts in it (64-byte aligned)
   * @throws IndexOutOfBoundsException if the object does not fit in {@code region}
   */
  public MutexWords(MemorySegment region, long offset) {
    super(region, offset, SIZE);
  }

  // ---- the hold: word and hold tag as one long (MutexDescriptor) ----

  private static final boolean WORD_IS_LOW_HALF =
      ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

  public long lvHold() {
    return lvHold(object);
  }

  /** lvHold on the object's bytes held in a local (LockHeaderWords' overview). */
  static long lvHold(MemorySegment object) {
    return (long) LONG.getVolatile(object, WORD_OFFSET);
  }

  /**
   * The word and the tag in one atomic step, from {@code expected}, which the caller has just read
   * with lvHold: that read is the read-first (see LockHeaderWords), and a second one would only
   * lengthen the release's compiled code (MutexOwnership.releaseHold).
   */
  public boolean casHoldJustRead(long expected, long next) {
    return casHoldJustRead(object, expected, next);
  }

  /** casHoldJustRead on the object's bytes held in a local (LockHeaderWords' overview). */
  static boolean casHoldJustRead(MemorySegment object, long expected, long next) {
    return LONG.compareAndSet(object, WORD_OFFSET, expected, next);
  }

  public int laHoldTag() {
    return (int) INT.getAcquire(object, HOLD_TAG_OFFSET);
  }

  public void srHoldTag(int holdTag) {
    INT.setRelease(object, HOLD_TAG_OFFSET, holdTag);
  }

  /** A plain store: for a test that plants a state, never for the protocol. */
  public void spHoldTag(int holdTag) {
    object.set(ValueLayout.JAVA_INT, HOLD_TAG_OFFSET, holdTag);
  }

  /** The word's half of a hold read by lvHold. */
  public static int wordOf(long hold) {
    return (int) (WORD_IS_LOW_HALF ? hold : hold >>> 32);
  }

  /** The hold tag's half of a hold read by lvHold. */
  public static int holdTagOf(long hold) {
    return (int) (WORD_IS_LOW_HALF ? hold >>> 32 : hold);
  }

  /** The long that lvHold reads when the word is {@code word} and the tag {@code holdTag}. */
  public static long hold(int word, int holdTag) {
    long low = Integer.toUnsignedLong(WORD_IS_LOW_HALF ? word : holdTag);
    long high = Integer.toUnsignedLong(WORD_IS_LOW_HALF ? holdTag : word);
    return high << 32 | low;
  }

  // ---- starving summary: 0 = nobody marked; else read the table (StarvingTable) ----

  public int lvStarvingSummary() {
    return lvStarvingSummary(object);
  }

  /** lvStarvingSummary on the object's bytes held in a local (LockHeaderWords' overview). */
  static int lvStarvingSummary(MemorySegment object) {
    return (int) INT.getVolatile(object, STARVING_SUMMARY_OFFSET);
  }

  /**
   * A volatile store, not a release: a refresher's store of 0 must be ordered before its second
   * read of the table (StarvingTable's overview), which only a full fence gives.
   */
  public void svStarvingSummary(int summary) {
    INT.setVolatile(object, STARVING_SUMMARY_OFFSET, summary);
  }

  /** A plain store: for a test that plants a state, never for the protocol. */
  public void spStarvingSummary(int summary) {
    object.set(ValueLayout.JAVA_INT, STARVING_SUMMARY_OFFSET, summary);
  }

  // ---- starving table: STARVING_SLOTS pids, 0 = none ----

  public int lvStarvingPid(int slot) {
    return (int) INT.getVolatile(object, starvingAt(slot));
  }

  /** Read first, then CAS (see LockHeaderWords). */
  public boolean casStarvingPid(int slot, int expected, int next) {
    long at = starvingAt(slot);
    return (int) INT.getVolatile(object, at) == expected
        && INT.compareAndSet(object, at, expected, next);
  }

  /**
   * Two neighbouring slots ({@code 2 * pair} and the next) read as one long: the whole table in
   * STARVING_SLOTS / 2 loads, all on the word's own line.
   */
  public long lvStarvingPair(int pair) {
    return (long) LONG.getVolatile(object, STARVING_OFFSET + (long) Long.BYTES * pair);
  }

  /** A plain store: for a test that plants a state, never for the protocol. */
  public void spStarvingPid(int slot, int pid) {
    object.set(ValueLayout.JAVA_INT, starvingAt(slot), pid);
  }

  private static long starvingAt(int slot) {
    return STARVING_OFFSET + (long) Integer.BYTES * slot;
  }
}
