package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.testsupport.Child;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * 10,000 mutexes created in one process, then looked up from a second JVM: both through the name
 * index, not a scan of the directory (a scan took 4.1 s and 4.8 s on an idle VM, 41 s and 14 s on a
 * loaded one). The goal is 0.3 s each. The bound asserted is on the calling thread's CPU time, and
 * generous, so that a machine whose cores are shared with other builds (wall time several times the
 * CPU time) does not fail it; wall and CPU times are both printed.
 */
@Timeout(120)
class DirectoryScaleTest {
  private static final int OBJECTS = 10_000;

  /**
   * A bound on CPU time, four times what the index took on a loaded VM (250 ms creating, 110 ms
   * looking up); the scan it replaced took 1,650 ms and 2,160 ms of CPU there.
   */
  private static final long BOUND_CPU_MILLIS = 1_000;

  @TempDir Path directory;

  static String name(int i) {
    return "object-" + i;
  }

  /**
   * The CPU time of the calling thread, user and system, not the JIT's threads: utime and stime of
   * /proc/thread-self/stat, in clock ticks of 10 ms (USER_HZ is 100 in the kernel's ABI).
   */
  static long threadCpuNanos() {
    try {
      String stat = Files.readString(Path.of("/proc/thread-self/stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long ticks = Long.parseLong(fields[14 - 3]) + Long.parseLong(fields[15 - 3]);
      return TimeUnit.MILLISECONDS.toNanos(ticks * 10);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void tenThousandObjectsAreCreatedAndLookedUpFromAnotherProcessQuickly() throws Exception {
    Path file = directory.resolve("region");
    RegionOptions options = RegionOptions.builder().capacity(16_384).regionSize(16L << 20).build();
    long createMillis;
    long createCpuMillis;
    try (SharedRegion region = SharedRegion.open(file, options)) {
      long start = System.nanoTime();
      long startCpu = threadCpuNanos();
      for (int i = 0; i < OBJECTS; i++) {
        region.mutex(name(i));
      }
      createCpuMillis = TimeUnit.NANOSECONDS.toMillis(threadCpuNanos() - startCpu);
      createMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }
    Path log = directory.resolve("child.log");
    try (Child child =
        Child.jvm(DirectoryLookupChild.class, file.toString(), Integer.toString(OBJECTS))
            .logTo(log)
            .start()) {
      child.awaitSuccess(Duration.ofSeconds(90));
    }
    List<String> output = Files.readAllLines(log);
    String[] lookup =
        output.stream()
            .filter(line -> line.startsWith("LOOKUP "))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no LOOKUP line: " + output))
            .split(" ");
    long lookupMillis = Long.parseLong(lookup[1]);
    long lookupCpuMillis = Long.parseLong(lookup[3]);
    System.out.printf(
        "%d objects: created in %d ms (%d ms CPU), looked up from another JVM in %d ms (%d ms"
            + " CPU)%n",
        OBJECTS, createMillis, createCpuMillis, lookupMillis, lookupCpuMillis);
    assertTrue(output.stream().noneMatch(line -> line.startsWith("CREATED")), output.toString());
    assertTrue(createCpuMillis < BOUND_CPU_MILLIS, "creating took " + createCpuMillis + " ms CPU");
    assertTrue(
        lookupCpuMillis < BOUND_CPU_MILLIS, "looking up took " + lookupCpuMillis + " ms CPU");
  }
}
