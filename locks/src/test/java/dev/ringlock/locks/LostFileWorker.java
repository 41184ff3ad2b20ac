package dev.ringlock.locks;

import dev.ringlock.core.InvalidRegionException;
import java.nio.file.Path;

/**
 * A child JVM that opens a region, holds mutex "m" and keeps using the region (a tryLock of mutex
 * "probe" every 5 ms) until a call fails, as a process does whose region file is deleted under it.
 * Prints {@code LOCKED <fence>} once it holds "m", then {@code CLOSED <epoch millis> <exception
 * class> <problem of the cause>} when a call fails, and exits 0; exits 2 if nothing fails within a
 * minute.
 *
 * <p>Arguments: region file. Run with -Dringlock.regionFileCheckMillis to set the watch period.
 */
public final class LostFileWorker {
  private LostFileWorker() {}

  public static void main(String[] args) throws Exception {
    SharedRegion region = SharedRegion.open(Path.of(args[0]));
    MutexGuard held = region.mutex("m").tryLock().orElseThrow();
    // Made before LOCKED, while the file is still the one mapped: making an object new to this
    // process checks the file itself and would throw FILE_REPLACED at once, not through the close.
    region.mutex("probe");
    System.out.println("LOCKED " + held.fence());
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (System.nanoTime() < deadline) {
      try {
        region.mutex("probe").tryLock().ifPresent(MutexGuard::unlock);
      } catch (RuntimeException e) {
        Throwable cause = e.getCause();
        String problem =
            cause instanceof InvalidRegionException invalid ? invalid.problem().name() : "none";
        System.out.println(
            "CLOSED " + System.currentTimeMillis() + " " + e.getClass().getName() + " " + problem);
        System.exit(0);
      }
      Thread.sleep(5);
    }
    System.out.println("STUCK: no call failed within a minute");
    System.exit(2);
  }
}
