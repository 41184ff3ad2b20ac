package dev.ringlock.locks.internal;

import java.time.Duration;
import java.util.Objects;

/** Deadlines on {@link System#nanoTime()}, as the primitives' timed waits keep them. */
final class Deadlines {
  /** No deadline: wait for ever. */
  static final long NONE = Long.MAX_VALUE;

  // ~146 years: a longer timeout is this one, so that nanoTime() + timeout cannot overflow
  private static final long LONGEST_TIMEOUT_NANOS = 1L << 62;

  private Deadlines() {}

  /**
   * The deadline {@code timeout} from now.
   *
   * @throws IllegalArgumentException if the timeout is negative
   */
  static long after(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must not be negative: " + timeout);
    }
    long nanos =
        timeout.compareTo(Duration.ofNanos(LONGEST_TIMEOUT_NANOS)) >= 0
            ? LONGEST_TIMEOUT_NANOS
            : timeout.toNanos();
    return System.nanoTime() + nanos;
  }

  /** The time left until {@code deadline} (zero once it has passed), or null for {@link #NONE}. */
  static Duration timeoutUntil(long deadline) {
    return deadline == NONE ? null : Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
  }

  /** Whether {@code deadline} has passed. */
  static boolean passed(long deadline) {
    return deadline != NONE && deadline - System.nanoTime() <= 0;
  }
}
