package dev.ringlock.locks;

import dev.ringlock.testsupport.Watchdog;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM of {@link ObjectCountersTest}, one for every cross-process counter (a JVM start is
 * the expensive part of the test), in three steps that the parent drives through its output:
 *
 * <ol>
 *   <li>lock() mutex {@code m}, which the parent holds, so it queues: prints WAITING, then LOCKED
 *       once granted, and unlocks;
 *   <li>through a second SharedRegion on the file, {@value #ACQUIRES} uncontended acquire(1) and
 *       release(1) of semaphore {@code counted}, then closes that region, which publishes its
 *       count: prints PUBLISHED;
 *   <li>holds mutex {@code dead}, the write lock of {@code dead-writer}, a read hold of {@code
 *       dead-reader} and {@value #PERMITS} permits of semaphore {@code permits}: prints HELD and
 *       waits to be killed.
 * </ol>
 *
 * <p>Argument: the region file.
 */
public final class CountersWorker {
  static final int ACQUIRES = 40;
  static final int PERMITS = 2;

  private CountersWorker() {}

  public static void main(String[] args) throws Exception {
    Path file = Path.of(args[0]);
    Watchdog.start(60_000, () -> "counters worker");
    try (SharedRegion region = SharedRegion.open(file)) {
      CompletableFuture<MutexGuard> pending = region.mutex("m").lock();
      System.out.println("WAITING");
      pending.get(30, TimeUnit.SECONDS).unlock();
      System.out.println("LOCKED");

      try (SharedRegion other = SharedRegion.open(file)) {
        Semaphore counted = other.semaphore("counted", 1);
        for (int i = 0; i < ACQUIRES; i++) {
          counted.acquire(1).get(30, TimeUnit.SECONDS);
          counted.release(1);
        }
      }
      System.out.println("PUBLISHED");

      region.mutex("dead").tryLock().orElseThrow();
      region.readWriteMutex("dead-writer").tryWrite().orElseThrow();
      region.readWriteMutex("dead-reader").read().get(30, TimeUnit.SECONDS);
      region.semaphore("permits", 0).acquire(PERMITS).get(30, TimeUnit.SECONDS);
      System.out.println("HELD");
      Thread.sleep(60_000);
      System.exit(2); // never killed: the parent failed
    }
  }
}
