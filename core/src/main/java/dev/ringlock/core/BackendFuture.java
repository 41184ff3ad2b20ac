package dev.ringlock.core;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/*
 * Overview
 *
 * The future half that both backends' requests share (RingOp on io_uring, SyscallFuture on the
 * syscalls backend): a CompletableFuture that the backend completes, and that its caller may
 * complete first.
 *
 *   - The backend completes it by handing over an outcome (a value, or a Throwable): stage() it,
 *     then run() it here or on the completion executor (this object is that Runnable, so a
 *     completion allocates nothing more).
 *   - Anyone else completes it by "abandoning" it: cancel, complete, completeExceptionally, and so
 *     orTimeout and completeOnTimeout. Each first wins the completion through CompletableFuture,
 *     then calls completedByCaller(), so that the backend takes its kernel wait back rather than
 *     leave it to swallow a wake.
 *   - An outcome that loses that race is unclaimed: outcomeUnclaimed() hands back what it consumed
 *     (a wait passes its wake to its AbandonedWakeHandler). So no wake is lost to an abandoned
 *     wait, on either backend, whichever side wins.
 *
 * The outcome field is written before the hand-off to the executor and read by run(): the
 * executor's own hand-off orders the two.
 *
 * Blocking on the thread that completes it is refused: join(), get() and get(timeout) of a future
 * that is not done, called on its backend's completion thread, throw
 * CompletionThreadBlockingException instead of waiting forever for a completion only that thread
 * could deliver. The future itself is left as it is (cancelling a wake would lose it); the caller
 * may still chain on it. A done future pays one isDone() read and nothing else.
 */
abstract class BackendFuture<T> extends CompletableFuture<T> implements Runnable {
  private static final Object NO_OUTCOME = new Object();
  private Object outcome = NO_OUTCOME; // executor delivery: the value, or a Throwable

  /** Keeps {@code outcome} for {@link #run}; before the hand-off, which may run it at once. */
  final void stage(Object outcome) {
    this.outcome = outcome;
  }

  /**
   * The delivering half of a completion by the backend. Public only because Runnable is; a call
   * that no {@link #stage} preceded (a stray one, on a future cast to Runnable) does nothing.
   */
  @Override
  public final void run() {
    Object pending = outcome;
    if (pending == NO_OUTCOME) {
      return;
    }
    outcome = NO_OUTCOME;
    boolean won = completeByBackend(pending);
    if (!won) {
      outcomeUnclaimed(pending);
    }
  }

  /** Completes with {@code outcome} as the backend, without abandoning anything. */
  @SuppressWarnings("unchecked")
  final boolean completeByBackend(Object outcome) {
    return outcome instanceof Throwable failure
        ? super.completeExceptionally(failure)
        : super.complete((T) outcome);
  }

  /** The caller completed the future first; hand back what the outcome consumed. */
  void outcomeUnclaimed(Object outcome) {}

  /** The caller completed the future: take the request back from the kernel. */
  abstract void completedByCaller();

  /** Whether the caller runs on the thread where this future's backend completes futures. */
  abstract boolean onOwnCompletionThread();

  /**
   * A thread about to block in join() ({@code interruptible} false) or get() on this pending future
   * may wait for it itself (the syscalls backend's JoinedRingWait); returns once the future is
   * done, or at once where it cannot, and the caller then blocks as CompletableFuture does.
   *
   * @throws InterruptedException only when {@code interruptible}, the wait handed back to the ring
   */
  void awaitHere(boolean interruptible) throws InterruptedException {}

  @Override
  public final T join() {
    if (!isDone()) {
      refuseOnOwnCompletionThread("join()");
      try {
        awaitHere(false);
      } catch (InterruptedException e) {
        throw new AssertionError("join() is not interruptible", e);
      }
    }
    return super.join();
  }

  @Override
  public final T get() throws InterruptedException, ExecutionException {
    if (!isDone()) {
      refuseOnOwnCompletionThread("get()");
      awaitHere(true);
    }
    return super.get();
  }

  @Override
  public final T get(long timeout, TimeUnit unit)
      throws InterruptedException, ExecutionException, TimeoutException {
    if (!isDone()) {
      refuseOnOwnCompletionThread("get(timeout)");
    }
    return super.get(timeout, unit);
  }

  private void refuseOnOwnCompletionThread(String call) {
    if (onOwnCompletionThread()) {
      throw CompletionThreadBlockingException.refusing(
          call, "a FutexRing future that is not complete yet");
    }
  }

  @Override
  public final boolean cancel(boolean mayInterruptIfRunning) {
    return abandonedIf(super.cancel(mayInterruptIfRunning));
  }

  @Override
  public final boolean complete(T value) {
    return abandonedIf(super.complete(value));
  }

  @Override
  public final boolean completeExceptionally(Throwable failure) {
    return abandonedIf(super.completeExceptionally(failure));
  }

  private boolean abandonedIf(boolean completedByCaller) {
    if (completedByCaller) {
      completedByCaller();
    }
    return completedByCaller;
  }
}
