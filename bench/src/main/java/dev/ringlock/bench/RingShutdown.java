package dev.ringlock.bench;

import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexWord;
import java.time.Duration;

/**
 * Closes a benchmark's ring within a bounded time, so a teardown never hangs the whole run.
 *
 * <p>A close has hung before: the completion loop drained the close request, reaped nothing in that
 * iteration and parked in io_uring_enter with the request stack empty, so no producer rang the
 * doorbell again (about one close in seven right after a completed request; fixed in core by
 * daa4df6). Any later request rings the doorbell, so while close() is stuck this sends wakes of
 * count 0, and gives up after the patience it was given.
 */
final class RingShutdown {
  private static final Duration NUDGE_INTERVAL = Duration.ofMillis(50);

  private RingShutdown() {}

  /**
   * Closes {@code ring}, nudging it with wakes of {@code anyWord} (count 0: nobody is woken).
   *
   * @return how many nudges the close needed
   * @throws IllegalStateException if the ring has not closed within {@code patience}
   */
  static int closeWithin(FutexRing ring, FutexWord anyWord, Duration patience)
      throws InterruptedException {
    Thread closer = Thread.ofPlatform().name("ring-closer").daemon(true).start(ring::close);
    long deadline = System.nanoTime() + patience.toNanos();
    int nudges = 0;
    while (!closer.join(NUDGE_INTERVAL)) {
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException(ring + " did not close within " + patience);
      }
      ring.wake(anyWord, 0); // fails harmlessly once the ring has closed
      nudges++;
    }
    return nudges;
  }
}
