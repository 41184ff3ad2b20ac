package dev.ringlock.locks.internal;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.util.stream.Stream;

/**
 * The header both exclusive locks of a region start with, the mutex (MutexDescriptor) and the
 * read-write mutex (ReadWriteMutexDescriptor): their hot word, the fence of the last exclusive
 * acquisition and the count of processes asleep on the word, at the same offsets in both.
 *
 * <pre>
 * offset  size  field
 *      0     4  word       the lock's state word; its bits are the object type's
 *      4     4  (the object type's own: see its descriptor)
 *      8     8  fence      the last fence issued; only the holder writes it
 *     16     4  sleepers   processes with a kernel wait armed on the word
 * </pre>
 *
 * <p>{@link #layout} is the one definition of these offsets; each object's descriptor builds its
 * layout through it and derives its own constants from the result, and {@link LockHeaderWords}
 * reads and writes the fields through the constants here.
 */
public final class LockHeaderDescriptor {
  /** The header's first 20 bytes; the 4 bytes at offset 4 belong to the object type. */
  private static final MemoryLayout WORD = JAVA_INT.withName("word");

  private static final MemoryLayout FENCE = JAVA_LONG.withName("fence");
  private static final MemoryLayout SLEEPERS = JAVA_INT.withName("sleepers");

  public static final long WORD_OFFSET = 0;
  public static final long FENCE_OFFSET = 8;
  public static final long SLEEPERS_OFFSET = 16;

  private LockHeaderDescriptor() {}

  /**
   * An exclusive lock's layout: the header, with {@code atFour} (4 bytes: a field or padding) in
   * its free slot, then {@code rest}.
   *
   * @throws IllegalArgumentException if {@code atFour} is not 4 bytes
   */
  static StructLayout layout(MemoryLayout atFour, MemoryLayout... rest) {
    if (atFour.byteSize() != Integer.BYTES) {
      throw new IllegalArgumentException(
          "the header's slot at offset 4 holds 4 bytes, not " + atFour);
    }
    StructLayout layout =
        structLayout(
            Stream.concat(Stream.of(WORD, atFour, FENCE, SLEEPERS), Stream.of(rest))
                .toArray(MemoryLayout[]::new));
    // The offsets above are constants so that every access folds; hold them to the layout.
    if (layout.byteOffset(groupElement("word")) != WORD_OFFSET
        || layout.byteOffset(groupElement("fence")) != FENCE_OFFSET
        || layout.byteOffset(groupElement("sleepers")) != SLEEPERS_OFFSET) {
      throw new AssertionError("the lock header's offsets moved: " + layout);
    }
    return layout;
  }
}
