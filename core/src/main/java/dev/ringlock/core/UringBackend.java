package dev.ringlock.core;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The io_uring backend: one ring and the {@link CompletionLoop} thread that owns it. Each request
 * becomes a {@link LoopRequest} handed to the loop: a {@link RingOp}, which is its future, or a
 * {@link WakeSignal}'s queued wake; see CompletionLoop's overview.
 */
final class UringBackend implements FutexBackend {
  private final CompletionLoop loop;

  UringBackend(FutexRing ring, FutexRing.Options options, String threadName) {
    this.loop = new CompletionLoop(ring, options, threadName);
  }

  @Override
  public FutexRing.Backend kind() {
    return FutexRing.Backend.IO_URING;
  }

  @Override
  public void start() {
    InProcessWakes.untrackedWakersExist(); // its FUTEX_WAKE opcodes bypass that record
    loop.start();
    try {
      loop.started.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        cause.addSuppressed(new Exception("opening the FutexRing"));
        throw cause;
      }
      throw e;
    }
  }

  @Override
  public CompletableFuture<WaitOutcome> wait(
      FutexWord word,
      int expected,
      int bitset,
      long timeoutNanos,
      AbandonedWakeHandler onAbandonedWake) {
    WaitOp op = new WaitOp(loop, word, expected, bitset, timeoutNanos, onAbandonedWake);
    loop.submit(op);
    return op;
  }

  @Override
  public CompletableFuture<WaitOutcome> waitAny(
      WaitTarget[] targets, long timeoutNanos, AbandonedWakeHandler onAbandonedWake) {
    WaitAnyOp op = new WaitAnyOp(loop, targets, timeoutNanos, onAbandonedWake);
    loop.submit(op);
    return op;
  }

  @Override
  public CompletableFuture<Integer> wake(FutexWord word, int count, int bitset) {
    WakeOp op = new WakeOp(loop, word, count, bitset);
    loop.submit(op);
    return op;
  }

  @Override
  public WakeSignal wakeSignal(FutexWord word, int count, int bitset) {
    return new WakeSignal(loop, null, word, count, bitset);
  }

  @Override
  public CompletableFuture<Void> flush() {
    return loop.flush();
  }

  @Override
  public CompletableFuture<Void> wakeEach(FutexWord[] words) {
    if (words.length == 1 && loop.isAsleep()) { // a lone wake; batches keep going through the ring
      int result = SyscallBackend.wakeDirectly(words[0], 1, FutexRing.ANY_BITSET);
      return result >= 0
          ? CompletableFuture.completedFuture(null)
          : CompletableFuture.failedFuture(WakeEachOp.failure(words[0], -result));
    }
    WakeEachOp op = new WakeEachOp(loop, words);
    loop.submit(op);
    return op;
  }

  @Override
  public CompletableFuture<Void> pollProcessExit(int pid, int pidfd) {
    ProcessExitOp op = new ProcessExitOp(loop, pid, pidfd);
    loop.submit(op);
    return op;
  }

  @Override
  public boolean inCompletionThread() {
    return Thread.currentThread() == loop.thread();
  }

  @Override
  public boolean completionThreadAsleep() {
    return loop.isAsleep();
  }

  @Override
  public boolean isClosing() {
    return loop.isClosing();
  }

  @Override
  public FutexRing.Stats stats() {
    return new FutexRing.Stats(
        loop.counter(CompletionLoop.ENTER_CALLS),
        loop.counter(CompletionLoop.SQES_SUBMITTED),
        loop.counter(CompletionLoop.COMPLETIONS),
        loop.counter(CompletionLoop.DOORBELL_WAKEUPS),
        loop.counter(CompletionLoop.LARGEST_SUBMISSION),
        loop.inFlight(),
        loop.counter(CompletionLoop.WAKES_FAILED));
  }

  @Override
  public void close() {
    loop.requestClose();
    if (!inCompletionThread()) {
      boolean interrupted = false;
      while (loop.thread().isAlive()) { // the thread ends only after shutdown has finished
        try {
          loop.thread().join();
        } catch (InterruptedException e) {
          interrupted = true; // close must finish: remember the interrupt and wait on
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public String threadName() {
    return loop.thread().getName();
  }
}
