package dev.ringlock.locks.internal;

import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.WaitOutcome;
import dev.ringlock.core.thread.ThreadWaiter;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link Sleeper}'s kernel wait run by a thread blocked in join() on the queue's head request
 * instead of by the ring (QueuedPrimitive.joinHere): the future stands where a ring wait would, and
 * completes the same way (woken, the word changed, or a TimeoutException at {@link #timesOutAt}),
 * on the joined thread, so that the queue's next decision runs there.
 *
 * <p>Cancelling it (the sleeper detached) nudges the thread out of the kernel; a wake it consumed
 * after that is passed on by the thread ({@link #woken}), as the ring passes on a wake consumed by
 * a cancelled wait (AbandonedWakeHandler.PASS_ON).
 */
final class JoinedWait extends CompletableFuture<WaitOutcome> {
  final FutexRing ring; // for a wake passed on
  final FutexWord word;
  final int expected;
  final int bitset;
  final long timesOutAt; // System.nanoTime() at which it completes with a TimeoutException
  final ThreadWaiter runner; // the joined thread's

  JoinedWait(
      FutexRing ring,
      FutexWord word,
      int expected,
      int bitset,
      long timesOutAt,
      ThreadWaiter runner) {
    this.ring = ring;
    this.word = word;
    this.expected = expected;
    this.bitset = bitset;
    this.timesOutAt = timesOutAt;
    this.runner = runner;
  }

  /** Detached by its sleeper's owner: the runner leaves the kernel and looks again. */
  @Override
  public boolean cancel(boolean mayInterruptIfRunning) {
    boolean cancelled = super.cancel(mayInterruptIfRunning);
    if (cancelled && !runner.isCurrentThread()) {
      runner.nudge();
    }
    return cancelled;
  }

  /** Handed back to the ring by its runner, which consumed nothing: no nudge needed. */
  void retire() {
    super.cancel(false);
  }

  /**
   * The runner consumed a wake on the word: the queue's decision runs now, on this thread; or, if
   * the wait was detached first, the wake goes on to the next sleeper of the word.
   */
  void woken() {
    if (!complete(WaitOutcome.woken(0))) {
      ring.wake(word, 1, bitset);
    }
  }
}
