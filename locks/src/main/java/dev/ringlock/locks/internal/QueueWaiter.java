package dev.ringlock.locks.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A waiter of a wait queue: the future its caller holds, and the owner of one slot of the queue.
 * Completing it by any other means than the queue (cancel, complete, completeExceptionally, and so
 * orTimeout) withdraws it from the queue.
 */
final class QueueWaiter extends WithdrawableFuture<Void> {
  private static final VarHandle PASS_ON_CLAIMED;

  static {
    try {
      PASS_ON_CLAIMED =
          MethodHandles.lookup().findVarHandle(QueueWaiter.class, "passOnClaimed", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  final WaitQueueCore queue;
  final int slot;
  final long
      deadline; // System.nanoTime() by which to fail with TimeoutException, or Deadlines.NONE

  // guarded by the queue's monitor (and written under its list lock too): see WaitQueueCore
  boolean released; // the slot is no longer this waiter's (freed, or given up at close)
  QueueWaiter previousLocal; // this process's waiters that own a slot, in the order they queued
  QueueWaiter nextLocal;

  // claimed once, by whoever passes on a WOKEN_ONE wake this waiter did not take; see WaitQueueCore
  @SuppressWarnings("unused") // through PASS_ON_CLAIMED
  private volatile boolean passOnClaimed;

  QueueWaiter(WaitQueueCore queue, int slot, long deadline) {
    this.queue = queue;
    this.slot = slot;
    this.deadline = deadline;
  }

  /** Completes the wait: a wake chose this waiter. False if the caller completed it first. */
  boolean woken() {
    return settle(null);
  }

  /** Fails the wait from inside the queue (timeout, closed region or ring). */
  boolean fail(Throwable failure) {
    return settleExceptionally(failure);
  }

  /** True for the one caller that may pass on the wake this waiter was chosen for. */
  boolean claimPassOn() {
    return PASS_ON_CLAIMED.compareAndSet(this, false, true);
  }

  /** Whether the wait completed normally, as a woken waiter's does. */
  boolean tookTheWake() {
    return isDone() && !isCompletedExceptionally();
  }

  @Override
  void withdrawn() {
    queue.withdraw(this);
  }
}
