package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.LockHeaderDescriptor.FENCE_OFFSET;
import static dev.ringlock.locks.internal.LockHeaderDescriptor.SLEEPERS_OFFSET;
import static dev.ringlock.locks.internal.LockHeaderDescriptor.WORD_OFFSET;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/*
 * Overview
 *
 * A flyweight over one exclusive lock object (a mutex or a read-write mutex): the one reader and
 * writer of the header they share (LockHeaderDescriptor: word, fence, sleepers), shared by the
 * lock's core, the read-only RegionSnapshot and the tests, as Agrona's structures share their
 * descriptor's indices. MutexWords and ReadWriteMutexWords extend it with their own fields. It
 * holds a slice of the object's bytes, so the bounds are checked once, when it is built (an
 * object that does not fit its region fails there, with an IndexOutOfBoundsException, never
 * later), and every access is a static final VarHandle at a constant offset in that slice: the
 * same shape as a field offset computed once.
 *
 * The access mode is in each name (JCTools' convention):
 *   lv  volatile load          la  acquire load          sr  release store
 *   cas compare-and-set        xchg getAndSet            and getAndBitwiseAnd
 *   sp  plain store (an object not yet published, or a test that plants a state)
 * Which mode each protocol step needs, and why it is enough, is in the lock's own overview
 * (MutexOwnership, ReadWriteMutexCore).
 *
 * A path that makes several accesses in a row (the mutex's uncontended acquisition) reads the
 * slice once into a local and calls the static form of each access with it: every access through
 * the field reloads the slice after the previous volatile access, and C2 checks its null-ness and
 * class again at each (two uncommon traps per access, each tens of bytes of compiled code), where
 * one local value is checked once.
 *
 * Every cas reads first (test-and-test-and-set): on a page that the file no longer covers (shrunk
 * under the mapping) a compareAndSet kills the JVM with SIGBUS, where the read throws
 * InternalError, which the public API turns into InvalidRegionException(TRUNCATED). A value that
 * differs would fail the CAS anyway. See docs/validation.md, the CAS audit.
 *
 * Nothing here validates a value: a pid read is only a number until the descriptor's rules have
 * checked it (wordProblem, fenceProblem).
 */
/** The header fields of one exclusive lock in a region, by access mode. */
public abstract class LockHeaderWords {
  static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
  static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

  final MemorySegment object; // exactly the object's bytes

  /**
   * @param region the mapped region (or any segment holding the object)
   * @param offset where the object starts in it (64-byte aligned)
   * @param size the object's size
   * @throws IndexOutOfBoundsException if the object does not fit in {@code region}
   */
  LockHeaderWords(MemorySegment region, long offset, long size) {
    this.object = region.asSlice(offset, size);
  }

  /** The object's bytes (for a FutexWord on the word, or a test). */
  public final MemorySegment object() {
    return object;
  }

  // ---- word: the lock's state, in its object type's bits ----

  public final int lvWord() {
    return lvWord(object);
  }

  /** lvWord on the object's bytes held in a local (see the overview). */
  static int lvWord(MemorySegment object) {
    return (int) INT.getVolatile(object, WORD_OFFSET);
  }

  /** Read first, then CAS (see the overview). */
  public final boolean casWord(int expected, int next) {
    return lvWord() == expected && INT.compareAndSet(object, WORD_OFFSET, expected, next);
  }

  public final int xchgWord(int next) {
    return (int) INT.getAndSet(object, WORD_OFFSET, next);
  }

  /** Clears the bits not in {@code mask} in one atomic step; returns the word before. */
  public final int andWord(int mask) {
    return (int) INT.getAndBitwiseAnd(object, WORD_OFFSET, mask);
  }

  /** A plain store: for a test that plants a state, never for the protocol. */
  public final void spWord(int word) {
    object.set(ValueLayout.JAVA_INT, WORD_OFFSET, word);
  }

  // ---- fence: only the holder writes it ----

  public final long laFence() {
    return laFence(object);
  }

  /** laFence on the object's bytes held in a local (see LockHeaderWords' overview). */
  static long laFence(MemorySegment object) {
    return (long) LONG.getAcquire(object, FENCE_OFFSET);
  }

  public final void srFence(long fence) {
    srFence(object, fence);
  }

  /** srFence on the object's bytes held in a local (see LockHeaderWords' overview). */
  static void srFence(MemorySegment object, long fence) {
    LONG.setRelease(object, FENCE_OFFSET, fence);
  }

  /** Read first, then CAS (see the overview). */
  public final boolean casFence(long expected, long next) {
    return laFence() == expected && LONG.compareAndSet(object, FENCE_OFFSET, expected, next);
  }

  /** A plain store: for a test that plants a state, never for the protocol. */
  public final void spFence(long fence) {
    object.set(ValueLayout.JAVA_LONG, FENCE_OFFSET, fence);
  }

  // ---- sleepers: processes with a kernel wait armed on the word (Sleeper counts them) ----

  public final int laSleepers() {
    return (int) INT.getAcquire(object, SLEEPERS_OFFSET);
  }
}
