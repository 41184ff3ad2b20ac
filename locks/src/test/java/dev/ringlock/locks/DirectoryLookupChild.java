package dev.ringlock.locks;

import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.testsupport.Watchdog;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM that attaches to a region and looks up {@code count} mutexes created by another
 * process ("object-0" ...), printing {@code LOOKUP <wall ms> CPU <this thread's CPU ms>} for all of
 * them, and {@code CREATED n} if it created any instead of finding them.
 *
 * <p>Arguments: region file, count.
 */
public final class DirectoryLookupChild {
  private DirectoryLookupChild() {}

  public static void main(String[] args) throws Exception {
    Path file = Path.of(args[0]);
    int count = Integer.parseInt(args[1]);
    Watchdog.start(60_000, () -> "looking up");
    try (SharedRegion region = SharedRegion.open(file)) {
      int before = objectsIn(file);
      long start = System.nanoTime();
      long startCpu = DirectoryScaleTest.threadCpuNanos();
      for (int i = 0; i < count; i++) {
        region.mutex(DirectoryScaleTest.name(i));
      }
      long cpuMillis =
          TimeUnit.NANOSECONDS.toMillis(DirectoryScaleTest.threadCpuNanos() - startCpu);
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      int after = objectsIn(file);
      if (after != before) {
        System.out.println("CREATED " + (after - before) + " instead of finding them");
      }
      System.out.println("LOOKUP " + millis + " CPU " + cpuMillis);
    }
    System.exit(0);
  }

  private static int objectsIn(Path file) throws Exception {
    try (MappedRegion raw = MappedRegion.openReadOnly(file)) {
      return raw.objects().size();
    }
  }
}
