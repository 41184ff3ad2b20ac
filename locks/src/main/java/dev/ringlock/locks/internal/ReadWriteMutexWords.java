package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.BOUND_OFFSET;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.READERS_OFFSET;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.READER_SLOTS;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.SIZE;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/*
 * Overview
 *
 * A flyweight over one read-write mutex object (ReadWriteMutexDescriptor): its header (word,
 * fence, sleepers) through LockHeaderWords, which says how the accesses are built and named, and
 * the reader records here. Shared by ReadWriteMutexCore, the read-only RegionSnapshot and the
 * tests. A record's slot index is checked against READER_SLOTS at every access, so no value read
 * from the region ever becomes an offset.
 *
 * Beyond LockHeaderWords' modes: add getAndAdd, or getAndBitwiseOr. The word: writer pid |
 * NOT_RECOVERABLE | OWNER_DIED | WAITERS | WRITE; only the writer writes the fence.
 */
/** One read-write mutex's fields in a region, by access mode. */
public final class ReadWriteMutexWords extends LockHeaderWords {
  /**
   * @param region the mapped region (or any segment holding the object)
   * @param offset where the object starts in it (64-byte aligned)
   * @throws IndexOutOfBoundsException if the object does not fit in {@code region}
   */
  public ReadWriteMutexWords(MemorySegment region, long offset) {
    super(region, offset, SIZE);
  }

  // ---- the records' bound: every record at or past it is free ----

  public int lvBound() {
    return (int) INT.getVolatile(object, BOUND_OFFSET);
  }

  /**
   * Raises the bound to at least {@code atLeast} (read first, then CAS; see LockHeaderWords); a
   * bound already that high, or out of range (damage: boundProblem), is left as it is.
   *
   * <p>Racing raisers: the bound only grows, and a CAS that fails re-reads it, so each caller
   * returns once the bound is at least its own value, whoever's CAS put it there; none lowers
   * another's.
   */
  public void raiseBound(int atLeast) {
    for (int bound = lvBound();
        bound >= 0 && bound < atLeast && !INT.compareAndSet(object, BOUND_OFFSET, bound, atLeast);
        bound = lvBound()) {}
  }

  /** A plain store: for a test that plants a state, never for the protocol. */
  public void spBound(int bound) {
    object.set(ValueLayout.JAVA_INT, BOUND_OFFSET, bound);
  }

  // ---- reader records: pid << 32 | WAITING | count ----

  public long lvRecord(int slot) {
    return lvRecord(object, slot);
  }

  /** lvRecord on the object's bytes held in a local (LockHeaderWords' overview). */
  static long lvRecord(MemorySegment object, int slot) {
    return (long) LONG.getVolatile(object, recordAt(slot));
  }

  /**
   * The record from {@code expected}, which the caller has just read with lvRecord: that read is
   * the read-first (see LockHeaderWords), and a second would only lengthen the read's release.
   */
  static boolean casRecordJustRead(MemorySegment object, int slot, long expected, long next) {
    return LONG.compareAndSet(object, recordAt(slot), expected, next);
  }

  /** Read first, then CAS (see LockHeaderWords). */
  public boolean casRecord(int slot, long expected, long next) {
    long at = recordAt(slot);
    return (long) LONG.getVolatile(object, at) == expected
        && LONG.compareAndSet(object, at, expected, next);
  }

  /** Adds {@code delta} to the record (a count change); returns the record before. */
  public long addRecord(int slot, long delta) {
    return addRecord(object, slot, delta);
  }

  /** addRecord on the object's bytes held in a local (LockHeaderWords' overview). */
  static long addRecord(MemorySegment object, int slot, long delta) {
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

  /**
   * A plain store: for a test that plants a state, never for the protocol. A record planted in use
   * raises the bound to cover it, as the claim it stands for would have.
   */
  public void spRecord(int slot, long record) {
    object.set(ValueLayout.JAVA_LONG, recordAt(slot), record);
    if (record != 0 && lvBound() <= slot) {
      spBound(slot + 1);
    }
  }

  private static long recordAt(int slot) {
    if (slot < 0 || slot >= READER_SLOTS) {
      throw new IndexOutOfBoundsException("reader record " + slot + " of " + READER_SLOTS);
    }
    return READERS_OFFSET + (long) Long.BYTES * slot;
  }
}
