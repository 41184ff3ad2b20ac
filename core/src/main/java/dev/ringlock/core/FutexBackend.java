package dev.ringlock.core;

import java.util.concurrent.CompletableFuture;

/**
 * What carries a {@link FutexRing}'s requests to the kernel: io_uring ({@link UringBackend}) or
 * plain futex system calls on a few platform threads ({@link SyscallBackend}). FutexRing checks
 * every argument before it calls here, and owns the public contract; a backend keeps it.
 */
interface FutexBackend {
  /**
   * Which backend this is: {@link FutexRing.Backend#IO_URING} or {@link
   * FutexRing.Backend#SYSCALLS}.
   */
  FutexRing.Backend kind();

  /**
   * Starts the backend's threads and proves the kernel accepts its system calls.
   *
   * @throws IoUringUnavailableException if those system calls are refused
   */
  void start();

  /**
   * @param timeoutNanos {@link WaitOp#NO_TIMEOUT}, or a relative timeout
   */
  CompletableFuture<WaitOutcome> wait(
      FutexWord word,
      int expected,
      int bitset,
      long timeoutNanos,
      AbandonedWakeHandler onAbandonedWake);

  CompletableFuture<WaitOutcome> waitAny(
      WaitTarget[] targets, long timeoutNanos, AbandonedWakeHandler onAbandonedWake);

  CompletableFuture<Integer> wake(FutexWord word, int count, int bitset);

  WakeSignal wakeSignal(FutexWord word, int count, int bitset);

  CompletableFuture<Void> wakeEach(FutexWord[] words);

  /** See {@link FutexRing#flush()}. */
  CompletableFuture<Void> flush();

  /** Completes when the process behind {@code pidfd} exits; owns and closes the pidfd. */
  CompletableFuture<Void> pollProcessExit(int pid, int pidfd);

  /** True on a thread of this backend's, where futures complete. */
  boolean inCompletionThread();

  /** For tests: every thread of this backend sleeps with nothing to do. */
  boolean completionThreadAsleep();

  boolean isClosing();

  FutexRing.Stats stats();

  /** Closes the backend; joins its threads unless called on one of them. Idempotent. */
  void close();

  /** The name of its (first) thread, for toString. */
  String threadName();
}
