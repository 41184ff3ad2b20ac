package dev.ringlock.locks;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A queue of waiters in a {@link SharedRegion}, woken by the waker's choice: the longest-waiting
 * few, every waiter whose key is at most some value, or all. The same name is the same queue in
 * every process that maps the region.
 *
 * <pre>{@code
 * WaitQueue flushed = region.waitQueue("wal-flushed");
 * flushed.await(myLsn).thenRun(this::commitDone);   // a waiter: "wake me when LSN >= myLsn"
 * ...
 * flushed.wakeUpTo(flushedLsn);                     // the flusher: one kernel wake for all
 * }</pre>
 *
 * <p><b>Directed wake-ups.</b> Each waiter has a slot of its own in the region, so a wake completes
 * exactly the waiters it chose and no other. Each process keeps one kernel wait per queue, however
 * many waiters it has there (on the queue's wake sequence, a word in its header), so one {@link
 * #wakeUpTo}, {@link #wake} or {@link #wakeAll} call makes one FUTEX_WAKE, which reaches the
 * processes of the waiters it chose (others whose pid hashes to the same bit, and on the syscalls
 * backend every process waiting on the queue, wake up, find nothing for them and sleep again). The
 * call returns once the waiters are chosen; the wake itself is fire-and-forget, and the chosen
 * waiters' futures complete on the waiters' rings.
 *
 * <p><b>Ordering.</b> A waiter is on the queue from the moment {@link #await} returns: a wake
 * issued after that, by any thread or process, reaches it or a later waiter it chose. Waiters are
 * kept in arrival order; {@link #wake(int)} takes the longest-waiting ones. Keys are compared as
 * signed {@code long}s.
 *
 * <p><b>Cancellation and timeouts.</b> Completing a pending future in any way ({@code cancel},
 * {@code complete}, {@code orTimeout}...) takes the waiter off the queue. A timed-out waiter fails
 * with {@link java.util.concurrent.TimeoutException}; if a wake chose it before the time ran out,
 * it completes normally instead. A wake from {@link #wake(int)} was meant for that many waiters: if
 * one it chose is cancelled (or its region closed) before its future completes, the wake is passed
 * on to the next longest-waiting waiter, so no wake of {@code wake(1)} is lost. Wakes from {@link
 * #wakeUpTo} and {@link #wakeAll} are not passed on. A cancelled waiter's slot is free again at
 * once (or, if another process holds the queue's list lock, as soon as it lets go: an {@link
 * #await} that finds the queue full meanwhile waits for that, briefly).
 *
 * <p><b>Capacity.</b> A queue holds at most {@link #capacity()} waiters at once, across all
 * processes, fixed when it is created. {@link #await} on a full queue throws {@link
 * WaitQueueFullException}.
 *
 * <p><b>Process death.</b> A process that dies (even by {@code kill -9}) leaves waiters that will
 * never run. A wake never chooses a waiter whose process it knows to be dead: it frees that slot
 * and takes the next, so {@code wake(1)} reaches a live waiter and dead ones count neither in what
 * a wake returns nor, once freed, in {@link #waiting()}. If a waiter's process dies after a {@code
 * wake(n)} chose it and before it took the wake, the wake is passed on to the next live waiter:
 * within one ring completion when the waking process (or another that watches the dead one) is
 * alive, else by the re-check below. Dead processes' slots are freed when a wake walks over them,
 * when a watching process learns of the death, by the re-check, and when an {@code await} finds the
 * queue full. Death is detected with a pidfd per process (processes sharing a region must share a
 * PID namespace); a pid reused by a new process before anyone asked about the dead one keeps that
 * one's slots until the new process exits.
 *
 * <p><b>Re-check.</b> While a process has waiters on a queue, its kernel wait ends at least every
 * 250 ms (no thread of its own, whatever the number of waiters): a waiter whose wake was lost,
 * because its waker died between choosing it and sending the wake, completes then, and about once a
 * second a slice of the slots is checked for dead owners. So a lost wake costs at most about 250
 * ms.
 *
 * <p><b>Threads.</b> Futures complete on the region's ring's completion thread; continuations that
 * block should use the {@code *Async} variants. Every call, and the end of the process's kernel
 * wait (a wake, a timeout), takes the queue's list lock for a short critical section: a lock word
 * in the region, shared by every thread of every process. The completion thread never waits for it:
 * if another process holds it, that work is deferred for this queue alone until the lock is free,
 * and a timed-out waiter fails with its {@code TimeoutException} on time. A synchronous call waits
 * for a live holder at most {@code RegionOptions.internalLockTimeout} (5 s), then throws {@link
 * dev.ringlock.core.InternalLockTimeoutException}; a timed await waits at most its own timeout. A
 * process that dies holding the lock is detected within about 10 ms, and the next holder repairs
 * the list. See docs/internal-locks.md. Thread-safe.
 */
public interface WaitQueue {
  /**
   * The name this queue has in its region.
   *
   * @return the name this queue has in its region
   */
  String name();

  /**
   * Waits until a wake chooses this waiter. The waiter is on the queue when this method returns.
   *
   * @param key what {@link #wakeUpTo} compares; any value for callers that only use {@link #wake}
   * @return a future that completes once a wake chooses this waiter; cancelling it frees the slot
   * @throws WaitQueueFullException if {@link #capacity()} waiters are waiting already
   * @throws RegionClosedException if the region is closed
   * @throws dev.ringlock.core.InternalLockTimeoutException if another live process held the queue's
   *     list lock for longer than {@code RegionOptions.internalLockTimeout}; nothing queued
   */
  CompletableFuture<Void> await(long key);

  /**
   * As {@link #await(long)}, failing with {@link java.util.concurrent.TimeoutException} if no wake
   * chooses this waiter within {@code timeout} (a linked timeout in the kernel). If another process
   * holds the list lock until the timeout runs out, the returned future has failed with that {@code
   * TimeoutException}, on time, and nothing was queued.
   *
   * @param key as {@link #await(long)}
   * @param timeout how long to wait for a wake at most
   * @return a future that completes once a wake chooses this waiter, failed with {@code
   *     TimeoutException} after {@code timeout}
   * @throws IllegalArgumentException if the timeout is negative
   */
  CompletableFuture<Void> await(long key, Duration timeout);

  /**
   * Wakes every waiter whose key is at most {@code key}.
   *
   * @param key the largest key woken (keys compare as signed longs)
   * @return how many waiters were woken (waiters of dead processes are freed, not counted)
   */
  int wakeUpTo(long key);

  /**
   * Wakes the {@code count} longest-waiting waiters (all of them, if fewer wait), skipping (and
   * freeing) waiters of dead processes.
   *
   * @param count how many waiters to wake, 0 or more
   * @return how many waiters were woken
   * @throws IllegalArgumentException if {@code count} is negative
   * @throws dev.ringlock.core.InternalLockTimeoutException as {@link #await(long)}; nobody woken
   */
  int wake(int count);

  /**
   * Wakes every waiter.
   *
   * @return how many waiters were woken (waiters of dead processes are freed, not counted)
   */
  int wakeAll();

  /**
   * How many waiters, in every process, are on the queue now (a snapshot). Waiters of a process
   * that died count until their slots are freed (see Process death above).
   *
   * @return the waiters on the queue now, in every process
   */
  int waiting();

  /**
   * The most waiters the queue holds at once, fixed when it was created.
   *
   * @return the queue's capacity in waiters
   */
  int capacity();
}
