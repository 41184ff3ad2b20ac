package dev.ringlock.locks.internal;

import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.MutexLock;
import dev.ringlock.locks.OwnerDeathPolicy;
import dev.ringlock.locks.OwnerDiedException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;

/**
 * The blocking {@link MutexLock} view of a mutex. It blocks the calling thread on the lock future,
 * which on a virtual thread unmounts it rather than pinning a carrier. It remembers the holding
 * thread and its guard, so only that thread may unlock (IllegalMonitorStateException otherwise), as
 * with {@code ReentrantLock}; but it is not reentrant.
 *
 * <p>Owner death. A guard that took the mutex over from a dead owner is handled by the view's
 * {@link OwnerDeathPolicy} as soon as the thread holds it ({@link #held}): RELEASE marks it
 * consistent there; REPORT keeps it held and the acquiring method then throws OwnerDiedException
 * ({@link #reportOwnerDeath}), since a Lock's callers have no guard on which to see ownerDied() or
 * call markConsistent(): without the throw, their unlock would make the mutex not recoverable
 * without anyone having been told. The throw comes after the hold is recorded, so the thread can
 * call markConsistent() and unlock() on this view.
 */
final class BlockingLock implements MutexLock {
  private final MutexCore mutex;
  private final OwnerDeathPolicy policy;
  private volatile Thread holder; // written only by the thread that holds the mutex through us
  private MutexGuard guard; // published by the mutex's own ordering; read by the holder only

  BlockingLock(MutexCore mutex, OwnerDeathPolicy policy) {
    this.mutex = mutex;
    this.policy = policy;
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
    reportOwnerDeath();
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
    reportOwnerDeath();
  }

  @Override
  public boolean tryLock() {
    Optional<MutexGuard> taken = mutex.tryLock();
    if (taken.isEmpty()) {
      return false;
    }
    held(taken.get());
    reportOwnerDeath();
    return true;
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
    } catch (InterruptedException e) {
      giveUp(request);
      throw e;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof TimeoutException) {
        return false;
      }
      throw failure(e);
    }
    reportOwnerDeath();
    return true;
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
    if (policy == OwnerDeathPolicy.RELEASE && acquired.ownerDied()) {
      acquired.markConsistent(); // a dead owner's hold is a plain release under this policy
    }
  }

  /**
   * Under REPORT, tells the thread that now holds the mutex that it took it over from a dead owner:
   * it holds the lock when it catches this.
   */
  void reportOwnerDeath() {
    if (policy == OwnerDeathPolicy.REPORT
        && guard instanceof Guard held
        && held.leavesInconsistent()) {
      throw new OwnerDiedException(
          mutex.describe()
              + ": its previous owner died holding it, and this thread holds it now. What it"
              + " protects may be half-updated: repair it, call markConsistent() on this lock"
              + " view, then unlock(); unlock() without markConsistent() makes the mutex not"
              + " recoverable for every process. For a mutex that guards no such state, use"
              + " asLock(OwnerDeathPolicy.RELEASE), which treats an owner's death as a release.");
    }
  }

  @Override
  public Mutex mutex() {
    return mutex;
  }

  @Override
  public OwnerDeathPolicy ownerDeathPolicy() {
    return policy;
  }

  @Override
  public int getQueueLength() {
    return mutex.queueLength();
  }

  @Override
  public boolean isHeldByCurrentThread() {
    return holder == Thread.currentThread();
  }

  @Override
  public boolean ownerDied() {
    return holder == Thread.currentThread()
        && guard instanceof Guard held
        && held.leavesInconsistent();
  }

  @Override
  public void markConsistent() {
    checkHeldByCurrentThread();
    guard.markConsistent();
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
    return "Lock view (" + policy + " on owner death) of " + mutex;
  }
}
