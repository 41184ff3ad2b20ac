package dev.ringlock.jcstress;

import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.RegionOptions;
import dev.ringlock.locks.SharedRegion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * One region file as two processes see it: two SharedRegions on {@link SharedRing#RING} (each with
 * its own cores, request queues and kernel waits, so one view's release reaches the other's waiters
 * only through the shared word and a FUTEX_WAKE, as between processes), and a raw mapping of the
 * same file, to read or plant an object's words. The file lives in /dev/shm under {@code name} and
 * this fork's pid and is deleted when the fork exits ({@link RegionFiles}).
 *
 * @param first one "process"'s view
 * @param second the other's
 * @param raw the file's bytes
 */
record TwoViews(SharedRegion first, SharedRegion second, MappedRegion raw) {
  /**
   * Opens (creating it) the region file {@code name}-pid with room for {@code capacity} objects in
   * {@code regionBytes}, three times.
   */
  static TwoViews open(String name, int capacity, long regionBytes) {
    Path file = RegionFiles.deletedAtExit(name + "-" + ProcessHandle.current().pid());
    RegionOptions options =
        RegionOptions.builder()
            .ring(SharedRing.RING)
            .capacity(capacity)
            .regionSize(regionBytes)
            .build();
    try {
      SharedRegion first = SharedRegion.open(file, options);
      SharedRegion second = SharedRegion.open(file, options);
      return new TwoViews(first, second, MappedRegion.open(file, regionBytes, capacity));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The bytes of the object named {@code name}, made through a view. */
  MemorySegment object(String name) {
    return raw.segment(raw.find(name).orElseThrow());
  }

  /** The pid of a process that has exited and been reaped: a dead owner or reader to plant. */
  static int deadPid() {
    try {
      Process done = new ProcessBuilder("true").start();
      done.waitFor();
      return (int) done.pid();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
