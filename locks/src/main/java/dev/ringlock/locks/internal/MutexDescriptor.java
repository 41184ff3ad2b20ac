package dev.ringlock.locks.internal;

/**
 * The layout of a mutex in a region: one 64-byte object, so one cache line, shared by every process
 * that maps the region. All of it is written only with atomic or release accesses (see {@link
 * MutexCore}).
 *
 * <pre>
 * offset  size  field
 *      0     4  word       0 = free; else owner pid (bits 0..29) | WAITERS (bit 30)
 *      4     4  starving   processes whose oldest waiter has starved (handoff order while > 0)
 *      8     8  fence      the last fence issued; only the holder writes it
 *     16     4  sleepers   processes with a kernel wait armed on the word
 *     20    44  reserved   (zero)
 * </pre>
 *
 * <p>The word's bit 31 is reserved, and zero.
 */
public final class MutexDescriptor {
  public static final int WORD_OFFSET = 0;
  public static final int STARVING_OFFSET = 4;
  public static final int FENCE_OFFSET = 8;
  public static final int SLEEPERS_OFFSET = 16;
  public static final int SIZE = 64;

  /** The owner's process id: PIDs are below 2^22 (pid_max), so 30 bits hold any of them. */
  public static final int PID_MASK = (1 << 30) - 1;

  /** Set while some waiter may be asleep in the kernel: the releaser must wake one. */
  public static final int WAITERS = 1 << 30;

  private MutexDescriptor() {}
}
