package dev.ringlock.locks.internal;

import dev.ringlock.core.WaitOutcome;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;

/**
 * What one decision of a {@link QueuedPrimitive} leaves to do once its monitor is released: the
 * sleeper detached (to cancel) or armed (to hook up), requests expired, granted or refused, wakes
 * to pass on, and a failure for whatever is still queued. Collected under the monitor, then {@link
 * #run} once, outside it, in one order: completing a future runs its caller's continuations, which
 * may lock, release or wait, so none of this may happen under the monitor.
 *
 * <p>Not thread-safe: one decision's, on one thread. Not final: a wait queue's pass under its list
 * lock adds what it leaves to do in shared memory (WaitQueueBatch).
 *
 * @param <R> the primitive's request type
 */
class Effects<R extends QueuedRequest<?, R>> {
  private CompletableFuture<WaitOutcome> cancelled; // detached sleeper
  private CompletableFuture<WaitOutcome> armed; // sleeper to hook up to sleeperDone
  private List<R> expired; // fail with TimeoutException
  private List<Object> grants; // request, value, request, value...
  private List<Object> refusals; // request, reason, request, reason...
  private List<Runnable> passOns; // wakes and the like, after the grants
  private Throwable failQueued; // then fail every request still queued

  /** Whether this decision granted a request. */
  boolean grantsAny() {
    return grants != null;
  }

  /** The sleeper detached under the monitor (null: none), to be cancelled. */
  void cancel(CompletableFuture<WaitOutcome> detached) {
    if (detached != null) {
      cancelled = detached;
    }
  }

  /** The sleeper just armed, to be hooked up to the primitive's sleeper-done event. */
  void armed(CompletableFuture<WaitOutcome> sleeper) {
    armed = sleeper;
  }

  /** Requests unlinked as overdue (null: none), to fail with TimeoutException. */
  void expired(List<R> overdue) {
    if (overdue != null) {
      expired = overdue;
    }
  }

  /** A request unlinked as overdue, to fail with TimeoutException. */
  void expire(R overdue) {
    if (expired == null) {
      expired = new ArrayList<>(1);
    }
    expired.add(overdue);
  }

  /**
   * A request unlinked for a grant of {@code value} (of the type the request is completed with),
   * delivered through {@link Grants}. Under the owner's monitor: the request is marked as granted
   * (QueuedRequest.unlinkedForGrant) so that a withdrawal racing the delivery gives it back.
   */
  @SuppressWarnings("unchecked") // value is of the type the request is completed with
  void grant(R request, Object value) {
    ((QueuedRequest<Object, ?>) request).unlinkedForGrant(value);
    if (grants == null) {
      grants = new ArrayList<>(2);
    }
    grants.add(request);
    grants.add(value);
  }

  /** A request unlinked to fail with {@code reason}. */
  void refuse(R request, Throwable reason) {
    if (refusals == null) {
      refusals = new ArrayList<>(2);
    }
    refusals.add(request);
    refusals.add(reason);
  }

  /** Requests unlinked to fail with {@code reason}. */
  void refuseAll(List<R> requests, Throwable reason) {
    for (R request : requests) {
      refuse(request, reason);
    }
  }

  /** A wake (or other step) to run after the grants: one this process consumed and cannot use. */
  void passOn(Runnable wake) {
    if (passOns == null) {
      passOns = new ArrayList<>(1);
    }
    passOns.add(wake);
  }

  /** After everything else, fail every request still queued with {@code cause}. */
  void failQueued(Throwable cause) {
    failQueued = cause;
  }

  /**
   * Runs the effects, outside {@code owner}'s monitor: cancels the detached sleeper, fails the
   * expired requests, hooks the armed sleeper up, grants, passes wakes on, refuses, and last fails
   * whatever is still queued.
   */
  @SuppressWarnings("unchecked") // grants and refusals are added in typed pairs above
  void run(QueuedPrimitive<R> owner) {
    if (cancelled != null) {
      cancelled.cancel(false); // the ring passes on a wake it consumed (AbandonedWakeHandler)
    }
    if (expired != null) {
      for (R request : expired) {
        request.fail(new TimeoutException(owner.timeoutMessage(request)));
      }
    }
    if (armed != null) {
      owner.watch(armed);
    }
    if (grants != null) {
      for (int i = 0; i < grants.size(); i += 2) {
        Grants.grant((QueuedRequest<Object, ?>) grants.get(i), grants.get(i + 1));
      }
    }
    if (passOns != null) {
      passOns.forEach(Runnable::run);
    }
    if (refusals != null) {
      for (int i = 0; i < refusals.size(); i += 2) {
        ((R) refusals.get(i)).fail((Throwable) refusals.get(i + 1));
      }
    }
    if (failQueued != null) {
      owner.failAll(failQueued);
    }
  }
}
