package dev.ringlock.locks.internal;

import static dev.ringlock.core.memory.RegionDescriptor.PID_MASK;
import static dev.ringlock.locks.internal.MutexDescriptor.WAITERS;
import static dev.ringlock.locks.internal.MutexDescriptor.notRecoverable;
import static dev.ringlock.locks.internal.MutexDescriptor.ownerOf;

import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexWord;
import dev.ringlock.locks.RegionClosedException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/*
 * Overview
 *
 * One mutex as a lockAny candidate: what AnyMutex needs from a mutex to wait on its word, with
 * others, in one FUTEX_WAITV. A lockAny request is not queued in the mutex's in-process queue; it
 * competes for the word like a process of its own (AnyMutex's overview), so it needs its own ways
 * in: take the word without waiting (tryAcquire), find the value to sleep on with WAITERS set
 * (sleepValue), be counted among the word's sleepers while it sleeps (so the mutex's in-process
 * handoffs stay bounded), and repair the word after a FUTEX_WAITV that may have swallowed a wake
 * (repairAfterWaitv). It also keeps the requests waiting on the word, so that the mutex's close
 * fails them (regionClosed). It is separate from MutexCore because none of this touches the
 * mutex's queue or its sleeper: it uses the mutex's word transitions (MutexOwnership) and its
 * barging rule (MutexCore.mayBarge), and nothing else.
 *
 * Threads: every method runs on a lockAny request's thread of the moment (the caller's, or the
 * ring's completion thread) with no monitor held. The waiter set is concurrent: the mutex's close
 * sets `closed`, then reads it; sleepValue adds, then reads `closed`; so one of them sees the
 * other.
 */
/** One mutex as a lockAny candidate; see the overview in the source. */
final class LockAnyCandidate {
  private final MutexCore mutex;
  private final Set<AnyMutex> waiters = ConcurrentHashMap.newKeySet(); // lockAny waits on us

  LockAnyCandidate(MutexCore mutex) {
    this.mutex = mutex;
  }

  MutexCore mutex() {
    return mutex;
  }

  FutexRing ring() {
    return mutex.ring;
  }

  FutexWord word() {
    return mutex.word;
  }

  /** Whether {@code owner}, read from the word, is this process. */
  boolean isThisProcess(int owner) {
    return owner == mutex.pid;
  }

  /**
   * Takes the word for lockAny, never waiting: as tryLock, or, when {@code woken} (a FUTEX_WAITV
   * woken on this word), whenever it is free, keeping WAITERS set as any woken sleeper does.
   */
  Guard tryAcquire(boolean woken) {
    mutex.checkOpen();
    if (!woken) {
      return mutex.tryAcquireNow();
    }
    int v = mutex.lvWord();
    if (notRecoverable(v)) {
      throw mutex.notRecoverableException();
    }
    // A failed CAS means another taker won the word: the caller tries the other candidates and
    // then sleeps again, setting WAITERS anew, so the wake it consumed is not lost.
    if (ownerOf(v) == 0 && mutex.casWord(v, mutex.pid | WAITERS)) {
      mutex.holding = true;
      return mutex.newGuard(false);
    }
    return mutex.takeOverIfOwnerDied(v) ? mutex.takenOverFrom(ownerOf(v)) : null;
  }

  /**
   * The value a lockAny waiter may sleep on, with WAITERS set (by CAS) so the next release wakes,
   * and counted as a sleeping process so in-process handoffs stay bounded; or -1 if the word is
   * free and takeable, or changed under the CAS: the caller then tries again instead of sleeping.
   * Every value it returns must later be matched by {@link #waitEnded(AnyMutex)}.
   *
   * <p>A free word that lockAny may not take (this process has requests queued, or another process
   * starves) is slept on with WAITERS, as a mutex sleeper stands back: whoever takes it next keeps
   * the bit, and its release wakes. The CAS that sets WAITERS is on the very value the FUTEX_WAITV
   * then expects; if it fails the word changed, and the caller looks again rather than sleep on a
   * value that may never be woken.
   */
  int sleepValue(AnyMutex request) {
    mutex.checkOpen();
    int v = mutex.lvWord();
    if (notRecoverable(v)) {
      throw mutex.notRecoverableException();
    }
    if ((ownerOf(v) == 0 || !mutex.isAliveOwner(ownerOf(v))) && mutex.mayBarge()) {
      return -1; // free, or its owner died: take it (tryAcquire) rather than sleep
    }
    if ((v & WAITERS) == 0 && !mutex.casWord(v, v | WAITERS)) {
      return -1;
    }
    if ((v & PID_MASK) == 0 && mutex.mayBarge()) {
      // Stood back on a free word, but whoever it stood back for is gone: the queued request took
      // the word and released it between our read and our CAS (ABA: 0 again), and that release
      // saw no WAITERS, so nobody would wake us. Look again; the free word is ours to take. A
      // request or starving process still there after our CAS keeps the bit when it takes the
      // word, and its release wakes us (our CAS, then this read; its link or count, then its read).
      return -1;
    }
    waiters.add(request); // so that close() can fail it; close sets `closed`, then looks here
    if (mutex.closed) {
      waiters.remove(request);
      throw mutex.closedException();
    }
    mutex.sleeper.countOtherWait(1);
    return v | WAITERS;
  }

  void waitEnded(AnyMutex request) {
    waiters.remove(request);
    mutex.sleeper.countOtherWait(-1);
  }

  /**
   * After a lockAny FUTEX_WAITV that was woken, timed out or cancelled: it may have swallowed a
   * wake meant for a sleeper of this word (see FutexRing.waitAny), or consumed one it did not use.
   * If anyone sleeps here, make sure one is woken or will be: wake one if the word is free, else
   * set WAITERS so that the holder's release wakes one. At worst a spurious wake.
   */
  void repairAfterWaitv() {
    if (mutex.closed || mutex.sleeper.processesSleeping() <= 0) {
      return;
    }
    // Each pass ends in a wake (free), a bit already set, or our CAS setting it; a failed CAS means
    // the word was released or changed hands, and the next pass decides on its new value.
    for (; ; ) {
      int v = mutex.lvWord();
      if ((v & PID_MASK) == 0) {
        mutex.wakeOne.signal();
        return;
      }
      if ((v & WAITERS) != 0 || mutex.casWord(v, v | WAITERS)) {
        return;
      }
    }
  }

  /** The mutex's region closed: every lockAny request sleeping on its word fails. */
  void regionClosed(RegionClosedException failure) {
    for (AnyMutex request : waiters) {
      request.regionClosed(failure);
    }
  }
}
