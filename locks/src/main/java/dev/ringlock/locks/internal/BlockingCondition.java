package dev.ringlock.locks.internal;

import dev.ringlock.locks.ConditionVariable;
import dev.ringlock.locks.MutexGuard;
import java.time.Duration;
import java.util.Date;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;

/**
 * The {@link Condition} of a mutex's blocking {@link java.util.concurrent.locks.Lock} view, over a
 * {@link ConditionVariable}: the calling thread blocks on the await's future (a virtual thread
 * unmounts). As {@code java.util.concurrent} requires, every method needs the lock held by the
 * calling thread (IllegalMonitorStateException otherwise), and every await returns holding it
 * again, even when interrupted.
 */
final class BlockingCondition implements Condition {
  private final BlockingLock lock;
  private final ConditionVariable condition;

  BlockingCondition(BlockingLock lock, ConditionVariable condition) {
    this.lock = lock;
    this.condition = condition;
  }

  @Override
  public void await() throws InterruptedException {
    if (Thread.interrupted()) {
      throw new InterruptedException();
    }
    awaitUntil(Deadlines.NONE, true);
  }

  @Override
  public void awaitUninterruptibly() {
    try {
      awaitUntil(Deadlines.NONE, false);
    } catch (InterruptedException e) {
      throw new AssertionError("an uninterruptible await was interrupted", e);
    }
  }

  @Override
  public long awaitNanos(long nanosTimeout) throws InterruptedException {
    if (Thread.interrupted()) {
      throw new InterruptedException();
    }
    long deadline = System.nanoTime() + Math.max(0, nanosTimeout);
    awaitUntil(deadline, true);
    return deadline - System.nanoTime();
  }

  @Override
  public boolean await(long time, TimeUnit unit) throws InterruptedException {
    return awaitNanos(unit.toNanos(time)) > 0;
  }

  @Override
  public boolean awaitUntil(Date deadline) throws InterruptedException {
    long millis = deadline.getTime() - System.currentTimeMillis();
    return awaitNanos(TimeUnit.MILLISECONDS.toNanos(millis)) > 0;
  }

  @Override
  public void signal() {
    lock.checkHeldByCurrentThread();
    condition.signal();
  }

  @Override
  public void signalAll() {
    lock.checkHeldByCurrentThread();
    condition.signalAll();
  }

  /**
   * Releases the lock, waits, and returns holding it again. On interrupt (if {@code interruptible})
   * the await is cancelled, which re-acquires nothing, so the lock is taken again here before the
   * InterruptedException is thrown; if the await had already re-acquired, the interrupt is kept as
   * the thread's status instead, as AbstractQueuedSynchronizer's conditions do.
   */
  private void awaitUntil(long deadline, boolean interruptible) throws InterruptedException {
    MutexGuard guard = lock.releaseForAwait();
    CompletableFuture<MutexGuard> await;
    try {
      await =
          deadline == Deadlines.NONE
              ? condition.await(guard)
              : condition.await(guard, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
    } catch (RuntimeException e) {
      lock.reacquired(guard); // nothing was queued and the guard is still held
      throw e;
    }
    boolean interrupted = false;
    for (; ; ) {
      try {
        lock.reacquired(await.get());
        break;
      } catch (InterruptedException e) {
        if (interruptible && await.cancel(false)) {
          lock.lock(); // the cancelled await holds nothing; j.u.c. returns holding the lock
          throw e;
        }
        interrupted = true; // already signalled and re-acquiring: finish, keep the interrupt
      } catch (ExecutionException e) {
        throw BlockingLock.failure(e);
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    lock.reportOwnerDeath(); // re-acquired from a dead owner: held, and the caller must know
  }

  @Override
  public String toString() {
    return "Condition of " + lock + " over " + condition;
  }
}
