package dev.ringlock.locks;

/**
 * A {@link WaitQueue} already holds as many waiters as its capacity allows. Thrown by {@code
 * await}, before anything was queued. A queue's capacity is fixed when it is created; the way out
 * is a queue created larger, under a new name.
 */
public final class WaitQueueFullException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  /** The queue's capacity. */
  private final int capacity;

  /**
   * Says which queue is full, and what to do.
   *
   * @param queue the queue, as messages name it ("wait queue 'jobs' in region ...")
   * @param capacity how many waiters it holds at once
   */
  public WaitQueueFullException(String queue, int capacity) {
    super(
        queue
            + " is full: all "
            + capacity
            + " of its slots hold waiters. A queue's capacity is fixed when it is created: create"
            + " a bigger one under a new name, with SharedRegion.waitQueue(name, capacity) or"
            + " RegionOptions.waitQueueCapacity (and a region large enough for it)");
    this.capacity = capacity;
  }

  /**
   * The queue's capacity: how many waiters it holds at once.
   *
   * @return the queue's capacity in waiters
   */
  public int capacity() {
    return capacity;
  }
}
