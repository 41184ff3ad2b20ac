package dev.ringlock.jcstress;

import dev.ringlock.locks.ConditionVariable;
import dev.ringlock.locks.RegionOptions;
import dev.ringlock.locks.SharedRegion;
import dev.ringlock.locks.WaitQueue;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Wait queues and condition variables for the tests of a forked jcstress VM, in one region file
 * (unlinked once mapped), on {@link SharedRing#RING}.
 *
 * <p>Unlike a mutex, a queue cannot be shared by two live test instances: a wakeAll of one would
 * wake the other's waiter. So each instance takes a queue of its own, and its arbiter gives it back
 * once it has emptied it; a queue an arbiter could not empty (a forbidden outcome) is never reused.
 * Queues are made on demand, so the pool grows to the number of instances alive at once.
 */
final class SharedQueues {
  static final int CAPACITY = 4;
  private static final int MAX_OBJECTS = 65_536;
  private static final SharedRegion REGION = openRegion();
  private static final ObjectPool<WaitQueue> QUEUES =
      new ObjectPool<>(
          MAX_OBJECTS / 2, number -> REGION.waitQueue("jcstress-queue-" + number, CAPACITY));
  private static final ObjectPool<ConditionVariable> CONDITIONS =
      new ObjectPool<>(
          MAX_OBJECTS / 2, number -> REGION.condition("jcstress-condition-" + number, CAPACITY));

  private SharedQueues() {}

  /** An empty queue nobody else uses until it is {@link #giveBack given back}. */
  static WaitQueue take() {
    return QUEUES.take();
  }

  /** Returns an emptied queue (nobody waiting on it) to the pool. */
  static void giveBack(WaitQueue queue) {
    QUEUES.giveBack(queue);
  }

  /** A condition nobody else waits on or signals until it is given back; as for queues. */
  static ConditionVariable takeCondition() {
    return CONDITIONS.take();
  }

  static void giveBack(ConditionVariable condition) {
    CONDITIONS.giveBack(condition);
  }

  private static SharedRegion openRegion() {
    Path shm = Path.of("/dev/shm");
    Path file =
        (Files.isDirectory(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir")))
            .resolve("ringlock-jcstress-queues-" + ProcessHandle.current().pid());
    try {
      SharedRegion region =
          SharedRegion.open(
              file,
              RegionOptions.builder()
                  .ring(SharedRing.RING)
                  .capacity(MAX_OBJECTS)
                  .regionSize(32L << 20) // directory 8 MiB, queues 256 bytes each
                  .build());
      Files.delete(file);
      return region;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
