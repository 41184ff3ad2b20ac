package dev.ringlock.locks;

import dev.ringlock.locks.internal.AnyMutex;
import dev.ringlock.locks.internal.ScopedFuture;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * A mutual-exclusion lock in a 32-bit word of a {@link SharedRegion}: the same name is the same
 * lock in every process that maps the region.
 *
 * <p>Acquiring returns a {@link CompletableFuture} of a {@link MutexGuard}. An uncontended {@link
 * #lock()} is one compare-and-set and an already-completed future: no system call, no ring. A
 * contended one parks no thread: it waits with FUTEX_WAIT through the region's {@code FutexRing},
 * and the future completes on the ring's completion thread (or, when the lock is handed over by
 * another thread of this process, on that thread).
 *
 * <p><b>Not reentrant.</b> Like IBM async-util's and Kotlin's mutexes, and unlike {@code
 * ReentrantLock}, a holder that calls {@link #lock()} again waits for itself: ownership belongs to
 * a guard, not to a thread, because the future may complete on any thread.
 *
 * <p><b>Cancellation.</b> Cancelling a pending future (or completing it, or its {@code orTimeout})
 * withdraws the request: the mutex is never left held by it, and a wake it consumed is passed on.
 *
 * <p><b>Fairness.</b> Acquisition is not strictly first-come-first-served: a release lets an
 * arriving acquirer take the lock ahead of sleeping ones (barging), which keeps throughput high.
 * Barging is bounded. Once a waiter has waited {@value
 * dev.ringlock.locks.internal.MutexCore#STARVATION_MILLIS} ms and then lost a race, its process
 * marks the mutex as starving in the region; from then on no process barges or hands the lock over
 * internally, and each release goes to the longest sleeper in the kernel's FIFO queue, until the
 * starving process has the lock. Within a process, waiters are served in order, and the lock is
 * handed over directly at most {@value dev.ringlock.locks.internal.MutexCore#LOCAL_HANDOFF_LIMIT}
 * times in a row while another process sleeps on it; then it goes back through the word, waking one
 * sleeper of another process, which can then find out that it is starving.
 */
public interface Mutex {
  /**
   * Acquires whichever of {@code candidates} comes free first, waiting on all their words at once
   * with one FUTEX_WAITV (Linux 5.16+ futex_waitv, here through io_uring). Completes with that
   * mutex's guard; {@link MutexGuard#mutex()} tells which. It never holds two of them, not even for
   * a moment. Free candidates are tried in list order, so put the preferred ones first.
   *
   * <p>Cancelling the future withdraws the request. A lockAny request does not join a mutex's
   * in-process queue and is not covered by the starvation bound described above; it is woken in the
   * kernel's FIFO order like any sleeping process.
   *
   * @param candidates 1 to {@value dev.ringlock.core.FutexRing#MAX_WAIT_ANY} distinct mutexes of
   *     regions that share one ring
   * @return a future that completes with the guard of the candidate acquired; {@link
   *     MutexGuard#mutex()} says which
   * @throws IllegalArgumentException for no candidates, more than {@value
   *     dev.ringlock.core.FutexRing#MAX_WAIT_ANY}, a candidate listed twice, a mutex not made by a
   *     {@link SharedRegion}, or candidates whose regions wait through different rings
   * @throws RegionClosedException if a candidate's region is closed (also as the future's failure,
   *     if it closes while the request waits)
   */
  static CompletableFuture<MutexGuard> lockAny(List<? extends Mutex> candidates) {
    return AnyMutex.lockAny(candidates);
  }

  /**
   * As {@link #lockAny(List)}, but fails with {@link java.util.concurrent.TimeoutException} if no
   * candidate is acquired within {@code timeout} (a linked timeout on the FUTEX_WAITV).
   *
   * @param candidates as {@link #lockAny(List)}
   * @param timeout how long to wait at most; zero still takes a free candidate
   * @return a future of the guard of the candidate acquired, failed with {@code TimeoutException}
   *     after {@code timeout}
   */
  static CompletableFuture<MutexGuard> lockAny(List<? extends Mutex> candidates, Duration timeout) {
    return AnyMutex.lockAny(candidates, timeout);
  }

  /**
   * The name this mutex has in its region.
   *
   * @return the name this mutex has in its region
   */
  String name();

  /**
   * Completes with a guard once this caller holds the mutex.
   *
   * @return a future that completes with the guard once this caller holds the mutex
   */
  CompletableFuture<MutexGuard> lock();

  /**
   * As {@link #lock()}, but fails with {@link java.util.concurrent.TimeoutException} if the mutex
   * is not acquired within {@code timeout}. The time limit is a linked timeout on the ring's
   * FUTEX_WAIT; a timed-out request behaves like a cancelled one.
   *
   * @param timeout how long to wait for the mutex at most
   * @return a future of the guard, failed with {@code TimeoutException} after {@code timeout}
   */
  CompletableFuture<MutexGuard> lock(Duration timeout);

  /**
   * Takes the mutex if it is free and nobody in this process is queued for it (and no process is
   * starving for it); never waits.
   *
   * @return the guard if the mutex was taken, else empty
   */
  Optional<MutexGuard> tryLock();

  /**
   * How many acquisitions wait for this mutex (a snapshot, as {@code ReentrantLock.getQueueLength}
   * gives): the requests queued in this process, plus the other processes sleeping on the mutex in
   * the kernel, each counted once however many requests it has queued. It is an estimate across
   * processes: a process killed while it slept stays counted while the waiters bit is set, until
   * the next release clears it.
   *
   * @return requests queued here plus other processes sleeping on it, 0 or more
   * @throws RegionClosedException if the region is closed
   */
  int queueLength();

  /**
   * Whether some process holds the mutex now (a snapshot).
   *
   * @return true if some process holds the mutex now
   */
  boolean isLocked();

  /**
   * The process id of the holder, or 0 when free (a snapshot).
   *
   * @return the holder's process id, or 0 when free
   */
  int ownerPid();

  /**
   * Whether the state this mutex protects is known to be consistent (a snapshot): false while it is
   * held by a process that took it over from a dead owner and has not called {@link
   * MutexGuard#markConsistent()}, while it is held by a process that has died (and nobody has taken
   * it over yet), and for good once it is not recoverable.
   *
   * @return false while the protected state may be inconsistent after an owner's death
   */
  boolean isConsistent();

  /**
   * A blocking {@link java.util.concurrent.locks.Lock} view of this mutex, for code that wants one;
   * it blocks the calling thread, which on a virtual thread unmounts it instead. The view remembers
   * the holding thread: only it may {@code unlock()}. {@code newCondition()} returns a {@link
   * java.util.concurrent.locks.Condition} backed by a {@link ConditionVariable} private to this
   * process (for a condition shared between processes, use {@link SharedRegion#condition}).
   *
   * <p>Its {@link OwnerDeathPolicy} is {@link OwnerDeathPolicy#REPORT}: an acquisition that takes
   * the mutex over from a dead owner throws {@link OwnerDiedException} with the lock held; see
   * {@link #asLock(OwnerDeathPolicy)}.
   *
   * @return the view
   */
  MutexLock asLock();

  /**
   * The blocking view with an explicit {@link OwnerDeathPolicy}: {@link OwnerDeathPolicy#REPORT}
   * (the default of {@link #asLock()}) throws {@link OwnerDiedException}, holding the lock, when an
   * acquisition takes the mutex over from a dead owner; {@link OwnerDeathPolicy#RELEASE} treats the
   * death as a plain release, as {@link java.nio.channels.FileChannel#lock()} does.
   *
   * @param policy what acquisitions through the view do after an owner's death
   * @return the view (one per policy and mutex object)
   */
  MutexLock asLock(OwnerDeathPolicy policy);

  /**
   * Makes a not-recoverable mutex ({@link NotRecoverableException}) free and consistent again, in
   * every process: for an operator, once the state it protects has been checked or rebuilt. The
   * {@code ringlock reset FILE NAME} command does the same from a shell. Does nothing, and returns
   * false, if the mutex is not in that state (free, held, or reset by another process first).
   *
   * @return true if this call reset it
   * @throws RegionClosedException if the region is closed
   */
  boolean resetNotRecoverable();

  /**
   * Acquires the mutex, runs {@code action}, and releases the mutex when the stage {@code action}
   * returns completes, however it completes (also if {@code action} throws or returns null);
   * completes with that stage's outcome. The mutex is free again before the returned future
   * completes. This is the form that cannot leak the lock (docs/mutex.md in the project says why
   * {@code lock().thenCompose(...)} can).
   *
   * <p>Cancelling the returned future (or its {@code orTimeout}) before the lock is granted
   * withdraws the request and {@code action} never runs; once {@code action} has started, a cancel
   * completes the returned future but the lock stays held until the action's stage completes.
   * {@code action} runs on the thread that grants the lock: the caller's when the mutex is free,
   * else the ring's completion thread or the thread of this process that hands the lock over; it
   * should not block.
   *
   * <p>If the previous owner died holding the mutex, {@code action} cannot see it and cannot call
   * {@link MutexGuard#markConsistent()}: the release then makes the mutex not recoverable, as an
   * unlock without markConsistent does. Code that must repair after an owner's death uses {@link
   * #lock()} and reads {@link MutexGuard#ownerDied()}.
   *
   * @param action starts the work and returns the stage that completes when it is done
   * @param <T> the action's result type
   * @return a future of the action's result
   */
  default <T> CompletableFuture<T> withLock(Supplier<? extends CompletionStage<T>> action) {
    return ScopedFuture.scoped(lock(), action, MutexGuard::unlock, "withLock", name());
  }

  /**
   * As {@link #withLock(Supplier)}, but fails with {@link java.util.concurrent.TimeoutException}
   * (and {@code action} never runs) if the mutex is not acquired within {@code timeout}.
   *
   * @param timeout how long to wait for the lock at most
   * @param action starts the work and returns the stage that completes when it is done
   * @param <T> the action's result type
   * @return a future of the action's result
   */
  default <T> CompletableFuture<T> withLock(
      Duration timeout, Supplier<? extends CompletionStage<T>> action) {
    return ScopedFuture.scoped(lock(timeout), action, MutexGuard::unlock, "withLock", name());
  }
}
