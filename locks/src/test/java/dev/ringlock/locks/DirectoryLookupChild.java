package dev.ringlock.locks;

import dev.ringlock.core.memory.MappedRegion;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM that attaches to a region and looks up {@code count} mutexes created by another
 * process ("object-0" ...), printing {@code LOOKUP <ms>} for all of them, or {@code MISSING name}.
 *
 * <p>Arguments: region file, count.
 */
public final class DirectoryLookupChild {
  private DirectoryLookupChild() {}

  public static void main(String[] args) throws Exception {
    Path file = Path.of(args[0]);
    int count = Integer.parseInt(args[1]);
    ChildJvm.startWatchdog(60_000, () -> "looking up");
    try (SharedRegion region = SharedRegion.open(file)) {
      int before = objectsIn(file);
      long start = System.nanoTime();
      for (int i = 0; i < count; i++) {
        region.mutex(DirectoryScaleTest.name(i));
      }
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      int after = objectsIn(file);
      if (after != before) {
        System.out.println("CREATED " + (after - before) + " instead of finding them");
      }
      System.out.println("LOOKUP " + millis);
    }
    System.exit(0);
  }

  private static int objectsIn(Path file) throws Exception {
    try (MappedRegion raw = MappedRegion.openReadOnly(file)) {
      return raw.objects().size();
    }
  }
}
