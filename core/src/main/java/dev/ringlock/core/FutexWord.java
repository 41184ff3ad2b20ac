package dev.ringlock.core;

import dev.ringlock.core.ffi.FutexFlags;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.Objects;

/**
 * A 32-bit futex word: an aligned address and its {@link FutexScope}. A word built from a {@link
 * MemorySegment} holds the segment, so memory of an automatic arena stays reachable while the word
 * is in use; a word built from a raw address relies on its caller for that.
 *
 * <p>Words are immutable and meant to be created once per lock and reused for every operation.
 */
public final class FutexWord {
  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

  // Holding it keeps an automatic arena's memory mapped while an op holds the word, and reads
  // through it (getAcquire) are checked against its arena: never a read of unmapped memory.
  private final MemorySegment segment; // null for a word made from a raw address
  private final long address;
  private final FutexScope scope;

  private FutexWord(MemorySegment segment, long address, FutexScope scope) {
    this.segment = segment;
    this.address = address;
    this.scope = scope;
  }

  /**
   * The word at {@code offset} in {@code segment}.
   *
   * @param segment native memory holding the word
   * @param offset the word's byte offset in {@code segment}, a multiple of 4
   * @param scope whether other processes may wait on or wake the word
   * @return the word
   * @throws IllegalArgumentException if the segment is not native memory, the word does not fit
   *     inside it, or its address is not 4-byte aligned
   */
  public static FutexWord of(MemorySegment segment, long offset, FutexScope scope) {
    Objects.requireNonNull(segment, "segment");
    Objects.requireNonNull(scope, "scope");
    if (!segment.isNative()) {
      throw new IllegalArgumentException(
          "a futex word must be in native memory (a mapped file or an Arena allocation), not a heap segment");
    }
    if (offset < 0 || offset > segment.byteSize() - Integer.BYTES) {
      throw new IllegalArgumentException(
          "futex word offset "
              + offset
              + " is outside the "
              + segment.byteSize()
              + "-byte segment");
    }
    return new FutexWord(segment, checkAligned(segment.address() + offset), scope);
  }

  /**
   * The word at {@code offset} in {@code segment}, {@link FutexScope#SHARED} if the segment is a
   * file mapping (which another process may map too) and {@link FutexScope#PRIVATE} otherwise.
   *
   * @param segment native memory holding the word
   * @param offset the word's byte offset in {@code segment}, a multiple of 4
   * @return the word
   */
  public static FutexWord of(MemorySegment segment, long offset) {
    Objects.requireNonNull(segment, "segment");
    return of(segment, offset, segment.isMapped() ? FutexScope.SHARED : FutexScope.PRIVATE);
  }

  /**
   * The word at a raw address. The caller keeps that memory mapped for as long as any operation on
   * the word is pending.
   *
   * @param address the word's address in this process
   * @param scope whether other processes may wait on or wake the word
   * @return the word
   * @throws IllegalArgumentException if the address is 0 or not 4-byte aligned
   */
  public static FutexWord ofAddress(long address, FutexScope scope) {
    Objects.requireNonNull(scope, "scope");
    if (address == 0) {
      throw new IllegalArgumentException("futex word address is NULL");
    }
    return new FutexWord(null, checkAligned(address), scope);
  }

  private static long checkAligned(long address) {
    if ((address & (Integer.BYTES - 1)) != 0) {
      throw new IllegalArgumentException(
          "futex word at 0x" + Long.toHexString(address) + " is not 4-byte aligned");
    }
    return address;
  }

  /**
   * The word's address in this process (4-byte aligned).
   *
   * @return the word's address
   */
  public long address() {
    return address;
  }

  /**
   * The word's value (an acquire load), for a backend that must look at it from Java (the syscalls
   * backend; io_uring's kernel reads it itself). Read through the word's segment, so memory whose
   * arena has closed since (a region closed while a wait was pending) throws IllegalStateException
   * instead of faulting the JVM; a word made {@link #ofAddress from an address} is read raw, its
   * caller having promised to keep that memory mapped.
   *
   * @throws IllegalStateException if the segment's arena is closed
   * @throws InternalError if the file under a mapping shrank
   */
  int getAcquire() {
    if (segment == null) {
      return (int) INT.getAcquire(MemorySegment.ofAddress(address).reinterpret(Integer.BYTES), 0L);
    }
    return (int) INT.getAcquire(segment, address - segment.address());
  }

  /**
   * Whether the word is shared with other processes or private to this one.
   *
   * @return the word's scope
   */
  public FutexScope scope() {
    return scope;
  }

  /** The futex2 flags for this word: 32-bit size, plus PRIVATE when the scope is private. */
  int futex2Flags() {
    return FutexFlags.SIZE_U32 | (scope == FutexScope.PRIVATE ? FutexFlags.PRIVATE : 0);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof FutexWord word && word.address == address && word.scope == scope;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(address) * 31 + scope.hashCode();
  }

  @Override
  public String toString() {
    return "FutexWord[0x" + Long.toHexString(address) + ", " + scope + "]";
  }
}
