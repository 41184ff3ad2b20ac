package dev.ringlock.jcstress;

import dev.ringlock.locks.RegionOptions;
import dev.ringlock.locks.SharedRegion;
import dev.ringlock.locks.WaitQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Wait queues for the wait-queue tests of a forked jcstress VM, in one region file (unlinked once
 * mapped), on {@link SharedRing#RING}.
 *
 * <p>Unlike a mutex, a queue cannot be shared by two live test instances: a wakeAll of one would
 * wake the other's waiter. So each instance takes a queue of its own, and its arbiter gives it back
 * once it has emptied it; a queue an arbiter could not empty (a forbidden outcome) is never reused.
 * Queues are made on demand, so the pool grows to the number of instances alive at once.
 */
final class SharedQueues {
  static final int CAPACITY = 4;
  private static final int MAX_QUEUES = 65_536;
  private static final SharedRegion REGION = openRegion();
  private static final ConcurrentLinkedQueue<WaitQueue> FREE = new ConcurrentLinkedQueue<>();
  private static final AtomicInteger MADE = new AtomicInteger();

  private SharedQueues() {}

  /** An empty queue nobody else uses until it is {@link #giveBack given back}. */
  static WaitQueue take() {
    WaitQueue queue = FREE.poll();
    if (queue != null) {
      return queue;
    }
    int number = MADE.getAndIncrement();
    if (number >= MAX_QUEUES) {
      throw new IllegalStateException("more than " + MAX_QUEUES + " wait queues in use at once");
    }
    return REGION.waitQueue("jcstress-queue-" + number, CAPACITY);
  }

  /** Returns an emptied queue (nobody waiting on it) to the pool. */
  static void giveBack(WaitQueue queue) {
    FREE.add(queue);
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
            .capacity(MAX_QUEUES)
            .regionSize(32L << 20)); // directory 8 MiB, queues 256 bytes each
  }
}
