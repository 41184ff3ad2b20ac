package dev.ringlock.locks.internal;

import dev.ringlock.core.AbandonedWakeHandler;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.RingException;
import dev.ringlock.core.WaitOutcome;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;

/*
 * Overview
 *
 * The work a wait queue's view must do under its list lock on threads that must never wait for
 * it (WaitQueueCore's overview, Never waiting): the ring's completion thread, a thread cancelling
 * a future. tryNow() runs a task if the lock is free and no deferred task is queued (to keep the
 * order); else the task joins `deferred`, and one server per queue (`served`) submits a FUTEX_WAIT
 * on the lock word through the ring after setting LOCK_WAITERS (PidLock.waitValue), exactly as a
 * sleeping locker does, so the holder's unlock wakes it; that wait times out after
 * LIST_LOCK_RECHECK so that a dead holder is taken over (PidLock.takeOverIfDead, then repair). When
 * the server gets the lock it runs every queued task in order under one hold, sends their wake,
 * and completes their futures after unlocking.
 */
/** Runs a wait queue's list-lock work now, or defers it without waiting; see the overview. */
final class WaitQueueTasks {
  /**
   * How long a deferred task's ring wait on the list lock word lasts before it asks whether the
   * holder is alive (a dead holder's lock is then taken over).
   */
  private static final Duration LIST_LOCK_RECHECK = Duration.ofMillis(25);

  private final WaitQueueCore queue;
  private final ArrayDeque<WaitQueueTask> deferred = new ArrayDeque<>(); // guarded by itself
  private boolean served; // guarded by deferred: a ring wait or a thread will run them

  WaitQueueTasks(WaitQueueCore queue) {
    this.queue = queue;
  }

  /** Whether deferred work waits for the list lock (a snapshot). */
  boolean pending() {
    synchronized (deferred) {
      return served;
    }
  }

  /**
   * Runs {@code task} under the list lock now if it is free, else defers it. Never waits. Called
   * outside every guard of the queue: serving deferred work may complete futures.
   */
  void runNowOrDefer(WaitQueueTask task) {
    WaitQueueGate gate = queue.gate;
    if (!gate.enterInternal()) {
      return; // closed: close() has settled this view's waiters
    }
    WaitQueueBatch batch;
    RuntimeException failure = null;
    try {
      batch = tryNow(task);
    } catch (RuntimeException e) {
      batch = null;
      failure = e;
    } catch (InternalError fault) { // a truncated file: the waiters learn it as ringlock's
      batch = null;
      failure = queue.region.truncated(fault);
    } finally {
      gate.leaveInternal();
    }
    if (failure != null) {
      task.abandoned(failure);
    } else if (batch == null) {
      task.deferred();
      defer(task); // outside the guard: it may run the deferred work, and complete futures
    } else {
      batch.run(queue.waiters);
    }
  }

  /**
   * Inside the internal guard: runs {@code task} now if the list lock is free and no deferred work
   * waits before it, sends its wake and returns its batch (its futures still to complete); or
   * returns null if it must be deferred. Never waits.
   */
  private WaitQueueBatch tryNow(WaitQueueTask task) {
    synchronized (deferred) {
      if (served) {
        return null; // behind the work already deferred
      }
    }
    if (!queue.listLock.tryLock()) {
      return null;
    }
    WaitQueueBatch batch = new WaitQueueBatch();
    try {
      task.underLock(batch);
    } finally {
      queue.listLock.unlock();
    }
    queue.send(batch);
    return batch;
  }

  /** Queues {@code task} behind the deferred work, and starts serving it if nobody does. */
  private void defer(WaitQueueTask task) {
    boolean serve;
    synchronized (deferred) {
      deferred.add(task);
      serve = !served;
      served = true;
    }
    if (serve) {
      serve(0, false);
    }
  }

  /**
   * Runs the deferred work once the list lock can be taken, without ever waiting for it: while it
   * is held, a FUTEX_WAIT on the lock word goes through the ring (announced with LOCK_WAITERS, so
   * the holder's unlock wakes it), bounded by LIST_LOCK_RECHECK so that a dead holder's lock is
   * taken over. Only one server per queue at a time ({@code served}).
   *
   * @param observed the lock word the ring wait that just ended waited on, or 0
   * @param waitTimedOut whether that wait timed out: the holder may have died
   */
  private void serve(int observed, boolean waitTimedOut) {
    boolean timedOut = waitTimedOut;
    WaitQueueListLock listLock = queue.listLock;
    WaitQueueGate gate = queue.gate;
    for (; ; ) {
      if (!gate.enterInternal()) {
        abandonDeferred(gate.closedException());
        return;
      }
      WaitQueueBatch batch = null;
      CompletableFuture<WaitOutcome> lockWait = null;
      int waitedOn = 0;
      RuntimeException broken = null;
      try {
        boolean tookOver = timedOut && listLock.takeOverIfDead(observed);
        if (tookOver || listLock.tryLockAfterWait()) {
          batch = new WaitQueueBatch();
          try {
            if (tookOver) {
              listLock.repair();
            }
            runDeferredLocked(batch);
          } finally {
            listLock.unlock();
          }
          queue.send(batch);
        } else {
          waitedOn = listLock.waitValue();
          if (waitedOn != 0) {
            lockWait =
                queue.ring.wait(
                    listLock.word(),
                    waitedOn,
                    FutexRing.ANY_BITSET,
                    LIST_LOCK_RECHECK,
                    AbandonedWakeHandler.PASS_ON); // never abandoned: nobody cancels it
          }
        }
      } catch (RuntimeException e) { // a damaged lock word or list, or the ring refused
        broken = e;
      } catch (InternalError fault) {
        broken = queue.region.truncated(fault);
      } finally {
        gate.leaveInternal();
      }
      if (broken != null) {
        abandonDeferred(broken);
        return;
      }
      if (lockWait != null) {
        int expected = waitedOn;
        lockWait.whenComplete((ignored, failure) -> lockWaitEnded(expected, failure));
        return; // the wait's end comes back here
      }
      if (batch != null) {
        batch.run(queue.waiters);
        synchronized (deferred) {
          if (deferred.isEmpty()) {
            served = false;
            return;
          }
        }
      }
      timedOut = false; // more work came meanwhile, or the lock was freed just now: again
    }
  }

  /** The ring wait on the list lock word ended (on the ring's completion thread). */
  private void lockWaitEnded(int observed, Throwable failure) {
    Throwable cause = Sleeper.causeOf(failure);
    if (cause == null || cause instanceof TimeoutException) {
      serve(observed, cause != null);
    } else {
      abandonDeferred(
          cause instanceof RuntimeException runtime
              ? runtime
              : new RingException(
                  queue.describe() + ": the ring failed while waiting for its list lock",
                  0,
                  cause));
    }
  }

  /** Under the list lock, inside the guard: runs the deferred work, in order, into one batch. */
  void runDeferredLocked(WaitQueueBatch batch) {
    for (; ; ) {
      WaitQueueTask task;
      synchronized (deferred) {
        task = deferred.poll();
      }
      if (task == null) {
        return;
      }
      try {
        task.underLock(batch);
      } catch (RuntimeException e) { // a damaged list: the task's waiter learns of it
        batch.passOn(() -> task.abandoned(e));
      }
    }
  }

  /** No deferred task will run: each is told why. */
  void abandonDeferred(RuntimeException cause) {
    List<WaitQueueTask> tasks;
    synchronized (deferred) {
      tasks = List.copyOf(deferred);
      deferred.clear();
      served = false;
    }
    for (WaitQueueTask task : tasks) {
      task.abandoned(cause);
    }
  }
}
