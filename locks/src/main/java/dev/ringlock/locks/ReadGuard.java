package dev.ringlock.locks;

/** One shared hold of a {@link ReadWriteMutex}; releasing it twice is refused. */
public interface ReadGuard extends AutoCloseable {
  /**
   * Releases the hold.
   *
   * @throws IllegalStateException if it was released already
   * @throws RegionClosedException if the region was closed (which released the hold)
   */
  void unlock();

  /** Same as {@link #unlock()}, for try-with-resources. */
  @Override
  void close();
}
