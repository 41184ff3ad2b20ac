package dev.ringlock.locks.internal;

import dev.ringlock.locks.RegionClosedException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
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
 *       the acquisition (see {@link WithdrawableFuture}): a pending one is withdrawn (and a grant
 *       on its way to it given back by that withdrawal); one granted already is released by the
 *       withdrawal too, unless a scoped action has started. Either way on the thread that completed
 *       this future, before its cancel() returns: then nothing is held for it.
 *   <li>When the acquisition is granted, the callback settles this future first (a token) or claims
 *       the grant and runs the action (scoped). A settle or claim that fails means the caller
 *       completed this future first, and its withdrawal releases the grant.
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
  private static final VarHandle GRANT_CLAIMED;

  static {
    try {
      GRANT_CLAIMED =
          MethodHandles.lookup().findVarHandle(ScopedFuture.class, "grantClaimed", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final CompletableFuture<?> acquisition;
  private final Consumer<Object> release;

  // Set once, by a CAS: by the scoped callback as it starts the action, or by the caller's
  // withdrawal as it releases a grant the action never got. Whoever sets it owns the grant.
  @SuppressWarnings("unused") // through GRANT_CLAIMED
  private boolean grantClaimed;

  @SuppressWarnings("unchecked") // release takes what acquisition grants
  private <G> ScopedFuture(CompletableFuture<G> acquisition, Consumer<G> release) {
    this.acquisition = acquisition;
    this.release = (Consumer<Object>) release;
  }

  /**
   * The caller completed this future first: a pending acquisition is withdrawn, and one granted
   * already is released, unless a scoped action claimed it first (then the action's end releases).
   */
  @Override
  void withdrawn() {
    if (acquisition.cancel(false) || acquisition.isCompletedExceptionally()) {
      return; // withdrawn (its withdrawal gave back a grant on its way), or nothing was granted
    }
    if (GRANT_CLAIMED.compareAndSet(this, false, true)) {
      try {
        release.accept(acquisition.join());
      } catch (RegionClosedException e) {
        // closing the region released it already
      }
    }
  }

  /**
   * Completes with the token {@code asToken} makes of what {@code acquisition} grants; if the
   * caller completed the result first, its withdrawal releases the grant.
   */
  public static <G, R> CompletableFuture<R> token(
      CompletableFuture<G> acquisition, Function<G, R> asToken, Consumer<G> release) {
    ScopedFuture<R> result = new ScopedFuture<>(acquisition, release);
    acquisition.whenComplete(
        (granted, failure) -> {
          if (failure != null) {
            result.settleExceptionally(failure);
          } else {
            result.settle(asToken.apply(granted)); // false: cancelled first, see withdrawn()
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
    ScopedFuture<T> result = new ScopedFuture<>(acquisition, release);
    acquisition.whenComplete(
        (granted, failure) -> {
          if (failure != null) {
            result.settleExceptionally(failure);
            return;
          }
          if (result.isDone() || !GRANT_CLAIMED.compareAndSet(result, false, true)) {
            return; // the caller gave up before the action could start: withdrawn() releases
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
