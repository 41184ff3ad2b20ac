package dev.ringlock.locks;

/**
 * A {@link Semaphore} with undo on exit cannot record one more holding process: its table of
 * holders, which returns a dead process's permits, has an entry for each of {@link #capacity()}
 * other processes already. Thrown by {@code tryAcquire} and {@code drainPermits}, or the failure of
 * an {@code acquire}'s future; the permits were left in the semaphore (never taken unrecorded).
 */
public final class SemaphoreHoldersFullException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  /** How many holding processes the table records. */
  private final int capacity;

  /**
   * Says which semaphore's table is full, and what to do.
   *
   * @param semaphore the semaphore, as messages name it ("semaphore 'db' in region ...")
   * @param capacity how many holding processes its table records
   */
  public SemaphoreHoldersFullException(String semaphore, int capacity) {
    super(
        semaphore
            + " cannot record another holding process: all "
            + capacity
            + " entries of its holder table name processes that hold permits. A process leaves the"
            + " table when it has released all it acquired, or when it dies; have fewer processes"
            + " hold permits at once, or, if the semaphore signals between processes rather than"
            + " lending resources, create it with SemaphoreOptions.builder().undoOnExit(false),"
            + " which keeps no table");
    this.capacity = capacity;
  }

  /**
   * How many holding processes the table records.
   *
   * @return the holder table's capacity in processes
   */
  public int capacity() {
    return capacity;
  }
}
