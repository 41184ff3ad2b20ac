package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.MutexDescriptor.STARVING_SLOTS;

import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.IntPredicate;

/*
 * Overview
 *
 * One process's view of a mutex's starving table (MutexDescriptor: STARVING_SLOTS pids on the
 * word's own cache line), the mutex's bound on barging (MutexCore's overview, Fairness).
 *
 * A process whose oldest request has waited MutexCore.STARVATION_MILLIS marks itself, once, in a
 * free slot (a CAS from 0 to its pid); with every slot taken it stays unmarked and tries again
 * after its next wait. It unmarks itself (a CAS from its pid to 0) when it wins the word or its
 * queue empties. While any process is marked, nobody barges and nobody hands over in-process.
 *
 * Marks are pids, so a dead process's mark is found and cleared (clearDead, by whoever stands back
 * for it, or by tryLock) instead of blocking barging for ever. A mark of a live process that is not
 * waiting here (a pid reused, or written from outside the protocol) decays: a process that sees the
 * same marks on a free word at every look for MARK_DECAY_MILLIS clears them (clearStale), since a
 * real starving process takes a free word within one sleeper re-check. A process whose mark was
 * cleared that way notices it (checkOwnMark) and marks itself again.
 *
 * Every pid read here is checked (MutexDescriptor.starvingProblem) before anyone asks about it: a
 * bad one is the mutex's corruption. Every CAS reads first (a CAS on a page the file no longer
 * covers kills the JVM, where the read throws; see MutexWords).
 *
 * Locking: the slot this process holds is guarded by the mutex's monitor. The sighting of stale
 * marks is a volatile any thread may replace: a race between two sightings only restarts or
 * shortens one observation, and a wrongly cleared mark costs fairness, never safety.
 */
/** One process's view of a mutex's table of starving processes; see the overview in the source. */
final class StarvingTable {
  /**
   * How long one process must see the same starving marks on a free word, at every look, before it
   * clears them as stale: two re-checks of a sleeper (Sleeper.RECHECK_MILLIS), within which a
   * starving process that is really waiting takes a free word.
   */
  static final int MARK_DECAY_MILLIS = 2 * Sleeper.RECHECK_MILLIS;

  private static final long MARK_DECAY_NANOS = TimeUnit.MILLISECONDS.toNanos(MARK_DECAY_MILLIS);

  private final MutexWords words; // the mutex's fields; the table is at STARVING_OFFSET
  private final int pid;
  private final IntPredicate alive; // the mutex's liveness question (PeerWatches's policy)
  private final Function<String, UncheckedIOException> corrupt; // names the mutex

  private int mySlot = -1; // guarded by the mutex's monitor: this process's slot, or -1

  /** Starving marks seen on a free word, and since when (see MARK_DECAY_MILLIS). */
  private record MarkSighting(long[] marks, long since) {}

  private volatile MarkSighting markSighting;

  StarvingTable(
      MutexWords words,
      int pid,
      IntPredicate alive,
      Function<String, UncheckedIOException> corrupt) {
    this.words = words;
    this.pid = pid;
    this.alive = alive;
    this.corrupt = corrupt;
  }

  // ---- shared memory, access mode in the name ----

  /** A starving slot's pid: 0 or a possible pid, checked before anyone asks about it. */
  int lvStarvingPid(int slot) {
    int starving = lvStarvingPidUnchecked(slot);
    String problem = MutexDescriptor.starvingProblem(slot, starving);
    if (problem != null) {
      throw corrupt.apply(problem);
    }
    return starving;
  }

  /** For diagnostics (toString) only: never throws, never used for a decision. */
  private int lvStarvingPidUnchecked(int slot) {
    return words.lvStarvingPid(slot);
  }

  /** Read first, then CAS, as MutexWords.casWord. */
  private boolean casStarvingPid(int slot, int expected, int next) {
    return words.casStarvingPid(slot, expected, next);
  }

  /** Whether any process is marked starving: the table read as longs, on the word's own line. */
  boolean any() {
    for (int i = 0; i < STARVING_SLOTS / 2; i++) {
      if (words.lvStarvingPair(i) != 0) {
        return true;
      }
    }
    return false;
  }

  // ---- this process's mark (guarded by the mutex's monitor) ----

  /** Whether this process is marked starving. */
  boolean isMarked() {
    return mySlot >= 0;
  }

  /** Forgets this process's mark if another process cleared it as stale: it marks itself again. */
  void checkOwnMark() {
    if (mySlot >= 0 && lvStarvingPid(mySlot) != pid) {
      mySlot = -1;
    }
  }

  /**
   * Marks this process starving in a free slot. With every slot taken it stays unmarked and tries
   * again after its next wait; the marked processes are served first.
   */
  void start() {
    for (int i = 0; i < STARVING_SLOTS; i++) {
      if (lvStarvingPid(i) == 0 && casStarvingPid(i, 0, pid)) {
        mySlot = i;
        return;
      }
    }
  }

  /** Unmarks this process; true if it was marked. */
  boolean stop() {
    if (mySlot < 0) {
      return false;
    }
    // Fails only if another process cleared our slot, believing us dead (PID namespaces differ).
    casStarvingPid(mySlot, pid, 0);
    mySlot = -1;
    return true;
  }

  /** Whether a process other than this one is marked. */
  boolean othersMarked() {
    for (int i = 0; i < STARVING_SLOTS; i++) {
      if (i != mySlot && lvStarvingPid(i) != 0) {
        return true;
      }
    }
    return false;
  }

  /** Asks {@code watch} about every other marked process; false as soon as it says false. */
  boolean allOthers(IntPredicate watch) {
    for (int i = 0; i < STARVING_SLOTS; i++) {
      int starving = lvStarvingPid(i);
      if (starving != 0 && starving != pid && !watch.test(starving)) {
        return false;
      }
    }
    return true;
  }

  // ---- other processes' marks (any thread; never this process's own) ----

  /**
   * Clears the marks of processes that are not alive (each with a CAS from the pid read, so a slot
   * reclaimed and reused meanwhile is left alone). True if it cleared one.
   */
  boolean clearDead() {
    boolean cleared = false;
    for (int i = 0; i < STARVING_SLOTS; i++) {
      int starving = lvStarvingPid(i);
      if (starving != 0
          && starving != pid
          && !alive.test(starving)
          && casStarvingPid(i, starving, 0)) {
        cleared = true;
      }
    }
    return cleared;
  }

  /**
   * Clears marks that this process has seen, unchanged and on a free word at every look, for
   * MARK_DECAY_MILLIS: their processes are not waiting here (see the constant). Each with a CAS
   * from the pid read. True if it cleared one. The caller has just seen the word free.
   */
  boolean clearStale() {
    long[] marks = new long[STARVING_SLOTS / 2];
    for (int i = 0; i < marks.length; i++) {
      marks[i] = words.lvStarvingPair(i);
    }
    long now = System.nanoTime();
    MarkSighting seen = markSighting;
    if (seen == null || !Arrays.equals(seen.marks, marks)) {
      markSighting = new MarkSighting(marks, now);
      return false;
    }
    if (now - seen.since < MARK_DECAY_NANOS) {
      return false;
    }
    markSighting = null;
    boolean cleared = false;
    for (int i = 0; i < STARVING_SLOTS; i++) {
      int starving = lvStarvingPid(i);
      if (starving != 0 && starving != pid && casStarvingPid(i, starving, 0)) {
        cleared = true;
      }
    }
    return cleared;
  }

  /** The marked pids, for diagnostics: never throws. */
  List<Integer> snapshot() {
    List<Integer> starving = new ArrayList<>();
    for (int i = 0; i < STARVING_SLOTS; i++) {
      int starvingPid = lvStarvingPidUnchecked(i);
      if (starvingPid != 0) {
        starving.add(starvingPid);
      }
    }
    return starving;
  }
}
