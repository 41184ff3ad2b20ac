package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.testsupport.Child;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Real JVMs sharing one region file: mutual exclusion, unique fences, and no starvation. */
class MutexCrossProcessTest {
  private static final int PROCESSES = 3;
  private static final int PER_THREAD = 2000;
  private static final int THREADS = 3;
  private static final long CONTEND_MILLIS = 2000;

  @TempDir Path directory;

  @Test
  @Timeout(300)
  void processesIncrementAPlainCounterExactlyUnderTheMutex() throws Exception {
    Path regionFile = Path.of("/dev/shm").resolve("ringlock-test-" + ProcessHandle.current().pid());
    if (!Files.isDirectory(regionFile.getParent())) {
      regionFile = directory.resolve("region");
    }
    Files.deleteIfExists(regionFile);
    Path go = directory.resolve("go");
    List<Child> children = new ArrayList<>();
    List<Path> logs = new ArrayList<>();
    List<Path> fenceFiles = new ArrayList<>();
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      region.mutex("shared");
      for (int i = 0; i < PROCESSES; i++) {
        Path log = directory.resolve("child-" + i + ".log");
        Path fences = directory.resolve("fences-" + i);
        logs.add(log);
        fenceFiles.add(fences);
        children.add(
            Child.jvm(
                    MutexWorker.class,
                    regionFile.toString(),
                    go.toString(),
                    Integer.toString(PER_THREAD),
                    fences.toString(),
                    Long.toString(CONTEND_MILLIS))
                .fullJvm() // their contention loop gets hot: C2's code must run it
                .logTo(log)
                .start());
      }
      // Every child up before any starts: a child whose JVM started late would contend alone
      // (its CONTENDED count 0, "starved"), which is a slow start-up, not what this test checks.
      for (Child child : children) {
        child.awaitStarted("READY");
      }
      Files.createFile(go);
      for (int i = 0; i < PROCESSES; i++) {
        children.get(i).awaitSuccess(Duration.ofSeconds(240));
      }
      long contended = 0;
      for (int i = 0; i < PROCESSES; i++) {
        String line =
            Files.readAllLines(logs.get(i)).stream()
                .filter(l -> l.startsWith("CONTENDED "))
                .findFirst()
                .orElseThrow(() -> new AssertionError("child without a CONTENDED line"));
        String[] fields = line.split(" ");
        long acquisitions = Long.parseLong(fields[1]);
        long longestWaitNanos = Long.parseLong(fields[2]);
        contended += acquisitions;
        assertTrue(acquisitions > 0, "child " + i + " starved: " + line);
        assertTrue(
            longestWaitNanos < TimeUnit.SECONDS.toNanos(1),
            "child " + i + " waited " + longestWaitNanos / 1_000_000 + " ms for the lock");
      }
      try (MappedRegion raw =
          MappedRegion.open(
              regionFile, RegionOptions.DEFAULT_REGION_SIZE, RegionOptions.DEFAULT_CAPACITY)) {
        long counter = MutexWorker.counterOf(raw).get(ValueLayout.JAVA_LONG, 0);
        assertEquals((long) PROCESSES * THREADS * PER_THREAD + contended, counter);
      }
      Set<Long> unique = new HashSet<>();
      int total = 0;
      for (Path fences : fenceFiles) {
        for (String fence : Files.readAllLines(fences)) {
          total++;
          assertTrue(unique.add(Long.parseLong(fence)), "fence " + fence + " issued twice");
        }
      }
      assertEquals(PROCESSES * 2 * PER_THREAD, total);
      assertTrue(!region.mutex("shared").isLocked());
    } finally {
      children.forEach(Child::close);
      Files.deleteIfExists(regionFile);
    }
  }
}
