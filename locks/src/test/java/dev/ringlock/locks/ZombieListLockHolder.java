package dev.ringlock.locks;

import static dev.ringlock.locks.internal.WaitQueueDescriptor.LIST_LOCK_OFFSET;

import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.core.memory.PidLock;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * A child JVM that takes the list lock of a wait queue with the library's own PidLock, says
 * "LOCKED", and exits at once without unlocking (Runtime.halt): run under a parent that never reaps
 * it, it stays a zombie holding the lock. Args: region file, queue name.
 */
final class ZombieListLockHolder {
  private ZombieListLockHolder() {}

  public static void main(String[] args) throws Exception {
    Path regionFile = Path.of(args[0]);
    String queue = args[1];
    try (MappedRegion raw =
        MappedRegion.open(
            regionFile, RegionOptions.DEFAULT_REGION_SIZE, RegionOptions.DEFAULT_CAPACITY)) {
      MemorySegment bytes = raw.segment(raw.find(queue).orElseThrow());
      PidLock listLock =
          new PidLock(bytes, LIST_LOCK_OFFSET, regionFile, "wait queue '" + queue + "'");
      listLock.lock();
      System.out.println("LOCKED");
      System.out.flush();
      Runtime.getRuntime().halt(0); // as if killed inside the critical section
    }
  }
}
