package dev.ringlock.locks.internal;

import dev.ringlock.core.WaitOutcome;
import dev.ringlock.locks.RegionClosedException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;

/**
 * What every primitive whose waiters queue in this process behind one kernel wait shares (see
 * MutexCore's overview): the {@link RequestQueue}, the {@link Sleeper}, the closed flag, and the
 * plumbing around them. The subclass's monitor ({@code this}) guards the queue and the sleeper;
 * futures are completed, and sleepers cancelled, only outside it.
 */
abstract class QueuedPrimitive<R extends QueuedRequest<?, R>> {
  // ---- guarded by this (the queue's length may be read anywhere) ----
  final RequestQueue<R> queue = new RequestQueue<>();
  final Sleeper sleeper; // the kernel wait standing for the queue

  volatile boolean closed;

  QueuedPrimitive(Sleeper sleeper) {
    this.sleeper = sleeper;
  }

  /** How messages name this primitive, e.g. {@code mutex 'orders'}. */
  abstract String describe();

  /** The message of the TimeoutException an expired request fails with. */
  abstract String timeoutMessage(R request);

  /**
   * The armed sleeper completed: woken by a FUTEX_WAKE ({@code woken}), or the word changed before
   * it slept, or its timeout (the queue's earliest deadline) came. Move the queue on.
   */
  abstract void sleeperCompleted(boolean woken);

  /**
   * The ringlock exception for a fault on the region's memory (an InternalError: the file shrank
   * under the mapping), naming the region: MappedRegion.truncated.
   */
  abstract RuntimeException regionFault(InternalError fault);

  /**
   * A fault on the region's memory was caught: nothing queued here can ever be granted, so every
   * queued request fails with the ringlock exception, which is returned for the caller to throw.
   * Only on that path, so the hot paths pay nothing (a catch clause costs nothing until thrown).
   */
  final RuntimeException regionFaulted(InternalError fault) {
    RuntimeException failure = regionFault(fault);
    try {
      failAll(failure);
    } catch (InternalError again) {
      // a subclass's failAll reads the word after failing the queue: the queue is failed already
    }
    return failure;
  }

  /** Runs under the monitor as {@link #closeQueue()} empties the queue. */
  void closing() {}

  /**
   * Queues {@code request}, or fails it with RegionClosedException if the region is closed. Decided
   * under the monitor: once linked, another thread's pump may unlink the request for a grant before
   * the caller looks again, and must not find it failed as if the region had closed.
   *
   * @return whether it was queued
   */
  final boolean link(R request) {
    synchronized (this) {
      if (!closed) {
        queue.link(request);
        return true;
      }
    }
    request.fail(closedException());
    return false;
  }

  /** Hooks a sleeper just armed up to {@link #sleeperCompleted}; outside the monitor. */
  final void watch(CompletableFuture<WaitOutcome> armed) {
    armed.whenComplete((outcome, failure) -> sleeperDone(armed, outcome, failure));
  }

  private void sleeperDone(
      CompletableFuture<WaitOutcome> done, WaitOutcome outcome, Throwable failure) {
    // On the ring's thread. A fault on the region's memory (the file shrank: the sleeper's count,
    // the word) fails the queue with TRUNCATED, never with the InternalError itself.
    try {
      synchronized (this) {
        if (!sleeper.completed(done)) {
          return; // cancelled by us: the ring passes on any wake it consumed
        }
      }
      Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
      if (cause == null || cause instanceof TimeoutException) {
        sleeperCompleted(cause == null && outcome.isWoken());
      } else if (cause instanceof InternalError fault) {
        regionFaulted(fault);
      } else {
        failAll(cause); // the ring closed or failed: nothing can wait any more
      }
    } catch (InternalError fault) {
      regionFaulted(fault);
    }
  }

  /** Fails every queued request with {@code cause}. */
  void failAll(Throwable cause) {
    List<R> waiting;
    synchronized (this) {
      waiting = queue.unlinkAll();
    }
    for (R request : waiting) {
      request.fail(cause);
    }
  }

  /** Outside the monitor: cancels a detached sleeper and fails expired requests. */
  final void finish(List<R> expired, CompletableFuture<WaitOutcome> cancelled) {
    if (cancelled != null) {
      cancelled.cancel(false);
    }
    if (expired != null) {
      for (R request : expired) {
        request.fail(new TimeoutException(timeoutMessage(request)));
      }
    }
  }

  /**
   * Marks this closed, fails every queued request with RegionClosedException and cancels the
   * sleeper.
   *
   * @return false if it was closed already
   */
  final boolean closeQueue() {
    List<R> waiting;
    CompletableFuture<WaitOutcome> cancelled;
    synchronized (this) {
      if (closed) {
        return false;
      }
      closed = true;
      waiting = queue.unlinkAll();
      cancelled = sleeper.detach();
      closing();
    }
    finish(null, cancelled);
    RegionClosedException failure = closedException();
    for (R request : waiting) {
      request.fail(failure);
    }
    return true;
  }

  final void checkOpen() {
    if (closed) {
      throw closedException();
    }
  }

  final RegionClosedException closedException() {
    return new RegionClosedException(
        describe() + " belongs to a closed SharedRegion; open the region again to use it");
  }
}
