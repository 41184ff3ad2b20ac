package dev.ringlock.jcstress;

import dev.ringlock.core.WaitOutcome;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * How a wait's future ended (a ring wait's, or a wait queue waiter's), as a word for a jcstress
 * outcome id. A failure becomes an outcome too ({@code FAILED(...)}), so it lands in a test's
 * catch-all FORBIDDEN with its cause visible in the report, rather than as a bare test error.
 */
final class WaitFate {
  static final String WOKEN = "WOKEN";
  static final String VALUE_CHANGED = "VALUE_CHANGED";
  static final String CANCELLED = "CANCELLED";
  static final String ASLEEP = "ASLEEP"; // still pending when the deadline passed

  /*
   * The deadline for a wait that is owed a wake: 2 s of this thread running on time. A correct
   * ring completes it in microseconds (milliseconds on a loaded VM, with a GC pause), so that is
   * orders of magnitude of slack; it only bounds how long a broken ring keeps a failing run busy.
   * It is counted in slices, and a slice that overran restarts the count: this thread, or the
   * whole VM, was not running (a paused VM's monotonic clock jumps forward on resume, so a plain
   * 2 s timed wait could expire before the ring's thread had run at all). A hard cap, below
   * jcstress's 30 s limit per iteration, ends the wait on a machine that never runs on time.
   */
  private static final long SLICE_MILLIS = 50;
  private static final int SLICES = 40;
  private static final long OVERRUN_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
  private static final long CAP_NANOS = TimeUnit.SECONDS.toNanos(20);

  private WaitFate() {}

  /**
   * Waits for {@code wait} to end, up to the deadline above; a wait still asleep then is cancelled,
   * so a failing run does not pile up waits in the kernel.
   */
  static String await(CompletableFuture<WaitOutcome> wait) {
    return await(wait, WaitFate::of);
  }

  /** As {@link #await(CompletableFuture)}, for a future whose normal completion means woken. */
  static String awaitWake(CompletableFuture<Void> wait) {
    return await(wait, ignored -> WOKEN);
  }

  private static <T> String await(CompletableFuture<T> wait, Function<T, String> naming) {
    long start = System.nanoTime();
    int onTime = 0;
    while (true) {
      long sliceStart = System.nanoTime();
      try {
        return naming.apply(wait.get(SLICE_MILLIS, TimeUnit.MILLISECONDS));
      } catch (TimeoutException e) {
        long now = System.nanoTime();
        onTime = now - sliceStart > OVERRUN_NANOS ? 0 : onTime + 1;
        if (onTime >= SLICES || now - start > CAP_NANOS) {
          wait.cancel(false);
          return ASLEEP;
        }
      } catch (CancellationException e) {
        return CANCELLED;
      } catch (ExecutionException e) {
        return "FAILED(" + e.getCause() + ")";
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return "INTERRUPTED";
      }
    }
  }

  /** How a wait that has already ended ended. */
  static String ofDone(CompletableFuture<WaitOutcome> wait) {
    if (!wait.isDone()) {
      throw new IllegalStateException("the wait has not ended: " + wait);
    }
    return await(wait);
  }

  private static String of(WaitOutcome outcome) {
    return outcome.isWoken() ? WOKEN : VALUE_CHANGED;
  }
}
