package dev.ringlock.jcstress;

import dev.ringlock.locks.ConditionVariable;
import dev.ringlock.locks.RegionOptions;
import dev.ringlock.locks.SharedRegion;
import dev.ringlock.locks.WaitQueue;
import java.util.concurrent.CompletableFuture;

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

  /**
   * After a test's own checks, with {@code waiter} the one waiter still on {@code queue}: wakes it,
   * which must end it, and gives the queue back. Returns "WAITING" (the waiter was waiting, as it
   * should), or what went wrong, for a forbidden outcome (the queue is then not reused).
   */
  static String wakeTheOneLeft(WaitQueue queue, CompletableFuture<Void> waiter) {
    int woken = queue.wakeAll();
    String fate = WaitFate.awaitWake(waiter);
    if (woken != 1 || !fate.equals(WaitFate.WOKEN)) {
      return "CLEANUP_WOKE_" + woken + "_" + fate;
    }
    giveBack(queue);
    return "WAITING";
  }

  private static SharedRegion openRegion() {
    return SharedLocks.openRegion(
        "ringlock-jcstress-queues-",
        RegionOptions.builder()
            .capacity(MAX_OBJECTS)
            .regionSize(32L << 20)); // directory 8 MiB, queues 256 bytes each
  }
}
