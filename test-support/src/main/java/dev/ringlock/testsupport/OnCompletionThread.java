package dev.ringlock.testsupport;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * Runs part of a test on the thread that completes a pending operation (a ring's completion
 * thread): as the continuation of a wait the test fires itself, and reports what a blocking call
 * there did. This module knows no ring, so the test passes the wait and its wake; core's and locks'
 * completion-thread tests use it alike.
 */
public final class OnCompletionThread {
  private static final long PATIENCE_NANOS = TimeUnit.SECONDS.toNanos(10);

  private OnCompletionThread() {}

  /** A call that may block, return or throw. */
  @FunctionalInterface
  public interface Call {
    Object run() throws Exception;
  }

  /**
   * Runs {@code body} as the continuation of {@code armed} and returns what it returned.
   *
   * @param armed a future completed on the thread under test: a ring's wait on a trigger word
   * @param fire completes {@code armed}; returns false when it found nothing to complete yet (the
   *     wait is not in the kernel yet), and is then retried every millisecond for up to 10 s
   * @param body what runs on that thread
   * @param unblock run if {@code body} is still running after 10 s (a blocking call that was not
   *     refused), so that the ring can close; the test then fails
   */
  public static <T> T run(
      CompletableFuture<?> armed, Callable<Boolean> fire, Supplier<T> body, Runnable unblock)
      throws Exception {
    CompletableFuture<T> result = armed.thenApply(ignored -> body.get());
    long deadline = System.nanoTime() + PATIENCE_NANOS;
    while (!fire.call()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("the trigger wait never reached the kernel");
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1)); // not in the kernel yet
    }
    try {
      return result.get(PATIENCE_NANOS, TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      unblock.run();
      throw new AssertionError("the completion thread stayed blocked: the call was not refused", e);
    }
  }

  /**
   * What {@code call} did: the message of the {@code refusal} it threw, else "not refused: returned
   * ..." or "not refused: threw ...".
   */
  public static String refusal(Call call, Class<? extends Exception> refusal) {
    try {
      return "not refused: returned " + call.run();
    } catch (Exception e) {
      return refusal.isInstance(e) ? e.getMessage() : "not refused: threw " + e;
    }
  }
}
