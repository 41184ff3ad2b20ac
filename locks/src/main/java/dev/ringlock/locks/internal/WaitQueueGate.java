package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.WaitQueueDescriptor.WOKEN_ONE;

import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.WaitOutcome;
import dev.ringlock.locks.RegionClosedException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/*
 * Overview
 *
 * A wait queue view's close gate: who may still touch the shared memory, and the close that must
 * finish, whatever the queue's state, before the caller unmaps it.
 *
 * Guards. Public calls count themselves in publicCalls, internal ones (the sleeper's end,
 * withdrawals, deferred work, exit listeners) in internalCalls. close() sets `closed` (public calls
 * refused), waits for the public ones to leave, settles the view's waiters, then sets `drained`
 * (internal calls refused too) and waits for the internal ones. Each counter and its flag are a
 * Dekker pair: the caller increments, then reads the flag; close() writes the flag, then reads the
 * counter; all four accesses are volatile. No future is completed inside a guard or under the list
 * lock: a continuation may call close().
 *
 * Closing. close() fails this view's waiters with RegionClosedException, frees their slots under
 * the list lock, cancels the sleeper, passes on the WOKEN_ONE wakes they declined, and makes sure
 * every wake this view handed to the ring reaches the kernel before the memory is unmapped (else
 * it wakes W by system call). It waits for the list lock at most min(lock timeout, CLOSE_PATIENCE)
 * (one try on the completion thread, which never waits for another process), and a damaged lock
 * word or list is no reason to stop. Without the lock (closeWithoutLock) it fails every local
 * waiter and writes owner 0 into each slot it still has. Every process treats owner 0 as a dead
 * process: a waker skips and reclaims such a slot and a WOKEN_ONE stored in it is passed on. A
 * declined wake whose slot was already freed (WaitQueuePassOns, unsettled) cannot be passed
 * on without the lock: the one loss, which needs a stalled holder and that race at once
 * (docs/internal-locks.md).
 *
 * The base (QueuedPrimitive.closeQueue) fails its queue under its monitor alone; a view cannot, as
 * its waiters own slots in shared memory that only the list lock may free, and a declined wake must
 * reach another process's waiter. What it shares with the base: the waiters fail through the same
 * request type (QueuedRequest), and the sleeper is detached and cancelled as the base's is.
 */
/** A wait queue view's close gate and its close; see the overview in the source. */
final class WaitQueueGate {
  private static final long CLOSE_PATIENCE_NANOS = TimeUnit.SECONDS.toNanos(2);

  private final WaitQueueCore queue;
  private final AtomicInteger publicCalls = new AtomicInteger();
  private final AtomicInteger internalCalls = new AtomicInteger();
  private final Set<CompletableFuture<Integer>> wakesInFlight = ConcurrentHashMap.newKeySet();

  private volatile boolean drained; // internal calls refused too: the memory is about to go

  WaitQueueGate(WaitQueueCore queue) {
    this.queue = queue;
  }

  /** Public calls refused: the view's (the base's) closed flag, set under its monitor. */
  boolean isClosed() {
    return queue.waiters.closed;
  }

  /**
   * Enters a public call.
   *
   * @throws RegionClosedException once the view is closed
   */
  void enterPublic() {
    publicCalls.incrementAndGet();
    // Dekker with close(): it sets closed, then reads publicCalls; both accesses are volatile.
    if (isClosed()) {
      publicCalls.decrementAndGet();
      throw closedException();
    }
  }

  void leavePublic() {
    publicCalls.decrementAndGet();
  }

  /** Enters an internal call; false once the view is drained (then it must do nothing). */
  boolean enterInternal() {
    internalCalls.incrementAndGet();
    if (drained) {
      internalCalls.decrementAndGet();
      return false;
    }
    return true;
  }

  void leaveInternal() {
    internalCalls.decrementAndGet();
  }

  RegionClosedException closedException() {
    return queue.waiters.closedException();
  }

  // ---- wakes in flight ----

  /** A wake of W handed to the ring: close() makes sure it reaches the kernel before it unmaps. */
  void inFlight(CompletableFuture<Integer> sent) {
    if (!sent.isDone()) {
      wakesInFlight.add(sent);
      sent.whenComplete((ignored, failure) -> wakesInFlight.remove(sent));
    }
  }

  int wakesInFlight() {
    return wakesInFlight.size();
  }

  /** Completes when every wake handed to the ring so far has been made in the kernel. */
  CompletableFuture<Void> wakesSent() {
    return CompletableFuture.allOf(wakesInFlight.toArray(CompletableFuture[]::new));
  }

  // ---- close ----

  /**
   * Fails this view's waiters with {@link RegionClosedException}, frees their slots, passes on the
   * WOKEN_ONE wakes they declined, and makes sure every wake this view handed to the ring has
   * reached the kernel. The caller unmaps the memory afterwards. Finishes in bounded time whatever
   * the state of the queue (see the overview, Closing). Idempotent; never throws.
   */
  void close() {
    WaitQueueWaiters view = queue.waiters;
    synchronized (view) { // the base's pump reads closed under the view's monitor
      if (view.closed) {
        return;
      }
      view.closed = true;
    }
    awaitNone(publicCalls); // each finishes soon: a call waiting for the list lock gives way
    boolean patient = !queue.ring.inCompletionThread();
    RegionClosedException failure = closedException();
    long patienceEnd = System.nanoTime() + (patient ? CLOSE_PATIENCE_NANOS : 0);
    // On the completion thread, one try: it never waits for another process.
    long lockNanos = patient ? Math.min(queue.listLock.timeoutNanos(), CLOSE_PATIENCE_NANOS) : 0;
    List<QueueWaiter> ours = new ArrayList<>();
    List<QueueWaiter> declinable = new ArrayList<>();
    WaitQueueBatch batch = new WaitQueueBatch();
    boolean listed = queue.listLock.lockForClose(lockNanos);
    if (listed) {
      try {
        queue.tasks.runDeferredLocked(batch);
        queue.reaper.stopWatching();
        view.releaseAll(ours, declinable);
      } catch (RuntimeException | InternalError e) {
        listed = false; // a damaged list: close without it
      } finally {
        queue.listLock.unlockForClose();
      }
    }
    CompletableFuture<WaitOutcome> sleeping = view.detachSleeper();
    if (sleeping != null) {
      sleeping.cancel(false);
    }
    queue.finish(batch); // the work deferred before close, now done
    if (!listed) {
      closeWithoutLock(failure, patienceEnd);
      return;
    }
    for (QueueWaiter waiter : ours) {
      waiter.fail(failure);
    }
    drained = true;
    awaitNone(internalCalls);
    settleAfterDrain(failure, lockNanos, declinable);
    flushWakes(patient ? patienceEnd : 0);
  }

  /** After the drain: pass on the WOKEN_ONE wakes nobody took and nobody settled. */
  private void settleAfterDrain(
      RegionClosedException failure, long lockNanos, List<QueueWaiter> declinable) {
    int owed = queue.passOns.owedAtClose(failure, declinable);
    if (!queue.listLock.lockForClose(lockNanos)) {
      queue.tasks.abandonDeferred(failure); // those pass-ons are lost: see the overview, Closing
      return;
    }
    WaitQueueBatch batch = new WaitQueueBatch();
    try {
      queue.tasks.runDeferredLocked(batch); // deferred since the first pass: pass-ons, mostly
      queue.choose(owed, Long.MAX_VALUE, WOKEN_ONE, batch);
    } catch (RuntimeException | InternalError e) {
      // A damaged list: the wakes owed cannot be passed on.
    } finally {
      queue.listLock.unlockForClose();
    }
    queue.finish(batch);
  }

  /**
   * close() without the list lock (held by a live process, or damaged): fails every waiter of this
   * view and makes its slots nobody's, so that any other process reclaims them as it reclaims a
   * dead process's (see the overview, Closing). Touches only this view's own slots.
   */
  private void closeWithoutLock(RegionClosedException failure, long patienceEnd) {
    drained = true;
    awaitNone(internalCalls); // from now on nothing of this process touches the list
    queue.tasks.abandonDeferred(failure);
    queue.reaper.stopWatching(); // this process's own bookkeeping: the list lock guards it locally
    queue.passOns.failUnsettled(failure);
    for (QueueWaiter waiter : queue.waiters.forgetAll()) {
      waiter.fail(failure);
      try {
        queue.list.abandon(waiter.slot);
      } catch (InternalError fault) {
        break; // a truncated file: nobody can use those slots anyway
      }
    }
    flushWakes(patienceEnd);
  }

  /**
   * Every wake this view queued on the ring must reach the kernel while the memory is mapped: a
   * FUTEX_WAKE of an unmapped word fails, and its waiters, in other processes, would sleep until
   * their re-check. Joins them until {@code patienceEnd}; if any is left, wakes W by system call.
   */
  private void flushWakes(long patienceEnd) {
    boolean allSent = true;
    for (CompletableFuture<Integer> sent : wakesInFlight) {
      long left = patienceEnd == 0 ? 0 : patienceEnd - System.nanoTime();
      try {
        sent.get(Math.max(0, left), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        allSent = false;
      } catch (ExecutionException e) {
        // the ring failed or closed: it made the wake by system call
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        allSent = false;
      }
    }
    if (!allSent) {
      try {
        Futex.wake(queue.sequenceWord, FutexRing.WAKE_ALL, FutexRing.ANY_BITSET);
      } catch (RuntimeException | InternalError e) {
        // a damaged or truncated region: the others' re-checks find the marks
      }
    }
  }

  private static void awaitNone(AtomicInteger calls) {
    for (int round = 0; calls.get() > 0; round++) {
      Backoff.pause(round);
    }
  }
}
