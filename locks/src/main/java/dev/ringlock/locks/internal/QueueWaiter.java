package dev.ringlock.locks.internal;

import dev.ringlock.core.WaitOutcome;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;

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

  // guarded by the queue's list lock
  boolean released; // the slot is no longer this waiter's (freed, or given up at close)
  QueueWaiter previousLocal; // this process's waiters that own a slot, for the periodic check
  QueueWaiter nextLocal;
  boolean seenStalled; // a periodic check found the slot chosen or cancelled, the wait still on

  // its current kernel wait, so that a close without the list lock can wait for it to end
  volatile CompletableFuture<WaitOutcome> kernelWait;

  // claimed once, by whoever passes on a WOKEN_ONE wake this waiter did not take; see WaitQueueCore
  @SuppressWarnings("unused") // through PASS_ON_CLAIMED
  private volatile boolean passOnClaimed;

  QueueWaiter(WaitQueueCore queue, int slot, long deadline) {
    this.queue = queue;
    this.slot = slot;
    this.deadline = deadline;
  }

  /** Its kernel wait ended (on the ring's completion thread, usually): see WaitQueueCore. */
  void kernelWaitEnded(WaitOutcome ignored, Throwable failure) {
    queue.kernelWaitEnded(this, failure);
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
