package dev.ringlock.core.ffi;

/**
 * futex2 flags (include/uapi/linux/futex.h). io_uring's FUTEX_WAIT and FUTEX_WAKE carry them in the
 * SQE's {@code fd} field; {@code struct futex_waitv} carries them per entry.
 */
public final class FutexFlags {
  /** The word is 32 bits wide: the only size the kernel accepts today. */
  public static final int SIZE_U32 = 0x02;

  /** The futex is keyed by address in this process's mm: for memory no other process maps. */
  public static final int PRIVATE = 128;

  /** A bitset that matches every waiter. Passed as an unsigned 32-bit value. */
  public static final int BITSET_MATCH_ANY = 0xFFFF_FFFF;

  private FutexFlags() {}
}
