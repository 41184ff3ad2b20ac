package dev.ringlock.locks;

import static dev.ringlock.locks.internal.WaitQueueDescriptor.LIST_LOCK_OFFSET;

import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.core.memory.PidLock;
import dev.ringlock.testsupport.Watchdog;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A child JVM that says it has started (a file "started" in the sync directory) and, once a file
 * "go" appears there, takes the list lock of a wait queue with the library's own PidLock, says so
 * (a file "locked" in the sync directory), holds it until a file "release" appears (the test stops
 * it with SIGSTOP meanwhile), then unlocks and exits. Args: region file, queue name, sync dir.
 */
final class ListLockHolder {
  private ListLockHolder() {}

  public static void main(String[] args) throws Exception {
    Path regionFile = Path.of(args[0]);
    String queue = args[1];
    Path sync = Path.of(args[2]);
    Watchdog.start(120_000, () -> "still holding the list lock of '" + queue + "'");
    try (MappedRegion raw =
        MappedRegion.open(
            regionFile, RegionOptions.DEFAULT_REGION_SIZE, RegionOptions.DEFAULT_CAPACITY)) {
      MemorySegment bytes = raw.segment(raw.find(queue).orElseThrow());
      PidLock listLock =
          new PidLock(bytes, LIST_LOCK_OFFSET, regionFile, "wait queue '" + queue + "'");
      Files.createFile(sync.resolve("started"));
      while (!Files.exists(sync.resolve("go"))) { // the test queues its waiter first
        Thread.sleep(5);
      }
      listLock.lock();
      Files.createFile(sync.resolve("locked"));
      while (!Files.exists(sync.resolve("release"))) {
        Thread.sleep(5);
      }
      listLock.unlock();
      System.out.println("UNLOCKED");
    }
  }
}
