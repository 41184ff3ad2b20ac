package dev.ringlock.jcstress;

import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.RegionOptions;
import dev.ringlock.locks.Semaphore;
import dev.ringlock.locks.SemaphoreOptions;
import dev.ringlock.locks.SharedRegion;
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
 * that write its holder table. Files are unlinked as soon as all three are mapped, so no run leaves
 * one behind.
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
  private static final List<Chunk> CHUNKS = new ArrayList<>(); // guarded by the class
  private static final List<Chunk> UNDO_CHUNKS = new ArrayList<>(); // guarded by the class
  private static final ObjectPool<Lease> POOL =
      new ObjectPool<>(CHUNK * MAX_CHUNKS, number -> make(number, false));
  private static final ObjectPool<Lease> UNDO_POOL =
      new ObjectPool<>(CHUNK * MAX_CHUNKS, number -> make(number, true));

  /** One semaphore, through two regions (two "processes"), and its bytes. */
  record Lease(Semaphore here, Semaphore there, MemorySegment object) {}

  /** Two views of one region file, and a raw mapping of it. */
  private record Chunk(SharedRegion here, SharedRegion there, MappedRegion raw) {}

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
   * A semaphore with undo on exit and UNDO_TOTAL permits, all available, no holder entry in use,
   * nobody waiting, for this instance alone.
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
    Chunk chunk = chunk(number / CHUNK, undo);
    String name = "semaphore-" + number % CHUNK;
    SemaphoreOptions options = undo ? SemaphoreOptions.defaults() : SIGNAL;
    int permits = undo ? UNDO_TOTAL : 0;
    Semaphore here = chunk.here().semaphore(name, permits, options);
    Semaphore there = chunk.there().semaphore(name, permits, options);
    return new Lease(here, there, chunk.raw().segment(chunk.raw().find(name).orElseThrow()));
  }

  private static synchronized Chunk chunk(int index, boolean undo) {
    List<Chunk> chunks = undo ? UNDO_CHUNKS : CHUNKS;
    while (chunks.size() <= index) {
      chunks.add(openChunk((undo ? "undo-" : "") + chunks.size()));
    }
    return chunks.get(index);
  }

  private static Chunk openChunk(String index) {
    Path file =
        RegionFiles.deletedAtExit(
            "ringlock-jcstress-semaphores-" + ProcessHandle.current().pid() + "-" + index);
    RegionOptions options =
        RegionOptions.builder().regionSize(256 << 10).capacity(CHUNK).ring(SharedRing.RING).build();
    try {
      SharedRegion here = SharedRegion.open(file, options);
      SharedRegion there = SharedRegion.open(file, options);
      MappedRegion raw = MappedRegion.open(file, options.regionSize(), options.capacity());
      return new Chunk(here, there, raw);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
