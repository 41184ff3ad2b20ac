package dev.ringlock.bench;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;

/** The contended async benchmarks' operation: a batch of tasks that each acquire and release. */
final class AsyncBatch {
  private AsyncBatch() {}

  /**
   * Runs {@code tasks} tasks on {@code executor}, each calling {@code acquire} and, in the
   * continuation, {@code holdAndRelease} with what it acquired; returns when every one has run.
   */
  static <T> void run(
      Executor executor,
      int tasks,
      Supplier<? extends CompletionStage<T>> acquire,
      Consumer<T> holdAndRelease) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    AtomicInteger remaining = new AtomicInteger(tasks);
    for (int i = 0; i < tasks; i++) {
      executor.execute(
          () ->
              acquire
                  .get()
                  .thenAccept(
                      held -> {
                        holdAndRelease.accept(held);
                        if (remaining.decrementAndGet() == 0) {
                          done.complete(null);
                        }
                      }));
    }
    done.join();
  }
}
