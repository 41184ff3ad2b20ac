package dev.ringlock.locks.internal;

/**
 * Work on a wait queue that needs its list lock, from a thread that must not wait for it (see
 * WaitQueueCore's overview, Never waiting); {@link WaitQueueTasks} runs it now or defers it.
 */
@FunctionalInterface
interface WaitQueueTask {
  /**
   * Under the list lock and inside the internal guard: does the work, adding to {@code batch} the
   * process bits to wake and what to do once the lock and the guard are left (complete futures: a
   * continuation may call close()).
   */
  void underLock(WaitQueueBatch batch);

  /** The list lock was busy: the task waits in line. Runs outside the lock, before it waits. */
  default void deferred() {}

  /** It will never run: the region is damaged, the ring failed, or the queue closed first. */
  default void abandoned(RuntimeException cause) {}
}
