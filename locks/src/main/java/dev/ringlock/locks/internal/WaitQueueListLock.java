package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.WaitQueueDescriptor.LIST_LOCK_OFFSET;

import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexScope;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.InternalLockTimeoutException;
import dev.ringlock.core.memory.PidLock;
import dev.ringlock.locks.RegionClosedException;
import java.io.UncheckedIOException;
import java.time.Duration;

/*
 * Overview
 *
 * A wait queue's list lock as its view takes it: a PidLock in the queue's header word, one holder
 * among all threads of all processes, guarding every slot transition (WaitQueueCore's overview).
 * This is the part of a wait queue that no in-process monitor can stand for, and so the part the
 * base (QueuedPrimitive) does not own: a decision on the shared list is taken under this lock
 * first, then under the view's monitor.
 *
 * Three ways to take it, by who asks:
 *   - a synchronous call (await, wake*, signal* off the completion thread): lockFor, waiting for a
 *     live holder at most the region's internal lock timeout (InternalLockTimeoutException), a
 *     timed await also at most until its own deadline; a call waiting when the view closes gives
 *     way at once (close waits for it);
 *   - close: lockForClose, at most the close's patience, never giving way, and a damaged word is
 *     no reason to throw (close then goes on without the lock);
 *   - a thread that must never wait (the ring's completion thread, a canceller): tryLock, else
 *     its work is deferred (WaitQueueTasks), whose ring wait on the word is the stall re-check.
 * Whoever takes the lock over from a dead holder repairs the list (repair) before anything else.
 */
/** A wait queue's cross-process list lock, taken three ways; see the overview in the source. */
final class WaitQueueListLock {
  private final WaitQueueCore queue;
  private final PidLock lock;
  private final FutexWord word; // for deferred work's ring wait on the lock
  private final long timeoutNanos; // how long a synchronous call waits for a live holder

  WaitQueueListLock(WaitQueueCore queue, FutexScope scope, Duration timeout) {
    this.queue = queue;
    WaitQueueList list = queue.list;
    long at = list.offsetOf(LIST_LOCK_OFFSET);
    this.lock = new PidLock(list.memory(), at, queue.region.file(), queue.describe());
    this.word = FutexWord.of(list.memory(), at, scope);
    this.timeoutNanos = timeout.toNanos();
  }

  /**
   * For a synchronous call: takes the list lock, waiting at most the lock timeout for a live holder
   * (and at most until {@code deadline}, a timed call's own); a call waiting when the queue closes
   * gives up at once.
   *
   * @throws InternalLockTimeoutException if a live process held the lock all that time
   * @throws RegionClosedException if the queue closed meanwhile
   */
  void lockFor(long deadline) {
    long timeout = timeoutNanos;
    if (deadline != Deadlines.NONE) {
      timeout = Math.min(timeout, deadline - System.nanoTime());
    }
    WaitQueueGate gate = queue.gate;
    boolean tookOver;
    try {
      tookOver = lock.lock(timeout, gate::isClosed);
    } catch (InternalLockTimeoutException e) {
      if (gate.isClosed()) {
        throw gate.closedException(); // close() waits for this call: give way
      }
      throw e;
    }
    if (tookOver) {
      repairOrUnlock();
    }
  }

  /** For close(): as lockFor, but never giving way to close and waiting at most {@code nanos}. */
  boolean lockForClose(long nanos) {
    boolean tookOver;
    try {
      tookOver = lock.lock(nanos, () -> false);
    } catch (InternalLockTimeoutException | UncheckedIOException e) {
      return false; // a live holder, or a damaged lock word: close without it
    } catch (InternalError fault) {
      return false; // a truncated file
    }
    if (tookOver) {
      try {
        repairOrUnlock();
      } catch (RuntimeException e) {
        return false;
      }
    }
    return true;
  }

  /** Releases the lock at close, where a stolen lock (damage) is no reason to stop. */
  void unlockForClose() {
    try {
      lock.unlock();
    } catch (RuntimeException | InternalError e) {
      // Another process took it from us: the region is damaged; close goes on regardless.
    }
  }

  /** After taking the lock over from a dead holder. */
  private void repairOrUnlock() {
    try {
      repair();
    } catch (RuntimeException e) {
      lock.unlock();
      throw e;
    }
  }

  /**
   * Under the list lock taken from a dead holder: rebuilds the list, then wakes every process,
   * since the holder may have marked slots without waking their owners.
   */
  void repair() {
    queue.list.repair();
    Futex.wake(queue.sequenceWord, FutexRing.WAKE_ALL, FutexRing.ANY_BITSET); // never blocks
  }

  /** Takes the lock if it is free, never waiting. */
  boolean tryLock() {
    return lock.tryLock();
  }

  /** tryLock for a thread whose ring wait on the word just ended (PidLock.tryLockAfterWait). */
  boolean tryLockAfterWait() {
    return lock.tryLockAfterWait();
  }

  /** After a ring wait on {@code observed} timed out: takes a dead holder's lock over. */
  boolean takeOverIfDead(int observed) {
    return lock.takeOverIfDead(observed);
  }

  /** The value to wait on in the lock word, with LOCK_WAITERS announced; 0 if it is free now. */
  int waitValue() {
    return lock.waitValue();
  }

  /** How long a synchronous call waits for a live holder. */
  long timeoutNanos() {
    return timeoutNanos;
  }

  FutexWord word() {
    return word;
  }

  /** The pid holding the lock, or 0 (a lock-free snapshot). */
  int holder() {
    return lock.holder();
  }

  void unlock() {
    lock.unlock();
  }
}
