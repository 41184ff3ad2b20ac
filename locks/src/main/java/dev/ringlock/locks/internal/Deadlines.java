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
    return System.nanoTime() + nanos(timeout);
  }

  /**
   * {@code timeout} in nanoseconds, capped at ~146 years.
   *
   * @throws IllegalArgumentException if the timeout is negative
   */
  static long nanos(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must not be negative: " + timeout);
    }
    return timeout.compareTo(Duration.ofNanos(LONGEST_TIMEOUT_NANOS)) >= 0
        ? LONGEST_TIMEOUT_NANOS
        : timeout.toNanos();
  }

  /** The time left until {@code deadline} (zero once it has passed), or null for {@link #NONE}. */
  static Duration timeoutUntil(long deadline) {
    return deadline == NONE ? null : Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
  }

  /**
   * A time limit (not negative) as a message states it: "250 ms", "3 s", "1500 ms", "40 µs",
   * rounded to the unit shown.
   */
  static String describe(long timeoutNanos) {
    long micros = (timeoutNanos + 500) / 1_000;
    if (micros < 1_000) {
      return micros + " µs";
    }
    long millis = (timeoutNanos + 500_000) / 1_000_000;
    return millis % 1_000 == 0 ? millis / 1_000 + " s" : millis + " ms";
  }

  /** Whether {@code deadline} has passed. */
  static boolean passed(long deadline) {
    return deadline != NONE && deadline - System.nanoTime() <= 0;
  }
}
