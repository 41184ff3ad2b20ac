package dev.ringlock.locks.internal;

import dev.ringlock.core.FutexRing;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The future of a scoped acquisition ({@code Mutex.withLock}, {@code Semaphore.withPermits}) or of
 * a held-permits token ({@code Semaphore.acquirePermits}): the forms that cannot leak what they
 * acquire.
 *
 * <p><b>Overview.</b> The trap it closes: a future derived from a lock future ({@code
 * completedFuture(x).thenCompose(v -> m.lock())}, {@code lock().thenApply(...)}) does not pass a
 * cancel back to its source. Cancelling the derived future leaves the acquisition pending; when it
 * is granted, the guard goes to a future nobody reads, and the lock stays held for good. This
 * future is instead the caller's handle on the acquisition itself:
 *
 * <ul>
 *   <li>Completing it from outside ({@code cancel}, {@code complete}, {@code orTimeout}) cancels
 *       the acquisition (see {@link WithdrawableFuture}): a pending one is withdrawn; one granted
 *       in the meantime is released by the callback below, because its settle then fails.
 *   <li>When the acquisition is granted, the callback settles this future first (a token) or runs
 *       the action (scoped). A settle that fails means the caller completed it first: whatever was
 *       granted is released at once, and the action is not started.
 *   <li>A scoped action that has started is never interrupted: a later cancel completes this future
 *       but the lock stays held until the action's stage completes, then is released. The action
 *       throwing or returning null releases at once.
 * </ul>
 *
 * Release happens before this future completes, so a continuation on it already sees the lock free.
 * A release that fails (the region was closed under the holder) fails this future, or is added as
 * suppressed to the action's own failure.
 */
public final class ScopedFuture<T> extends WithdrawableFuture<T> {
  private final CompletableFuture<?> acquisition;

  private ScopedFuture(CompletableFuture<?> acquisition) {
    this.acquisition = acquisition;
  }

  /**
   * The acquisition's ring while the acquisition is pending (a request the ring's thread may
   * grant): blocking on this future there is refused. Once it is granted, this future waits for the
   * action's stage, which is the caller's own, as any derived future.
   */
  @Override
  FutexRing boundRing() {
    return acquisition instanceof RingBoundFuture<?> request && !request.isDone()
        ? request.boundRing()
        : null;
  }

  @Override
  String refusalName() {
    return "a scoped acquisition (withLock, withPermits, acquirePermits)";
  }

  /** The caller completed this future first: a pending acquisition is withdrawn. */
  @Override
  void withdrawn() {
    acquisition.cancel(false);
  }

  /**
   * Completes with the token {@code asToken} makes of what {@code acquisition} grants; if the
   * caller completed the result first, releases the grant instead.
   */
  public static <G, R> CompletableFuture<R> token(
      CompletableFuture<G> acquisition, Function<G, R> asToken, Consumer<G> release) {
    ScopedFuture<R> result = new ScopedFuture<>(acquisition);
    acquisition.whenComplete(
        (granted, failure) -> {
          if (failure != null) {
            result.settleExceptionally(failure);
          } else if (!result.settle(asToken.apply(granted))) {
            release.accept(granted); // cancelled or timed out by the caller meanwhile
          }
        });
    return result;
  }

  /**
   * Runs {@code action} once {@code acquisition} is granted and releases the grant when the stage
   * it returns completes, however it completes; completes with that stage's outcome.
   */
  public static <G, T> CompletableFuture<T> scoped(
      CompletableFuture<G> acquisition,
      Supplier<? extends CompletionStage<T>> action,
      Consumer<G> release,
      String operation,
      String name) {
    ScopedFuture<T> result = new ScopedFuture<>(acquisition);
    acquisition.whenComplete(
        (granted, failure) -> {
          if (failure != null) {
            result.settleExceptionally(failure);
            return;
          }
          if (result.isDone()) {
            release.accept(granted); // the caller gave up before the action could start
            return;
          }
          CompletionStage<T> stage;
          try {
            stage = action.get();
          } catch (Throwable thrown) {
            result.releaseThenSettle(release, granted, null, thrown);
            return;
          }
          if (stage == null) {
            result.releaseThenSettle(
                release,
                granted,
                null,
                new NullPointerException(
                    "the action of "
                        + operation
                        + " on '"
                        + name
                        + "' returned null instead of a CompletionStage"));
            return;
          }
          stage.whenComplete(
              (value, actionFailure) ->
                  result.releaseThenSettle(release, granted, value, actionFailure));
        });
    return result;
  }

  private <G> void releaseThenSettle(
      Consumer<G> release, G granted, T value, Throwable actionFailure) {
    Throwable failure = actionFailure;
    try {
      release.accept(granted);
    } catch (RuntimeException releaseFailure) {
      if (failure == null) {
        failure = releaseFailure;
      } else if (failure != releaseFailure) {
        failure.addSuppressed(releaseFailure);
      }
    }
    if (failure != null) {
      settleExceptionally(failure);
    } else {
      settle(value);
    }
  }
}
