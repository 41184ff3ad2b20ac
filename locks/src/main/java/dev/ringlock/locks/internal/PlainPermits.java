package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.SemaphoreDescriptor.MAX_PERMITS;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.PERMITS_MASK;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.WAITERS;

import dev.ringlock.core.WakeSignal;

/*
 * Overview
 *
 * The moves of a semaphore's permits without undo on exit: each is one CAS of the word, and nothing
 * records who holds what (SemaphoreUndo is the other kind, for a semaphore with undo on exit).
 * SemaphoreCore decides when a move is made; these say how. Static, so that the uncontended
 * acquire and release call them with no object between (they inline).
 *
 * A take leaves WAITERS as it was: the sleepers still wait for more. An add clears WAITERS in the
 * same CAS and wakes every sleeper if the bit was set (SemaphoreCore's overview: why all). A drain
 * keeps WAITERS: nothing was added, so no sleeper is owed a wake, and the bit must stay for the
 * next release to wake them. Every CAS is from a value just read (SemaphoreWords.casWordSeen): that
 * read is the read first that keeps a CAS off a page the file no longer covers, so the uncontended
 * take and add are one load and one CAS each.
 */
/** Moves of a semaphore's permits without undo on exit; see the overview in the source. */
final class PlainPermits {
  private PlainPermits() {}

  /** Takes {@code permits} from the word if it has that many; keeps WAITERS. */
  static boolean tryTake(SemaphoreWords words, int permits) {
    for (int v = words.lvWord(); (v & PERMITS_MASK) >= permits; v = words.lvWord()) {
      if (words.casWordSeen(v, v - permits)) {
        return true;
      }
    }
    return false;
  }

  /** drainPermits: takes every available permit; keeps WAITERS. */
  static int drain(SemaphoreWords words) {
    for (int v = words.lvWord(); ; v = words.lvWord()) {
      int available = v & PERMITS_MASK;
      if (available == 0) {
        return 0;
      }
      if (words.casWord(v, v & WAITERS)) {
        return available;
      }
    }
  }

  /**
   * Adds permits, clearing WAITERS in the same CAS, and wakes every sleeper if the bit was set. The
   * wake is a WakeSignal: it never blocks, so this may run under the semaphore's monitor.
   *
   * @param refuseOverflow throw IllegalArgumentException, changing nothing, if the count would
   *     exceed MAX_PERMITS; else add what fits (a grant's give-back, and only when other releases
   *     filled the word meanwhile)
   * @param name the semaphore's, for the message
   */
  static void add(
      SemaphoreWords words, WakeSignal wakeAll, int permits, boolean refuseOverflow, String name) {
    int old;
    for (old = words.lvWord(); ; old = words.lvWord()) {
      int available = old & PERMITS_MASK;
      int room = MAX_PERMITS - available;
      if (permits > room && refuseOverflow) {
        throw new IllegalArgumentException(
            "releasing "
                + permits
                + " permits to semaphore '"
                + name
                + "', which has "
                + available
                + " available, would exceed the maximum of "
                + MAX_PERMITS
                + "; release fewer");
      }
      if (words.casWordSeen(old, available + Math.min(permits, room))) {
        break;
      }
    }
    if ((old & WAITERS) != 0) {
      wakeAll.signal();
    }
  }
}
