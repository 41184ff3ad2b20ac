package dev.ringlock.locks.internal;

import dev.ringlock.core.FutexRing;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A waiter of a wait queue: the future its caller holds, the owner of one slot of the queue, and a
 * request of its view's in-process queue (WaitQueueLocals links it in the order its slot was
 * linked). Completing it by any other means than the queue (cancel, complete,
 * completeExceptionally, and so orTimeout) withdraws it from the queue.
 */
final class QueueWaiter extends QueuedRequest<Void, QueueWaiter> {
  private static final VarHandle PASS_ON_CLAIMED;

  static {
    try {
      PASS_ON_CLAIMED =
          MethodHandles.lookup().findVarHandle(QueueWaiter.class, "passOnClaimed", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  final WaitQueueWaiters view;
  final int slot;

  // claimed once, by whoever passes on a WOKEN_ONE wake this waiter did not take; see
  // WaitQueueWaiters
  @SuppressWarnings("unused") // through PASS_ON_CLAIMED
  private volatile boolean passOnClaimed;

  /** {@code timeoutNanos}: the caller's time limit, for the timeout message; -1 if none. */
  QueueWaiter(WaitQueueWaiters view, int slot, long deadline, long timeoutNanos) {
    super(deadline, timeoutNanos);
    this.view = view;
    this.slot = slot;
  }

  /**
   * Guarded by the view's monitor: whether the slot is no longer this waiter's (freed, or given up
   * at close), which is when it leaves the view's in-process queue.
   */
  boolean released() {
    return !queued;
  }

  /** Completes the wait: a wake chose this waiter. False if the caller completed it first. */
  boolean woken() {
    if (!isDone()) {
      countGrant(System.nanoTime() - requestedAt(), null); // before, as grant() counts
    }
    return settle(null);
  }

  /** A woken wait: its time is the queue's contended wait; its start was counted at arrival. */
  @Override
  void countGrant(long waitedNanos, Void nothing) {
    view.stats().contendedGrant(waitedNanos, false);
  }

  /** True for the one caller that may pass on the wake this waiter was chosen for. */
  boolean claimPassOn() {
    return PASS_ON_CLAIMED.compareAndSet(this, false, true);
  }

  /** Whether the wait completed normally, as a woken waiter's does. */
  boolean tookTheWake() {
    return isDone() && !isCompletedExceptionally();
  }

  /**
   * A WOKEN_ALL wake (delivered through Grants) the caller declined: it was every waiter's, so
   * nobody misses it. A WOKEN_ONE wake is never delivered this way (WaitQueueWaiters.takeWake).
   */
  @Override
  void grantLost(Void nothing) {}

  @Override
  FutexRing boundRing() {
    return view.sleeper.ring();
  }

  @Override
  String refusalName() {
    return "a wait of " + view.describe();
  }

  @Override
  void withdrawn() {
    view.withdrawSlot(this);
  }
}
