package dev.ringlock.locks.internal;

import dev.ringlock.core.FutexRing;
import dev.ringlock.locks.ConditionVariable;
import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;

/*
 * Overview
 *
 * A condition variable is a wait queue whose waiters all have key 0, plus the mutex dance:
 *
 *   await:  queue.await(0)   links a slot of the queue (before it returns: see WaitQueue)
 *           guard.unlock()   only now; a signal sent by the next holder finds the slot linked
 *           ...woken, or the time ran out...
 *           mutex.lock()     re-acquire; the await completes with the new guard
 *   signal: queue.wake(1)    the longest-waiting slot, FIFO
 *   signalAll: queue.wakeAll()   one FUTEX_WAKE for every waiter, in every process
 *
 * Cancelling an await withdraws whichever step is pending and never leaves the caller holding the
 * mutex: a pending queue wait is cancelled (and the queue passes on a wake(1) it had consumed); a
 * pending re-acquisition is cancelled (a grant racing the cancel is released again by Grants). In
 * the second case the waiter had already consumed a signal it will not use, so it passes one on
 * here, with the queue's passOn(1): at worst a spurious wakeup for the next waiter, never a lost
 * signal. Neither pass-on nor a signal made on the ring's completion thread (a continuation) ever
 * waits for the queue's list lock: if another process holds it, the wake is deferred until the lock
 * is free (see WaitQueueCore, Never waiting); signal and signalAll elsewhere wait for it at most the
 * region's internal lock timeout.
 */
public final class ConditionCore implements ConditionVariable {
  private static final long CONDITION_KEY = 0;

  private final String name;
  private final WaitQueueCore queue;
  private final Runnable onClose; // after the queue closes: frees the memory of a private one

  public ConditionCore(String name, WaitQueueCore queue) {
    this(name, queue, () -> {});
  }

  ConditionCore(String name, WaitQueueCore queue, Runnable onClose) {
    this.name = name;
    this.queue = queue;
    this.onClose = onClose;
  }

  /** Fails pending awaits with RegionClosedException (through the queue). */
  public void close() {
    queue.close();
    onClose.run();
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public CompletableFuture<MutexGuard> await(MutexGuard guard) {
    Objects.requireNonNull(guard, "guard");
    return park(guard, queue.await(CONDITION_KEY));
  }

  @Override
  public CompletableFuture<MutexGuard> await(MutexGuard guard, Duration timeout) {
    Objects.requireNonNull(guard, "guard");
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must not be negative: " + timeout);
    }
    return park(guard, queue.await(CONDITION_KEY, timeout));
  }

  private CompletableFuture<MutexGuard> park(MutexGuard guard, CompletableFuture<Void> waiting) {
    try {
      guard.unlock();
    } catch (RuntimeException e) {
      waiting.cancel(false); // already unlocked, or its region closed: queue nothing
      throw e;
    }
    Await await = new Await(guard.mutex(), waiting);
    waiting.whenComplete(await::woken);
    return await;
  }

  @Override
  public void signal() {
    queue.signal(1);
  }

  @Override
  public void signalAll() {
    queue.signal(FutexRing.WAKE_ALL);
  }

  @Override
  public int waiting() {
    return queue.waiting();
  }

  @Override
  public String toString() {
    return "ConditionVariable['" + name + "', " + queue + "]";
  }

  /** One await: the queue wait, then the re-acquisition. Completing it by hand withdraws both. */
  private final class Await extends WithdrawableFuture<MutexGuard> {
    private final Mutex mutex;
    // guarded by this: the step now pending, and whether a signal was consumed
    private CompletableFuture<Void> waiting;
    private CompletableFuture<MutexGuard> relocking;
    private boolean signalled;

    Await(Mutex mutex, CompletableFuture<Void> waiting) {
      this.mutex = mutex;
      this.waiting = waiting;
    }

    /*
     * woken() and withdrawn() race when the caller cancels as the wait ends. Both decide under
     * this monitor, and cancel marks the future done before withdrawn() runs, so exactly one of
     * them passes a consumed signal on: woken() if it sees the future done (it then starts no
     * re-acquisition), else withdrawn(), which then finds the re-acquisition to cancel. A cancel
     * that finds the queue wait still pending cancels it, and the queue passes on a wake(1) that
     * wait had consumed; woken() then sees the cancellation and does nothing.
     */

    /** The queue wait ended: signalled, timed out, cancelled by us, or the region closed. */
    void woken(Void ignored, Throwable failure) {
      Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
      if (cause != null && !(cause instanceof TimeoutException)) {
        settleExceptionally(cause); // no-op if this cancel caused it
        return;
      }
      CompletableFuture<MutexGuard> relock;
      synchronized (this) {
        waiting = null;
        signalled = cause == null;
        if (isDone()) {
          relock = null;
        } else {
          relock = relock();
          relocking = relock;
        }
      }
      if (relock == null) {
        if (cause == null) {
          queue.passOn(1); // cancelled as the signal arrived: it belongs to the next waiter
        }
        return;
      }
      relock.whenComplete(
          (guard, lockFailure) -> {
            if (lockFailure != null) {
              settleExceptionally(lockFailure);
            } else {
              settle(guard); // false: cancelled meanwhile, and withdrawn() unlocks the guard
            }
          });
    }

    /** mutex.lock(), with a refusal (its region closed) as a failed future, not a throw here. */
    private CompletableFuture<MutexGuard> relock() {
      try {
        return mutex.lock();
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    }

    @Override
    void withdrawn() {
      CompletableFuture<Void> wait;
      CompletableFuture<MutexGuard> relock;
      boolean passOn;
      synchronized (this) {
        wait = waiting;
        relock = relocking;
        passOn = signalled;
      }
      if (wait != null) {
        wait.cancel(false); // the queue passes on a wake(1) it had consumed
      } else if (relock != null) {
        // A pending re-acquisition is withdrawn (giving back a grant on its way); one already
        // granted is unlocked here, before the caller's cancel() returns, never by the callback
        if (!relock.cancel(false) && !relock.isCompletedExceptionally()) {
          Guard.unlockUnwanted(relock.join());
        }
        if (passOn) {
          queue.passOn(1); // this waiter consumed a signal it will not use
        }
      }
    }
  }
}
