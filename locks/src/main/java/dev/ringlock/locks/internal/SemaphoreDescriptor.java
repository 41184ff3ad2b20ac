package dev.ringlock.locks.internal;

import dev.ringlock.locks.Semaphore;

/**
 * The layout of a semaphore in a region: nine 64-byte lines shared by every process that maps the
 * region. Line 0 is the hot line: the word every acquire and release touches, and the counts and
 * flags beside it. Lines 1 to 8 are a table of holding processes, reserved now so that the layout
 * does not change when owner-death recovery arrives (issue 5).
 *
 * <pre>
 * offset  size  field
 *      0     4  word       permits available (bits 0..30) | WAITERS (bit 31)
 *      4     4  sleepers   processes with a kernel wait armed on the word (diagnostics)
 *      8     4  starving   reserved (zero): a count of starving processes, should cross-process
 *                          fairness be added as the mutex has it
 *     12     4  flags      reserved (zero): issue 5's creation options, such as opting out of
 *                          returning a dead holder's permits
 *     16    48  reserved   (zero)
 *     64   512  holders    reserved (zero): HOLDER_SLOTS entries of (pid u32, held u32), the permits
 *                          each process holds, for returning a dead holder's permits (SEM_UNDO)
 * </pre>
 *
 * <p>The word is written only with atomic read-modify-writes (see {@link SemaphoreCore}); the
 * sleepers count with atomic adds. Nothing reads the reserved fields yet. When something does, it
 * must bound-check every value it reads there (a pid, a held count) before using it: any process
 * sharing the region can write them.
 */
public final class SemaphoreDescriptor {
  public static final int WORD_OFFSET = 0;
  public static final int SLEEPERS_OFFSET = 4;
  public static final int STARVING_OFFSET = 8;
  public static final int FLAGS_OFFSET = 12;

  /** Where the holder table starts: the second line. */
  public static final int HOLDERS_OFFSET = 64;

  /** Entries in the holder table. */
  public static final int HOLDER_SLOTS = 64;

  /** Bytes of one holder entry: the holder's pid, then the permits it holds. */
  public static final int HOLDER_BYTES = 8;

  public static final int HOLDER_PID_OFFSET = 0;
  public static final int HOLDER_HELD_OFFSET = 4;

  public static final int SIZE = HOLDERS_OFFSET + HOLDER_SLOTS * HOLDER_BYTES; // 576: 9 lines

  /** The largest number of permits the word holds: 2^31 - 1. */
  public static final int MAX_PERMITS = Semaphore.MAX_PERMITS;

  /** The permit count's bits. */
  public static final int PERMITS_MASK = MAX_PERMITS;

  /**
   * Set while some process may be asleep in the kernel on the word: the next release clears it and
   * wakes every sleeper.
   */
  public static final int WAITERS = Integer.MIN_VALUE; // bit 31

  private SemaphoreDescriptor() {}
}
