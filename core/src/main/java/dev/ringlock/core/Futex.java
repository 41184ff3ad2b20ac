package dev.ringlock.core;

import dev.ringlock.core.ffi.Errno;
import dev.ringlock.core.ffi.Syscalls;
import dev.ringlock.core.uring.UringLayouts;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeoutException;

/**
 * Direct futex system calls (futex(2)'s FUTEX_WAKE_BITSET and FUTEX_WAIT_BITSET, which every kernel
 * ringlock runs on has), without a ring: the blocking counterpart of {@link FutexRing}, and the
 * baseline ringlock's benchmarks compare it with.
 *
 * <p>{@link #await} blocks the calling thread in the kernel. On a virtual thread it pins the
 * carrier; prefer {@link FutexRing#wait} there.
 */
public final class Futex {
  private static final ThreadLocal<MemorySegment> DEADLINE =
      ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(UringLayouts.KERNEL_TIMESPEC));

  private Futex() {}

  /**
   * Wakes up to {@code count} waiters on {@code word} whose bitset shares a bit with {@code
   * bitset}. One system call; never blocks.
   *
   * @param word the futex word
   * @param count how many waiters to wake at most
   * @param bitset the waiters to wake: those whose bitset shares a bit with it; not 0
   * @return how many were woken
   */
  public static int wake(FutexWord word, int count, int bitset) {
    Objects.requireNonNull(word, "word");
    if (count < 0) {
      throw new IllegalArgumentException("wake count must be 0 or more, not " + count);
    }
    requireBitset(bitset);
    int woken = count == 0 ? 0 : SyscallBackend.wakeDirectly(word, count, bitset);
    if (woken < 0) {
      throw new RingException("futex_wake of " + word + " failed", -woken);
    }
    return woken;
  }

  /**
   * Blocks while {@code word} holds {@code expected}, until woken.
   *
   * @param word the futex word
   * @param expected the value the word must hold for the wait to start
   * @param bitset the wakes this wait accepts: those whose bitset shares a bit with it; not 0
   * @return woken, or value changed if the word did not hold {@code expected}
   */
  public static WaitOutcome await(FutexWord word, int expected, int bitset) {
    try {
      return await(word, expected, bitset, null);
    } catch (TimeoutException impossible) {
      throw new AssertionError("an untimed wait timed out", impossible);
    }
  }

  /**
   * Blocks while {@code word} holds {@code expected}, until woken or until {@code timeout} passes.
   *
   * @param timeout null for none
   * @param word the futex word
   * @param expected the value the word must hold for the wait to start
   * @param bitset the wakes this wait accepts: those whose bitset shares a bit with it; not 0
   * @return woken, or value changed if the word did not hold {@code expected}
   * @throws TimeoutException if the timeout passed first
   */
  public static WaitOutcome await(FutexWord word, int expected, int bitset, Duration timeout)
      throws TimeoutException {
    Objects.requireNonNull(word, "word");
    requireBitset(bitset);
    MemorySegment deadline = MemorySegment.NULL;
    if (timeout != null) {
      deadline = DEADLINE.get();
      long at = System.nanoTime() + timeout.toNanos(); // CLOCK_MONOTONIC, as the kernel reads it
      deadline.set(ValueLayout.JAVA_LONG, UringLayouts.TIMESPEC_SEC, at / 1_000_000_000L);
      deadline.set(ValueLayout.JAVA_LONG, UringLayouts.TIMESPEC_NSEC, at % 1_000_000_000L);
    }
    for (; ; ) {
      int result =
          Syscalls.futexWaitBitset(
              word.address(), expected, bitset, word.scope() == FutexScope.PRIVATE, deadline);
      switch (-result) {
        case 0 -> {
          return WaitOutcome.woken(0);
        }
        case Errno.EAGAIN -> {
          return WaitOutcome.valueChanged();
        }
        case Errno.ETIMEDOUT -> throw new TimeoutException("futex_wait timed out after " + timeout);
        case Errno.EINTR -> {} // a signal: wait again, against the same absolute deadline
        default -> throw new RingException("futex_wait on " + word + " failed", -result);
      }
    }
  }

  private static void requireBitset(int bitset) {
    if (bitset == 0) {
      throw new IllegalArgumentException(
          "a futex bitset of 0 matches nothing (the kernel says EINVAL)");
    }
  }
}
