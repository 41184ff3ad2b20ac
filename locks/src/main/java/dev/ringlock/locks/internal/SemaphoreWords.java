package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.SemaphoreDescriptor.FLAGS_OFFSET;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.REPAIRER_OFFSET;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.SIZE;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.SLEEPERS_OFFSET;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.TOTAL_OFFSET;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.WORD_OFFSET;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/*
 * Overview
 *
 * A flyweight over one semaphore object (SemaphoreDescriptor): the one reader and writer of its
 * fields, shared by SemaphoreCore, HolderTable, the read-only RegionSnapshot and the tests. As
 * MutexWords: a slice of the object's SIZE bytes, bounds checked once when it is built; static
 * final VarHandles at constant offsets; the access mode in each name (lv volatile load, la acquire
 * load, lp plain load, sp plain store, cas compare-and-set that reads first, since a CAS on a page
 * the file no longer covers is SIGBUS; see MutexWords).
 *
 * Flags and total are written once, by the creator before the object is published (sp), and read
 * plainly after (lp): publication through the region's directory orders them. Nothing here
 * validates a value: SemaphoreDescriptor's and HolderTable's rules do, before anything uses one.
 */
/** One semaphore's fields in a region, by access mode. */
public final class SemaphoreWords {
  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
  private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

  private final MemorySegment object; // exactly the semaphore's SIZE bytes

  /**
   * @param region the mapped region (or any segment holding the object)
   * @param offset where the semaphore starts in it (64-byte aligned)
   * @throws IndexOutOfBoundsException if the object does not fit in {@code region}
   */
  public SemaphoreWords(MemorySegment region, long offset) {
    this.object = region.asSlice(offset, SIZE);
  }

  /** The object's bytes (for a test). */
  public MemorySegment object() {
    return object;
  }

  // ---- word: permits | REPAIR (undo on exit) | WAITERS ----

  public int lvWord() {
    return lvWord(object);
  }

  /**
   * lvWord on the object's bytes held in a local: an undo move's accesses go through one local
   * slice, so its null and class checks are made once, not again after every volatile access.
   */
  static int lvWord(MemorySegment object) {
    return (int) INT.getVolatile(object, WORD_OFFSET);
  }

  /** Read first, then CAS (see LockHeaderWords). */
  public boolean casWord(int expected, int next) {
    return lvWord() == expected && INT.compareAndSet(object, WORD_OFFSET, expected, next);
  }

  /**
   * A CAS from {@code seen}, a value the caller has just read with lvWord(): that read is the read
   * first (a page the file no longer covers faults there, not in the CAS), so this skips casWord's
   * second one. For the uncontended acquire and release (PlainPermits), where each load counts.
   */
  public boolean casWordSeen(int seen, int next) {
    return casWordSeen(object, seen, next);
  }

  /** casWordSeen on the object's bytes held in a local (see lvWord). */
  static boolean casWordSeen(MemorySegment object, int seen, int next) {
    return INT.compareAndSet(object, WORD_OFFSET, seen, next);
  }

  /** A plain store: the creator's initial count, or a test that plants a state. */
  public void spWord(int word) {
    object.set(ValueLayout.JAVA_INT, WORD_OFFSET, word);
  }

  // ---- sleepers, flags, total, repairer ----

  public int laSleepers() {
    return (int) INT.getAcquire(object, SLEEPERS_OFFSET);
  }

  public int lpFlags() {
    return object.get(ValueLayout.JAVA_INT, FLAGS_OFFSET);
  }

  /** Before publication only (the creator), or a test. */
  public void spFlags(int flags) {
    object.set(ValueLayout.JAVA_INT, FLAGS_OFFSET, flags);
  }

  public int lpTotal() {
    return object.get(ValueLayout.JAVA_INT, TOTAL_OFFSET);
  }

  /** Before publication only (the creator), or a test. */
  public void spTotal(int total) {
    object.set(ValueLayout.JAVA_INT, TOTAL_OFFSET, total);
  }

  public int lvRepairer() {
    return (int) INT.getVolatile(object, REPAIRER_OFFSET);
  }

  /** Read first, then CAS (see LockHeaderWords). */
  public boolean casRepairer(int expected, int next) {
    return lvRepairer() == expected && INT.compareAndSet(object, REPAIRER_OFFSET, expected, next);
  }

  // ---- holder table: HOLDER_SLOTS entries, each one 8-byte word (see HolderTable) ----

  public long lvHolder(int slot) {
    return lvHolder(object, slot);
  }

  /** lvHolder on the object's bytes held in a local (see lvWord). */
  static long lvHolder(MemorySegment object, int slot) {
    return (long) LONG.getVolatile(object, SemaphoreDescriptor.holderOffset(slot));
  }

  /** Read first, then CAS (see LockHeaderWords). */
  public boolean casHolder(int slot, long expected, long next) {
    long at = SemaphoreDescriptor.holderOffset(slot);
    return (long) LONG.getVolatile(object, at) == expected
        && LONG.compareAndSet(object, at, expected, next);
  }

  /**
   * A CAS of an entry from {@code seen}, a value the caller has just read (lvHolder): that read is
   * the read first, as in casWordSeen. For the owner's moves of its own entry (HolderTable).
   */
  public boolean casHolderSeen(int slot, long seen, long next) {
    return casHolderSeen(object, slot, seen, next);
  }

  /** casHolderSeen on the object's bytes held in a local (see lvWord). */
  static boolean casHolderSeen(MemorySegment object, int slot, long seen, long next) {
    return LONG.compareAndSet(object, SemaphoreDescriptor.holderOffset(slot), seen, next);
  }

  /**
   * A release store of a whole entry: the owner's end of a move (HolderTable.unlockMine), which
   * holds BUSY on it, so no other writer can race it (see HolderTable). Its release pairs with the
   * acquire of whoever reads the entry next: a repairer's lvHolder, the owner's next CAS.
   */
  public void srHolder(int slot, long entry) {
    srHolder(object, slot, entry);
  }

  /** srHolder on the object's bytes held in a local (see lvWord). */
  static void srHolder(MemorySegment object, int slot, long entry) {
    LONG.setRelease(object, SemaphoreDescriptor.holderOffset(slot), entry);
  }

  /** A plain store of a whole entry ({@link HolderTable#entry}): for a test, never the protocol. */
  public void spHolder(int slot, long entry) {
    object.set(ValueLayout.JAVA_LONG, SemaphoreDescriptor.holderOffset(slot), entry);
  }
}
