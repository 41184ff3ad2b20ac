package dev.ringlock.locks;

/** The exclusive hold of a {@link ReadWriteMutex}; releasing it twice is refused. */
public interface WriteGuard extends AutoCloseable {
  /**
   * Releases the hold. If this hold took over from a writer that died and {@link #markConsistent()}
   * was not called, the lock becomes not recoverable.
   *
   * @throws IllegalStateException if it was released (or downgraded) already
   * @throws RegionClosedException if the region was closed (which released the hold)
   */
  void unlock();

  /** Same as {@link #unlock()}, for try-with-resources. */
  @Override
  void close();

  /**
   * Strictly increasing per lock across all processes: a token for fencing writes elsewhere.
   *
   * @return this hold's fence, greater than every earlier write hold's of this lock
   */
  long fence();

  /**
   * Whether this write hold took over from a writer that died holding the lock.
   *
   * @return true if the previous writer died holding the lock
   */
  boolean ownerDied();

  /** The state a dead writer left has been repaired: readers may enter again after this hold. */
  void markConsistent();

  /**
   * Turns this write hold into a read hold in one step: no writer gets in between, and readers may
   * enter alongside. There is no upgrade: two readers that both wanted to upgrade would each wait
   * for the other to leave; release the read hold and {@code write()} instead.
   *
   * @return the read guard that replaces this write hold
   * @throws IllegalStateException if released already, or if this hold took over from a dead writer
   *     and has not marked the state consistent (unlock it, or mark it first)
   */
  ReadGuard downgrade();
}
