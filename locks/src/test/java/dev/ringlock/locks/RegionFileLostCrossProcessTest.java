package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.testsupport.Child;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What systemd-logind's RemoveIPC=yes (or a tmp cleaner) does to a region in use: a child JVM holds
 * mutex "m"; the file is deleted; this process opens the path, which creates a fresh file, and
 * takes "m" too, with fence 1 again. The child must learn within its watch period that its locks no
 * longer exclude anyone: its region closes itself, its next call fails with RegionClosedException
 * caused by FILE_REPLACED, and it logs one ERROR.
 */
class RegionFileLostCrossProcessTest {
  private static final long PERIOD_MILLIS = 100;

  @TempDir Path directory;

  @Test
  @Timeout(120)
  void processWhoseRegionFileIsDeletedFailsItsCallsWithinThePeriod() throws Exception {
    Path file = Path.of("/dev/shm", "ringlock-lost-" + ProcessHandle.current().pid());
    if (!Files.isDirectory(file.getParent())) {
      file = directory.resolve("region");
    }
    Files.deleteIfExists(file);
    try (Child child =
        Child.jvm(LostFileWorker.class, file.toString())
            .systemProperty("ringlock.regionFileCheckMillis", Long.toString(PERIOD_MILLIS))
            .captureOutput()
            .start()) {
      String locked = child.expect("LOCKED ");
      assertEquals("LOCKED 1", locked);

      Path regionFile = file;
      long deletedAt = System.currentTimeMillis();
      Files.delete(file);
      try (SharedRegion fresh = SharedRegion.open(file)) {
        Optional<MutexGuard> second = fresh.mutex("m").tryLock();
        // The split the watch exists for: two holders of "the" mutex, both with fence 1.
        assertEquals(1, second.orElseThrow().fence());

        String closed = child.expect("CLOSED ");
        String[] fields = closed.split(" ");
        long noticedAfter = Long.parseLong(fields[1]) - deletedAt;
        assertEquals(RegionClosedException.class.getName(), fields[2], closed);
        assertEquals("FILE_REPLACED", fields[3], closed);
        System.out.println(
            "deleted region file noticed by the child after " + noticedAfter + " ms");
        // The bound is one period plus the check; the margin is for a loaded 2-core machine.
        assertTrue(noticedAfter < PERIOD_MILLIS + 3_000, "noticed after " + noticedAfter + " ms");
        assertEquals(0, child.awaitExit(Duration.ofSeconds(60)));
        String rest = child.output();
        long errors =
            rest.lines()
                .filter(line -> line.startsWith("SEVERE: " + regionFile))
                // "was deleted", or "was replaced" if its check came after our open
                .filter(line -> line.contains(" while this process mapped it"))
                .count();
        assertEquals(1, errors, "one ERROR expected in: " + rest);
        second.get().unlock();
      }
    } finally {
      Files.deleteIfExists(file);
    }
  }
}
