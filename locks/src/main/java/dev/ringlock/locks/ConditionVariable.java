package dev.ringlock.locks;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A condition variable in a {@link SharedRegion}, used with any {@link Mutex}: the same name is the
 * same condition in every process. It is a {@link WaitQueue} underneath, so each waiter has a slot
 * of its own and a signal wakes exactly one waiter, the longest-waiting (FIFO).
 *
 * <pre>{@code
 * CompletableFuture<MutexGuard> whenReady(MutexGuard guard) {      // guard holds `mutex`
 *   if (ready()) return CompletableFuture.completedFuture(guard);
 *   return notEmpty.await(guard).thenCompose(this::whenReady);     // re-check after every wake
 * }
 * }</pre>
 *
 * <p><b>No lost signal.</b> {@link #await(MutexGuard)} enqueues the waiter before it releases the
 * mutex, so a signal sent by whoever takes the mutex next reaches it.
 *
 * <p><b>Re-check the predicate.</b> A completed await means "look again", not "the condition
 * holds": another waiter may have been first to the mutex, a timed await completes when its time
 * runs out, and a cancelled waiter passes a signal it had consumed on to the next waiter, which may
 * then find nothing to do (a spurious wakeup).
 *
 * <p><b>Process death.</b> A signal skips waiters whose process has died, and one that chose a
 * waiter whose process dies before taking it is passed on to the next live waiter, as {@link
 * WaitQueue} describes.
 *
 * <p>Signalling without holding the mutex is allowed. A signal with nobody waiting is lost, as with
 * every condition variable: change the state under the mutex, then signal.
 */
public interface ConditionVariable {
  /**
   * The name this condition has in its region.
   *
   * @return the name this condition has in its region
   */
  String name();

  /**
   * Releases the guard's mutex, waits for a signal, re-acquires the mutex and completes with the
   * new guard. The waiter is queued before the mutex is released.
   *
   * <p>Cancelling the returned future removes the waiter and does not re-acquire: after a cancel
   * the caller holds nothing, and a signal the waiter had consumed is passed on to the next waiter.
   *
   * @param guard the caller's guard of the condition's mutex; it is released while the caller waits
   * @return a future of the new guard, once signalled and holding the mutex again
   * @throws IllegalStateException if the guard was already unlocked (nothing is queued then)
   * @throws WaitQueueFullException if the condition has no free waiter slot (the guard is kept)
   * @throws dev.ringlock.core.InternalLockTimeoutException if another live process held the
   *     condition's list lock for longer than {@code RegionOptions.internalLockTimeout} (the guard
   *     is kept, nothing queued)
   */
  CompletableFuture<MutexGuard> await(MutexGuard guard);

  /**
   * As {@link #await(MutexGuard)}; when {@code timeout} runs out first, it re-acquires the mutex
   * and completes normally with the new guard, as {@code java.util.concurrent.locks.Condition}
   * does. Callers re-check their predicate and their own deadline.
   *
   * @param guard as {@link #await(MutexGuard)}
   * @param timeout how long to wait for a signal at most
   * @return a future of the new guard, holding the mutex again, signalled or not
   */
  CompletableFuture<MutexGuard> await(MutexGuard guard, Duration timeout);

  /**
   * Wakes the longest-waiting waiter of a live process, if any. On the ring's completion thread (a
   * continuation) it never waits for another process holding the condition's list lock: the signal
   * is then made as soon as the lock is free, and this returns at once.
   *
   * @throws dev.ringlock.core.InternalLockTimeoutException off the completion thread, if another
   *     live process held the list lock for longer than {@code RegionOptions.internalLockTimeout}
   */
  void signal();

  /** Wakes every waiter, with one kernel wake for all of them. */
  void signalAll();

  /**
   * How many waiters are queued now, in every process (a snapshot).
   *
   * @return the waiters queued now, in every process
   */
  int waiting();
}
