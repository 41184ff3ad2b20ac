package dev.ringlock.jcstress;

import dev.ringlock.locks.Semaphore;
import dev.ringlock.locks.SemaphoreOptions;
import dev.ringlock.locks.internal.HolderTable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Semaphores for jcstress tests, each lent to one test instance at a time ({@link ObjectPool}): a
 * permit count checked by an arbiter means nothing if another live instance shares the semaphore.
 * They live in region files of CHUNK semaphores each, made as the pool grows (a directory lookup
 * scans its entries, so one huge region would make creating its later names slow).
 *
 * <p>Each semaphore comes as two views, {@link Lease#here()} and {@link Lease#there()}, through two
 * SharedRegions on the same file: each view has its own request queue and kernel wait, as two
 * processes have, so a release through one reaches the other's waiters only through the word and
 * FUTEX_WAKE. A third, raw mapping gives {@link Lease#object()}, the semaphore's bytes, for tests
 * that write its holder table ({@link TwoViews}). Files are deleted when the fork exits.
 *
 * <p>Two kinds: {@link #take()} lends a semaphore with undo on exit off, 0 permits, for the tests
 * that signal (release permits a view never acquired); {@link #takeUndo()} one with undo on exit
 * and {@value #UNDO_TOTAL} permits, all available and none recorded, for the tests of its records
 * and their repair.
 */
final class SharedSemaphores {
  private static final int CHUNK = 256;
  private static final int MAX_CHUNKS = 256;

  /** The permits of an undo lease: its total. */
  static final int UNDO_TOTAL = 2;

  private static final SemaphoreOptions SIGNAL =
      SemaphoreOptions.builder().undoOnExit(false).build();
  private static final List<TwoViews> CHUNKS = new ArrayList<>(); // guarded by the class
  private static final List<TwoViews> UNDO_CHUNKS = new ArrayList<>(); // guarded by the class
  private static final ObjectPool<Lease> POOL =
      new ObjectPool<>(CHUNK * MAX_CHUNKS, number -> make(number, false));
  private static final ObjectPool<Lease> UNDO_POOL =
      new ObjectPool<>(CHUNK * MAX_CHUNKS, number -> make(number, true));

  /** One semaphore, through two regions (two "processes"), and its bytes. */
  record Lease(Semaphore here, Semaphore there, MemorySegment object) {}

  private SharedSemaphores() {}

  /** A semaphore with undo on exit off, 0 permits and nobody waiting, for this instance alone. */
  static Lease take() {
    return POOL.take();
  }

  /** Returns a semaphore of {@link #take()} the caller has left with 0 permits, nothing pending. */
  static void giveBack(Lease lease) {
    POOL.giveBack(lease);
  }

  /**
   * A semaphore with undo on exit and UNDO_TOTAL permits, all available, no holder entry holding
   * permits (each view may have its parked entry, holding 0), nobody waiting, for this instance
   * alone.
   */
  static Lease takeUndo() {
    return UNDO_POOL.take();
  }

  /** Returns a semaphore of {@link #takeUndo()} left as it was lent. */
  static void giveBackUndo(Lease lease) {
    UNDO_POOL.giveBack(lease);
  }

  /**
   * A holder-table entry (little-endian: pid, then count) of a process that cannot exist: its pid
   * is above the kernel's pid_max, yet within the 30 bits an entry allows.
   */
  static long deadHolderEntry(int held) {
    try {
      // readAllLines: Files.readString of a procfs file returns its first byte only (JDK 25)
      int pidMax = Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/kernel/pid_max")).get(0));
      return HolderTable.entry(pidMax + 1, held);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Lease make(int number, boolean undo) {
    TwoViews chunk = chunk(number / CHUNK, undo);
    String name = "semaphore-" + number % CHUNK;
    SemaphoreOptions options = undo ? SemaphoreOptions.defaults() : SIGNAL;
    int permits = undo ? UNDO_TOTAL : 0;
    Semaphore here = chunk.first().semaphore(name, permits, options);
    Semaphore there = chunk.second().semaphore(name, permits, options);
    return new Lease(here, there, chunk.object(name));
  }

  private static synchronized TwoViews chunk(int index, boolean undo) {
    List<TwoViews> chunks = undo ? UNDO_CHUNKS : CHUNKS;
    while (chunks.size() <= index) {
      String file = "ringlock-jcstress-semaphores-" + (undo ? "undo-" : "") + chunks.size();
      chunks.add(TwoViews.open(file, CHUNK, 256 << 10));
    }
    return chunks.get(index);
  }
}
