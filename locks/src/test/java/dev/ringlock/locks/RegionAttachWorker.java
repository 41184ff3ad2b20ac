package dev.ringlock.locks;

import dev.ringlock.core.InvalidRegionException;
import java.nio.file.Path;

/**
 * A child JVM (often run as another user) that opens a region, takes mutex "m" with tryLock,
 * reports and exits. One line on stdout: {@code OPENED fence=<fence>} (exit 0), {@code REFUSED
 * <problem>: <message>} for an InvalidRegionException (exit 3), or {@code FAILED <exception class>:
 * <message>} (exit 4).
 *
 * <p>Arguments: region file, sharing group ("-" for none).
 */
public final class RegionAttachWorker {
  private RegionAttachWorker() {}

  public static void main(String[] args) {
    Path file = Path.of(args[0]);
    RegionOptions.Builder options = RegionOptions.builder();
    if (!args[1].equals("-")) {
      options.sharedWithGroup(args[1]);
    }
    try (SharedRegion region = SharedRegion.open(file, options.build())) {
      MutexGuard guard = region.mutex("m").tryLock().orElseThrow();
      System.out.println("OPENED fence=" + guard.fence());
      guard.unlock();
      System.exit(0);
    } catch (InvalidRegionException e) {
      System.out.println("REFUSED " + e.problem() + ": " + e.getMessage());
      System.exit(3);
    } catch (Exception e) {
      System.out.println("FAILED " + e.getClass().getName() + ": " + e.getMessage());
      System.exit(4);
    }
  }
}
