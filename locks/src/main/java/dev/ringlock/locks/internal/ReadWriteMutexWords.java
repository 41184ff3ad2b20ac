package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.FENCE_OFFSET;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.READERS_OFFSET;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.READER_SLOTS;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.SIZE;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.SLEEPERS_OFFSET;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.WORD_OFFSET;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/*
 * Overview
 *
 * A flyweight over one read-write mutex object (ReadWriteMutexDescriptor), as MutexWords is over a
 * mutex: the one reader and writer of its fields, shared by ReadWriteMutexCore, the read-only
 * RegionSnapshot and the tests. It holds a slice of the object's SIZE bytes, so bounds are checked
 * once when it is built; a record's slot index is checked against READER_SLOTS at every access, so
 * no value read from the region ever becomes an offset.
 *
 * The access mode is in each name (JCTools' convention):
 *   lv  volatile load          la  acquire load          sr  release store
 *   cas compare-and-set        xchg getAndSet            and getAndBitwiseAnd
 *   add getAndAdd              or getAndBitwiseOr        sp  plain store (tests only)
 * Every cas reads first (test-and-test-and-set): a compareAndSet on a page the file no longer
 * covers kills the JVM with SIGBUS, where the read throws InternalError (docs/validation.md).
 */
/** One read-write mutex's fields in a region, by access mode. */
public final class ReadWriteMutexWords {
  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
  private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

  private final MemorySegment object; // exactly the object's SIZE bytes

  /**
   * @param region the mapped region (or any segment holding the object)
   * @param offset where the object starts in it (64-byte aligned)
   * @throws IndexOutOfBoundsException if the object does not fit in {@code region}
   */
  public ReadWriteMutexWords(MemorySegment region, long offset) {
    this.object = region.asSlice(offset, SIZE);
  }

  /** The object's bytes. */
  public MemorySegment object() {
    return object;
  }

  // ---- word: writer pid | NOT_RECOVERABLE | OWNER_DIED | WAITERS | WRITE ----

  public int lvWord() {
    return (int) INT.getVolatile(object, WORD_OFFSET);
  }

  /** Read first, then CAS (see the overview). */
  public boolean casWord(int expected, int next) {
    return lvWord() == expected && INT.compareAndSet(object, WORD_OFFSET, expected, next);
  }

  public int xchgWord(int next) {
    return (int) INT.getAndSet(object, WORD_OFFSET, next);
  }

  /** Clears the bits not in {@code mask} in one atomic step; returns the word before. */
  public int andWord(int mask) {
    return (int) INT.getAndBitwiseAnd(object, WORD_OFFSET, mask);
  }

  /** A plain store: for a test that plants a state, never for the protocol. */
  public void spWord(int word) {
    object.set(ValueLayout.JAVA_INT, WORD_OFFSET, word);
  }

  // ---- fence: only the writer writes it ----

  public long laFence() {
    return (long) LONG.getAcquire(object, FENCE_OFFSET);
  }

  public void srFence(long fence) {
    LONG.setRelease(object, FENCE_OFFSET, fence);
  }

  /** A plain store: for a test that plants a state, never for the protocol. */
  public void spFence(long fence) {
    object.set(ValueLayout.JAVA_LONG, FENCE_OFFSET, fence);
  }

  // ---- sleepers ----

  public int laSleepers() {
    return (int) INT.getAcquire(object, SLEEPERS_OFFSET);
  }

  // ---- reader records: pid << 32 | WAITING | count ----

  public long lvRecord(int slot) {
    return (long) LONG.getVolatile(object, recordAt(slot));
  }

  /** Read first, then CAS (see the overview). */
  public boolean casRecord(int slot, long expected, long next) {
    long at = recordAt(slot);
    return (long) LONG.getVolatile(object, at) == expected
        && LONG.compareAndSet(object, at, expected, next);
  }

  /** Adds {@code delta} to the record (a count change); returns the record before. */
  public long addRecord(int slot, long delta) {
    return (long) LONG.getAndAdd(object, recordAt(slot), delta);
  }

  /** Sets bits of the record in one atomic step; returns the record before. */
  public long orRecord(int slot, long bits) {
    return (long) LONG.getAndBitwiseOr(object, recordAt(slot), bits);
  }

  /** Clears the bits not in {@code mask} in one atomic step; returns the record before. */
  public long andRecord(int slot, long mask) {
    return (long) LONG.getAndBitwiseAnd(object, recordAt(slot), mask);
  }

  public long xchgRecord(int slot, long next) {
    return (long) LONG.getAndSet(object, recordAt(slot), next);
  }

  /** A plain store: for a test that plants a state, never for the protocol. */
  public void spRecord(int slot, long record) {
    object.set(ValueLayout.JAVA_LONG, recordAt(slot), record);
  }

  private static long recordAt(int slot) {
    if (slot < 0 || slot >= READER_SLOTS) {
      throw new IndexOutOfBoundsException("reader record " + slot + " of " + READER_SLOTS);
    }
    return READERS_OFFSET + (long) Long.BYTES * slot;
  }
}
