package dev.ringlock.locks;

/** Proof of holding a {@link Mutex}: closing or unlocking it releases the mutex, once. */
public interface MutexGuard extends AutoCloseable {
  Mutex mutex();

  /**
   * Releases the mutex. If waiters in this process are queued, the lock may be handed to the oldest
   * directly; otherwise the word is cleared and, if someone sleeps on it, one sleeper is woken
   * through the ring.
   *
   * @throws IllegalStateException if this guard was already unlocked, or its region was closed
   */
  void unlock();

  /** Same as {@link #unlock()}. */
  @Override
  void close();

  /**
   * The fencing token of this acquisition: greater than every fence issued before for this mutex,
   * in any process (a 64-bit counter in the region). Hand it to a resource that rejects writes
   * carrying a smaller fence than it has seen, and a holder that lost the lock (paused, then
   * resumed after another took over) cannot corrupt it.
   */
  long fence();
}
