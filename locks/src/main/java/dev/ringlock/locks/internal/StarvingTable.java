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
 * The summary (MutexDescriptor: the int at offset 4, beside the word) answers the uncontended
 * path's question, "is anyone marked?", with one load: noneMarked() reads the table only when the
 * summary is set. A process sets it (a volatile store) after claiming its slot; whoever clears a
 * slot (stop, clearDead, clearStale) then refreshes it: if the table is empty it stores 0, then
 * reads the table again and stores 1 if a mark appeared meanwhile. No mark is left without the
 * summary: all these accesses are volatile, so in their one order a marker's store of 1 either
 * comes after a refresher's store of 0, or the marker's slot CAS came before that store and the
 * refresher's second read sees it and stores 1 again. What is allowed:
 *   - a summary set over an empty table (a refresh that saw a mark which then left, or a process
 *     that died between its clear and its refresh): the fast path reads the table, finds it
 *     empty and refreshes (noneMarked), so it costs one slow look;
 *   - a mark whose summary is not yet set (its process between its CAS and its store, or one that
 *     died there): an arrival barges once more, exactly as one that read the table just before the
 *     mark was written; a dead process's mark is cleared at the next slow look anyway;
 *   - a refresher's store of 0 racing a mark: until its second read and store, arrivals barge; the
 *     window is a refresher's two accesses, and opens only when some mark is cleared.
 * So barging stays bounded as before: a mark that is in place stops every arrival from the moment
 * its summary is stored, apart from the window of a clear that races it.
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
public final class StarvingTable {
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

  /**
   * @param words the mutex's fields
   * @param pid this process
   * @param alive whether a pid read from the table names a live process
   * @param corrupt the damage report naming the mutex, for a slot that holds no pid
   */
  public StarvingTable(
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

  /**
   * Whether no process is marked starving, as an arrival that would barge asks it: one load of the
   * summary, and the table only when the summary is set (refreshing a summary left set over an
   * empty table). See the overview.
   */
  public boolean noneMarked() {
    return words.lvStarvingSummary() == 0 || (!any() && refreshSummary());
  }

  /**
   * After a slot was cleared: clears the summary if the table is empty, then looks again and sets
   * it if a mark came meanwhile (see the overview). True if the summary is left clear.
   */
  private boolean refreshSummary() {
    if (any()) {
      return false; // a mark stands: its process has stored the summary, or is about to
    }
    words.svStarvingSummary(0);
    if (any()) {
      words.svStarvingSummary(1);
      return false;
    }
    return true;
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
  public boolean isMarked() {
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
  public void start() {
    for (int i = 0; i < STARVING_SLOTS; i++) {
      if (lvStarvingPid(i) == 0 && casStarvingPid(i, 0, pid)) {
        mySlot = i;
        words.svStarvingSummary(1); // after the slot: a refresher that cleared it sees our slot
        return;
      }
    }
  }

  /** Unmarks this process; true if it was marked. */
  public boolean stop() {
    if (mySlot < 0) {
      return false;
    }
    // Fails only if another process cleared our slot, believing us dead (PID namespaces differ).
    casStarvingPid(mySlot, pid, 0);
    mySlot = -1;
    refreshSummary();
    return true;
  }

  /**
   * Whether a process other than this one is marked, as an in-process handoff asks it: one load of
   * the summary while nobody is marked, as an arrival's noneMarked (the same windows, so a handoff
   * may pass a mark whose summary is not yet stored once, as an arrival barges once).
   */
  public boolean othersMarked() {
    if (words.lvStarvingSummary() == 0) {
      return false;
    }
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
    if (cleared) {
      refreshSummary();
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
    if (cleared) {
      refreshSummary();
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
