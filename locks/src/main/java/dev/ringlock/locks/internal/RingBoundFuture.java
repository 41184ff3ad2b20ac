package dev.ringlock.locks.internal;

import dev.ringlock.core.CompletionThreadBlockingException;
import dev.ringlock.core.FutexRing;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/*
 * Overview
 *
 * A future of the locks that a ring's completion thread may have to complete: a queued request of
 * a lock, a semaphore or a wait queue, a lockAny, a scoped acquisition. Blocking on it there
 * (join(), get(), get(timeout) while it is not done) would wait for a completion that only the
 * blocked thread could deliver, so it is refused at once with CompletionThreadBlockingException,
 * as the ring's own futures refuse it (core's BackendFuture).
 *
 * Unlike a ring future, a refused request is also withdrawn (cancel): a grant that reached it later
 * would go to a caller who has been told it cannot wait, and the lock or the permits would stay
 * with nobody. The cancel is also the race's referee: if a grant completed the future between the
 * isDone() check and the refusal, the cancel fails and the call returns the grant instead.
 *
 * A done future's join() costs one isDone() read more than CompletableFuture's, nothing else; the
 * ring and the thread are looked at only on the way to blocking.
 */
abstract class RingBoundFuture<T> extends CompletableFuture<T> {
  /** The ring whose completion thread may complete this future; null: none (never refused). */
  abstract FutexRing boundRing();

  /** How a refusal names this future, e.g. {@code "a lock() request"}. */
  abstract String refusalName();

  /**
   * On the way to blocking in join() or get() ({@code interruptible}), past the refusal: a queued
   * request may run its queue's kernel wait on this thread until it is done (QueuedRequest). The
   * default does nothing: the caller parks until the future completes.
   */
  void blockingHere(boolean interruptible) {}

  @Override
  public final T join() {
    if (!isDone()) {
      refuseOnBoundCompletionThread("join()");
      blockingHere(false);
    }
    return super.join();
  }

  @Override
  public final T get() throws InterruptedException, ExecutionException {
    if (!isDone()) {
      refuseOnBoundCompletionThread("get()");
      blockingHere(true);
    }
    return super.get();
  }

  @Override
  public final T get(long timeout, TimeUnit unit)
      throws InterruptedException, ExecutionException, TimeoutException {
    if (!isDone()) {
      refuseOnBoundCompletionThread("get(timeout)");
    }
    return super.get(timeout, unit);
  }

  private void refuseOnBoundCompletionThread(String call) {
    FutexRing ring = boundRing();
    if (ring != null && ring.inCompletionThread() && cancel(false)) {
      throw CompletionThreadBlockingException.refusing(
          call,
          refusalName()
              + " that was not complete yet (now withdrawn, so that nothing is granted to a"
              + " caller that could not wait for it)");
    }
  }
}
