package dev.ringlock.locks;

import dev.ringlock.locks.internal.PermitsToken;
import dev.ringlock.locks.internal.ScopedFuture;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * A counting semaphore in a 32-bit word of a {@link SharedRegion}: the same name is the same
 * semaphore in every process that maps the region. With undo on exit (the default) permits are
 * owned: a process releases only what it acquired. With undo on exit off they are counts: any
 * process may release permits it never acquired, which is how one process signals another (a
 * producer releases, a consumer acquires).
 *
 * <p>An {@link #acquire(int)} that can take its permits at once is one compare-and-set and an
 * already-completed future: no system call, no ring. One that must wait parks no thread: its
 * process keeps one FUTEX_WAIT on the word in the region's {@code FutexRing} for all its waiting
 * requests, and the future completes on the ring's completion thread, or on the thread whose {@link
 * #release(int)} made the permits available in this process.
 *
 * <p><b>Permit counts.</b> Every count passed in must be positive, and the available count never
 * exceeds {@value #MAX_PERMITS} (2^31 - 1, the word's 31 bits): a release that would pass it is
 * refused with {@link IllegalArgumentException} and changes nothing. With undo on exit the limit is
 * {@value #MAX_UNDO_PERMITS}, and the count never exceeds the initial permits.
 *
 * <p><b>Order.</b> Within a process, requests are served first come, first served: a queued request
 * for 5 permits is not overtaken by later requests for 1, and {@link #tryAcquire(int)} and {@link
 * #acquire(int)} take permits directly only while no request of this process is queued. Across
 * processes there is <em>no</em> fairness guarantee: when permits are released, any process may
 * take them, including one that arrived after others started waiting (barging, as in {@code
 * java.util.concurrent.Semaphore}'s non-fair mode). A process waiting for many permits can wait
 * indefinitely while others keep taking a few.
 *
 * <p><b>Cancellation and timeouts.</b> Cancelling a pending future (or completing it, or its {@code
 * orTimeout}) withdraws the request; a request that times out fails with {@link
 * java.util.concurrent.TimeoutException}. Neither ever loses a permit: a request is given its
 * permits only together with its completion, and if a cancel wins that race the permits are
 * released again.
 *
 * <p><b>When a process dies: undo on exit.</b> By default the semaphore records, in the region, the
 * permits each process holds: what it acquired (acquire, tryAcquire, drainPermits) minus what it
 * released; a release beyond that is refused with {@link IllegalStateException}. When a process
 * exits, however it exits (SIGKILL included), its holding returns to the semaphore and the waiters
 * are woken, as SysV semaphores do with SEM_UNDO. That is right for a pool of resources. It is
 * wrong for a semaphore that signals between processes, where a dead consumer's permits were
 * consumed for good: create those with {@link SemaphoreOptions.Builder#undoOnExit(boolean)
 * undoOnExit(false)}, and a dead process keeps what it took. The options are fixed at creation;
 * every process must open the semaphore with the same.
 *
 * <ul>
 *   <li>Who returns a dead holder's permits: a process that waits for permits (it watches every
 *       holder's exit through a pidfd poll on its ring, and returns the permits within one ring
 *       completion of the exit), or else the next {@code acquire} or {@code tryAcquire} that finds
 *       too few. Until some process needs them they stay recorded, and {@link #availablePermits()}
 *       does not count them. Exactly one process returns them, however many notice.
 *   <li>A death at any instant, even between taking permits and recording them, loses no permit and
 *       returns none twice: the records are the truth, and the process that returns a dead holder's
 *       permits recomputes the count from the live holders' records (docs/semaphore-undo.md in the
 *       project has the protocol). While it does, no permit moves: a {@code release} or {@code
 *       drainPermits} waits for it (if its process is stopped, they give up after 5 s with {@link
 *       IllegalStateException}, changing nothing), a {@code tryAcquire} waits up to 20 ms.
 *   <li>Not guaranteed: a holder whose pid the kernel reuses before anyone asked about it looks
 *       alive until the new process exits. Every process sharing the region must share one PID
 *       namespace.
 *   <li>At most 64 processes (region views) hold permits of one semaphore at once; another's
 *       acquire then fails with {@link SemaphoreHoldersFullException} and leaves the permits in the
 *       semaphore. A process leaves the table when it has released all it holds. Each {@link
 *       SharedRegion} of a process is a holder of its own, and releases only what it acquired.
 *   <li>Closing a region releases nothing: the holding returns when the process exits, and a
 *       process that opens the region again may still release it.
 * </ul>
 *
 * <p><b>Memory ordering.</b> Actions of a thread before {@code release(n)} happen-before the
 * actions that follow the completion of an acquire that takes any of those permits, in any process,
 * as with {@code java.util.concurrent.Semaphore}.
 *
 * <p>Methods throw {@link RegionClosedException} once the region is closed; closing fails pending
 * acquires with it, and releases nothing (see above). A damaged holder table (another process wrote
 * values no ringlock writes) is reported as an {@link java.io.UncheckedIOException} of a {@code
 * dev.ringlock.core.InvalidRegionException} whose problem is CORRUPT.
 */
public interface Semaphore {
  /** The largest number of permits a semaphore holds: 2^31 - 1. */
  int MAX_PERMITS = Integer.MAX_VALUE;

  /**
   * The largest number of permits a semaphore with undo on exit holds: 2^30 - 1 (its word keeps a
   * bit for the repair of its count).
   */
  int MAX_UNDO_PERMITS = (1 << 30) - 1;

  /**
   * The name this semaphore has in its region.
   *
   * @return the name this semaphore has in its region
   */
  String name();

  /**
   * Completes once this caller has taken {@code permits} permits. With undo on exit, fails with
   * {@link SemaphoreHoldersFullException} if the permits could not be recorded as this process's
   * holding (they are left in the semaphore).
   *
   * @param permits how many permits to take, at least 1
   * @return a future that completes once the permits are taken
   * @throws IllegalArgumentException if {@code permits} is not positive
   */
  CompletableFuture<Void> acquire(int permits);

  /**
   * As {@link #acquire(int)}, but fails with {@link java.util.concurrent.TimeoutException} if the
   * permits are not taken within {@code timeout}. The time limit is a linked timeout on the ring's
   * FUTEX_WAIT; a timed-out request behaves like a cancelled one.
   *
   * @param permits how many permits to take, at least 1
   * @param timeout how long to wait for them at most
   * @return a future that completes once the permits are taken, failed with {@code
   *     TimeoutException} after {@code timeout}
   * @throws IllegalArgumentException if {@code permits} is not positive or {@code timeout} is
   *     negative
   */
  CompletableFuture<Void> acquire(int permits, Duration timeout);

  /**
   * Takes {@code permits} permits if that many are available and no request of this process is
   * queued; never waits. With undo on exit, too few available makes it return the permits of
   * holders that have died first, then try again.
   *
   * @param permits how many permits to take, at least 1
   * @return true if the permits were taken
   * @throws IllegalArgumentException if {@code permits} is not positive
   * @throws SemaphoreHoldersFullException with undo on exit, if the permits could not be recorded
   *     as this process's holding (they are left in the semaphore)
   */
  boolean tryAcquire(int permits);

  /**
   * Adds {@code permits} permits and lets every waiter that can now proceed have its permits: the
   * waiters of this process directly, those of other processes through one FUTEX_WAKE. With undo on
   * exit, this process's recorded holding goes down by as many.
   *
   * @param permits how many permits to give back, at least 1
   * @throws IllegalArgumentException if {@code permits} is not positive, or the available count
   *     would exceed {@link #MAX_PERMITS} (then nothing changes)
   * @throws IllegalStateException with undo on exit, if this process (through this region) holds
   *     fewer than {@code permits}, or another process's repair of the count has not finished
   *     within 5 s; nothing changes
   */
  void release(int permits);

  /**
   * How many acquisitions wait for permits (a snapshot, as {@code
   * java.util.concurrent.Semaphore.getQueueLength} gives): the requests queued in this process,
   * plus the other processes sleeping on the semaphore in the kernel, each counted once however
   * many requests it has queued. An estimate across processes: a process killed while it slept
   * stays counted while the waiters bit is set, until the next release clears it.
   *
   * @return requests queued here plus other processes sleeping on it, 0 or more
   * @throws RegionClosedException if the region is closed
   */
  int queueLength();

  /**
   * The permits available now (a snapshot).
   *
   * @return the permits available now
   */
  int availablePermits();

  /**
   * Takes every available permit and returns how many that was (0 if none). With undo on exit they
   * are recorded as this process's holding, as acquired permits are.
   *
   * @return how many permits were taken, 0 or more
   * @throws SemaphoreHoldersFullException as {@link #tryAcquire(int)}
   */
  int drainPermits();

  /**
   * As {@link #acquire(int)}, but completes with a token that gives the permits back exactly once
   * when closed or released, for try-with-resources. Cancelling the returned future (or completing
   * it, or its {@code orTimeout}) withdraws a pending acquisition; permits granted in the meantime
   * go straight back. Prefer it to {@code acquire(n).thenApply(...)}: a cancel of such a derived
   * future does not reach the acquisition, whose permits are then held by nobody.
   *
   * @param permits how many permits to take, positive
   * @return a future of the held permits
   * @throws IllegalArgumentException if {@code permits} is not positive
   */
  default CompletableFuture<HeldPermits> acquirePermits(int permits) {
    return ScopedFuture.token(
        acquire(permits), granted -> new PermitsToken(this, permits), granted -> release(permits));
  }

  /**
   * As {@link #acquirePermits(int)}, but fails with {@link java.util.concurrent.TimeoutException}
   * if the permits are not taken within {@code timeout}, as {@link #acquire(int, Duration)}.
   *
   * @param permits how many permits to take, positive
   * @param timeout how long to wait at most
   * @return a future of the held permits
   * @throws IllegalArgumentException if {@code permits} is not positive or {@code timeout} is
   *     negative
   */
  default CompletableFuture<HeldPermits> acquirePermits(int permits, Duration timeout) {
    return ScopedFuture.token(
        acquire(permits, timeout),
        granted -> new PermitsToken(this, permits),
        granted -> release(permits));
  }

  /**
   * As {@link #tryAcquire(int)}, but returns the permits as a token that gives them back exactly
   * once.
   *
   * @param permits how many permits to take, positive
   * @return the held permits, or empty if they were not available at once
   * @throws IllegalArgumentException if {@code permits} is not positive
   */
  default Optional<HeldPermits> tryAcquirePermits(int permits) {
    return tryAcquire(permits) ? Optional.of(new PermitsToken(this, permits)) : Optional.empty();
  }

  /**
   * Takes {@code permits} permits, runs {@code action}, and gives the permits back when the stage
   * it returns completes, however it completes (also if {@code action} throws or returns null);
   * completes with that stage's outcome. The permits are back before the returned future completes.
   *
   * <p>Cancelling the returned future (or its {@code orTimeout}) before the permits are granted
   * withdraws the request and {@code action} never runs; once {@code action} has started, a cancel
   * completes the returned future but the permits stay taken until the action's stage completes.
   * Nothing is ever left held by nobody. {@code action} runs on the thread that grants the permits:
   * the caller's when they are available at once, else the ring's completion thread or a releasing
   * thread of this process; it should not block.
   *
   * @param permits how many permits to hold while the action runs, positive
   * @param action starts the work and returns the stage that completes when it is done
   * @param <T> the action's result type
   * @return a future of the action's result
   * @throws IllegalArgumentException if {@code permits} is not positive
   */
  default <T> CompletableFuture<T> withPermits(
      int permits, Supplier<? extends CompletionStage<T>> action) {
    return ScopedFuture.scoped(
        acquire(permits), action, granted -> release(permits), "withPermits", name());
  }

  /**
   * As {@link #withPermits(int, Supplier)}, but fails with {@link
   * java.util.concurrent.TimeoutException} (and {@code action} never runs) if the permits are not
   * taken within {@code timeout}.
   *
   * @param permits how many permits to hold while the action runs, positive
   * @param timeout how long to wait for the permits at most
   * @param action starts the work and returns the stage that completes when it is done
   * @param <T> the action's result type
   * @return a future of the action's result
   * @throws IllegalArgumentException if {@code permits} is not positive or {@code timeout} is
   *     negative
   */
  default <T> CompletableFuture<T> withPermits(
      int permits, Duration timeout, Supplier<? extends CompletionStage<T>> action) {
    return ScopedFuture.scoped(
        acquire(permits, timeout), action, granted -> release(permits), "withPermits", name());
  }
}
