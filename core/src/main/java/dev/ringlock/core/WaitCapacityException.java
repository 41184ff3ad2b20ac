package dev.ringlock.core;

/**
 * The syscalls backend cannot take another kernel wait: each of its at most {@value
 * SyscallBackend#MAX_THREADS} threads sleeps in futex_waitv on at most {@value
 * WaitvThread#CAPACITY} words, so one {@link FutexRing} holds at most {@value
 * SyscallBackend#MAX_PENDING_WAITS} pending waits there (and {@value
 * SyscallBackend#MAX_BITSET_WAITS} waits with a bitset other than {@link FutexRing#ANY_BITSET},
 * which take a thread each). The io_uring backend has no such bound.
 */
public final class WaitCapacityException extends RingException {
  private static final long serialVersionUID = 1L;

  /**
   * Says which bound was reached.
   *
   * @param message which bound was reached and what to do
   */
  public WaitCapacityException(String message) {
    super(message, 0);
  }
}
