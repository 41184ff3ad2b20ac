package dev.ringlock.locks.internal;

import dev.ringlock.locks.MutexGuard;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;

/**
 * The blocking {@link Lock} view of a mutex. It blocks the calling thread on the lock future, which
 * on a virtual thread unmounts it rather than pinning a carrier. It remembers the holding thread
 * and its guard, so only that thread may unlock (IllegalMonitorStateException otherwise), as with
 * {@code ReentrantLock}; but it is not reentrant.
 */
final class BlockingLock implements Lock {
  private final MutexCore mutex;
  private volatile Thread holder; // written only by the thread that holds the mutex through us
  private MutexGuard guard; // published by the mutex's own ordering; read by the holder only

  BlockingLock(MutexCore mutex) {
    this.mutex = mutex;
  }

  @Override
  public void lock() {
    boolean interrupted = false;
    CompletableFuture<MutexGuard> request = mutex.lock();
    for (; ; ) {
      try {
        held(request.get());
        break;
      } catch (InterruptedException e) {
        interrupted = true; // lock() is not interruptible: wait on, then restore the flag
      } catch (ExecutionException e) {
        throw failure(e);
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void lockInterruptibly() throws InterruptedException {
    if (Thread.interrupted()) {
      throw new InterruptedException();
    }
    CompletableFuture<MutexGuard> request = mutex.lock();
    try {
      held(request.get());
    } catch (InterruptedException e) {
      giveUp(request);
      throw e;
    } catch (ExecutionException e) {
      throw failure(e);
    }
  }

  @Override
  public boolean tryLock() {
    Optional<MutexGuard> taken = mutex.tryLock();
    taken.ifPresent(this::held);
    return taken.isPresent();
  }

  @Override
  public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
    if (Thread.interrupted()) {
      throw new InterruptedException();
    }
    CompletableFuture<MutexGuard> request =
        mutex.lock(Duration.ofNanos(Math.max(0, unit.toNanos(time))));
    try {
      held(request.get());
      return true;
    } catch (InterruptedException e) {
      giveUp(request);
      throw e;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof TimeoutException) {
        return false;
      }
      throw failure(e);
    }
  }

  @Override
  public void unlock() {
    checkHeldByCurrentThread();
    MutexGuard held = guard;
    guard = null;
    holder = null;
    held.unlock();
  }

  /**
   * A new {@link Condition} of this lock, backed by a {@link dev.ringlock.locks.ConditionVariable}
   * private to this process (a Condition has no name another process could use; share one with
   * {@code SharedRegion.condition(name)} instead). Its memory lasts until the region closes, so
   * make conditions once, as with ReentrantLock, not per wait.
   */
  @Override
  public Condition newCondition() {
    return new BlockingCondition(this, mutex.newLocalCondition());
  }

  private void held(MutexGuard acquired) {
    guard = acquired;
    holder = Thread.currentThread();
  }

  // ---- for BlockingCondition ----

  void checkHeldByCurrentThread() {
    if (holder != Thread.currentThread()) {
      throw new IllegalMonitorStateException(
          "mutex '" + mutex.name() + "' is not held by this thread through asLock()");
    }
  }

  /** Gives up the holding thread's claim for an await; the guard is still locked. */
  MutexGuard releaseForAwait() {
    checkHeldByCurrentThread();
    MutexGuard held = guard;
    guard = null;
    holder = null;
    return held;
  }

  /** The calling thread holds the mutex again through {@code acquired}. */
  void reacquired(MutexGuard acquired) {
    held(acquired);
  }

  /** Withdraws the request; if it was granted in the meantime, releases the lock again. */
  private static void giveUp(CompletableFuture<MutexGuard> request) {
    if (!request.cancel(false) && !request.isCompletedExceptionally()) {
      request.join().unlock();
    }
  }

  static RuntimeException failure(ExecutionException e) {
    Throwable cause = e.getCause();
    if (cause instanceof RuntimeException runtime) {
      return runtime;
    }
    return new IllegalStateException("acquiring the mutex failed: " + cause, cause);
  }

  @Override
  public String toString() {
    return "Lock view of " + mutex;
  }
}
