package dev.ringlock.locks.internal;

import static dev.ringlock.core.memory.RegionDescriptor.LINE_BYTES;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.ringlock.core.memory.RegionDescriptor;
import java.lang.foreign.StructLayout;

/**
 * The layout of an object's counters (layout version 5): one 64-byte line of eight u64, right after
 * the object's own bytes (rounded up to a line), so every object of a region is its own bytes, then
 * its stats line.
 *
 * <pre>
 * offset  size  field
 *      0     8  acquisitions  semaphore acquires, read-write mutex reads, wait queue waits
 *                             (a mutex's and a writer's are its fence, not counted here)
 *      8     8  contended     acquisitions that queued, granted (a wait queue: waits woken)
 *     16     8  wait_nanos    total nanoseconds the contended ones waited, request to grant
 *     24     8  takeovers     owner deaths taken over (mutex, writer); dead waiters' slots
 *                             reclaimed (wait queue)
 *     32     8  recovered     a semaphore's permits returned from dead holders; a read-write
 *                             mutex's read holds dropped with a dead reader's record
 *     40     8  rescued       kernel waits that timed out at the 250 ms re-check and then found
 *                             the word free: each one a lost wake's symptom
 *     48    16  reserved      (zero)
 * </pre>
 *
 * <p>Why a line of its own: the object's first line is its hot word, which every process's
 * uncontended path reads and writes; a counter written there by one process would take that line
 * from every other at each contended event. Counters are written only on slow paths (a queued
 * request's grant, a takeover, a repair) or in batches (ObjectStats' per-view count of fast
 * acquisitions), with atomic adds; they wrap modulo 2^64 and are never used as an index or a
 * length, so any value a hostile or damaged file holds is only shown.
 *
 * <p>{@link #LAYOUT} is the one definition of these offsets; {@link ObjectStats} reads and writes
 * through them, and ObjectLayoutsTest pins them to docs/region-format.md.
 */
public final class ObjectStatsDescriptor {
  public static final StructLayout LAYOUT =
      structLayout(
          JAVA_LONG.withName("acquisitions"),
          JAVA_LONG.withName("contended"),
          JAVA_LONG.withName("wait_nanos"),
          JAVA_LONG.withName("takeovers"),
          JAVA_LONG.withName("recovered"),
          JAVA_LONG.withName("rescued"),
          JAVA_LONG.withName("reserved0"),
          JAVA_LONG.withName("reserved1"));

  /** One line. */
  public static final int SIZE = (int) LAYOUT.byteSize();

  public static final long ACQUISITIONS_OFFSET = offset("acquisitions");
  public static final long CONTENDED_OFFSET = offset("contended");
  public static final long WAIT_NANOS_OFFSET = offset("wait_nanos");
  public static final long TAKEOVERS_OFFSET = offset("takeovers");
  public static final long RECOVERED_OFFSET = offset("recovered");
  public static final long RESCUED_OFFSET = offset("rescued");

  static {
    if (SIZE != LINE_BYTES) {
      throw new ExceptionInInitializerError("the stats line must be one line, not " + SIZE);
    }
  }

  private ObjectStatsDescriptor() {}

  /**
   * Where an object's stats line starts, from the object's start: after its own {@code ownBytes}
   * rounded up to a line.
   *
   * @param ownBytes the object's bytes before its stats line (its descriptor's SIZE, or a wait
   *     queue's bytesFor(capacity))
   * @return the stats line's offset within the object
   */
  public static long statsOffset(long ownBytes) {
    return RegionDescriptor.roundUpToLine(ownBytes);
  }

  /**
   * The bytes an object of {@code ownBytes} takes with its stats line: what it is created with.
   *
   * @param ownBytes the object's bytes before its stats line
   * @return its own bytes rounded up to a line, plus the stats line
   */
  public static long withStats(long ownBytes) {
    return statsOffset(ownBytes) + SIZE;
  }

  /**
   * As {@link #withStats(long)}, for an object's size as the directory's create takes it.
   *
   * @param ownBytes the object's bytes before its stats line
   * @return its own bytes rounded up to a line, plus the stats line
   */
  public static int withStats(int ownBytes) {
    return Math.toIntExact(withStats((long) ownBytes));
  }

  private static long offset(String field) {
    return LAYOUT.byteOffset(groupElement(field));
  }
}
