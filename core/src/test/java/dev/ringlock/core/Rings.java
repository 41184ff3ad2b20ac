package dev.ringlock.core;

import java.util.concurrent.TimeUnit;

/** What the core tests that hold a ring's threads at a step share about rings. */
final class Rings {
  private Rings() {}

  /**
   * Waits until the ring's backend threads have taken their queues into the kernel and sit there: a
   * wake through the ring settles them first (on the syscalls backend it waits for its waitv
   * threads to be back in the kernel), so wakes of a word nobody waits on are made until the
   * completion thread reads as asleep, and one more after that. Gives up after {@code seconds}.
   *
   * @throws AssertionError if such a wake woke anybody: nobody waits on that word
   */
  static void awaitSettled(FutexRing ring, long seconds) throws Exception {
    FutexWord nobody = new Words(1).word(0);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    do {
      wakeNobody(ring, nobody, seconds);
      Thread.sleep(1);
    } while (!ring.completionThreadAsleep() && System.nanoTime() < deadline);
    wakeNobody(ring, nobody, seconds);
  }

  private static void wakeNobody(FutexRing ring, FutexWord nobody, long seconds) throws Exception {
    int woken = ring.wake(nobody, 1).get(seconds, TimeUnit.SECONDS);
    if (woken != 0) {
      throw new AssertionError("a wake of a word nobody waits on woke " + woken);
    }
  }
}
