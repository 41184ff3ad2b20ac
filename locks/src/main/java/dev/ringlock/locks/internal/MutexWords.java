package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.MutexDescriptor.FENCE_OFFSET;
import static dev.ringlock.locks.internal.MutexDescriptor.SIZE;
import static dev.ringlock.locks.internal.MutexDescriptor.SLEEPERS_OFFSET;
import static dev.ringlock.locks.internal.MutexDescriptor.STARVING_OFFSET;
import static dev.ringlock.locks.internal.MutexDescriptor.WORD_OFFSET;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/*
 * Overview
 *
 * A flyweight over one mutex object (MutexDescriptor): the one reader and writer of its fields,
 * shared by MutexCore, the read-only RegionSnapshot and the tests, as Agrona's structures share
 * their descriptor's indices. It holds a slice of the object's SIZE bytes, so the bounds are
 * checked once, when it is built (an object that does not fit its region fails there, with an
 * IndexOutOfBoundsException, never later), and every access is a static final VarHandle at a
 * constant offset in that slice: the same shape as a field offset computed once.
 *
 * The access mode is in each name (JCTools' convention):
 *   lv  volatile load          la  acquire load          lp  plain load
 *   sr  release store          sp  plain store (an object not yet published, or a test)
 *   cas compare-and-set        xchg getAndSet            and getAndBitwiseAnd
 * Which mode each protocol step needs, and why it is enough, is MutexOwnership's overview (and MutexCore's).
 *
 * Every cas here reads first (test-and-test-and-set): on a page that the file no longer covers
 * (shrunk under the mapping) a compareAndSet kills the JVM with SIGBUS, where the read throws
 * InternalError, which the public API turns into InvalidRegionException(TRUNCATED). A value that
 * differs would fail the CAS anyway. See docs/validation.md, the CAS audit.
 *
 * Nothing here validates a value: a pid read is only a number until MutexDescriptor's rules have
 * checked it (wordProblem, starvingProblem, fenceProblem).
 */
/** One mutex's fields in a region, by access mode. */
public final class MutexWords {
  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
  private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

  private final MemorySegment object; // exactly the mutex's SIZE bytes

  /**
   * @param region the mapped region (or any segment holding the object)
   * @param offset where the mutex starts in it (64-byte aligned)
   * @throws IndexOutOfBoundsException if the object does not fit in {@code region}
   */
  public MutexWords(MemorySegment region, long offset) {
    this.object = region.asSlice(offset, SIZE);
  }

  /** The object's bytes (for a FutexWord on the word, or a test). */
  public MemorySegment object() {
    return object;
  }

  // ---- word: 0 = free, else owner pid | WAITERS | OWNER_DIED ----

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

  // ---- fence: only the holder writes it ----

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

  // ---- sleepers: processes with a kernel wait armed on the word (Sleeper counts them) ----

  public int laSleepers() {
    return (int) INT.getAcquire(object, SLEEPERS_OFFSET);
  }

  // ---- starving table: STARVING_SLOTS pids, 0 = none ----

  public int lvStarvingPid(int slot) {
    return (int) INT.getVolatile(object, starvingAt(slot));
  }

  /** Read first, then CAS (see the overview). */
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
