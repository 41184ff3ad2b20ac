package dev.ringlock.locks;

/** Proof of holding a {@link Mutex}: closing or unlocking it releases the mutex, once. */
public interface MutexGuard extends AutoCloseable {
  /**
   * The mutex this guard holds (or held).
   *
   * @return the mutex this guard holds or held
   */
  Mutex mutex();

  /**
   * Releases the mutex. If waiters in this process are queued, the lock may be handed to the oldest
   * directly; otherwise the word is cleared and, if someone sleeps on it, one sleeper is woken
   * through the ring.
   *
   * <p>If this guard {@link #ownerDied()} and was not {@link #markConsistent() marked consistent},
   * the mutex becomes not recoverable instead: every waiter, and every later acquisition in every
   * process, fails with {@link NotRecoverableException}.
   *
   * @throws IllegalStateException if this guard was already unlocked, or its region was closed
   */
  void unlock();

  /**
   * Releases the mutex as {@link #unlock()} does, unless this guard was already released: then it
   * does nothing, so {@code try (guard) { ...; guard.unlock(); }} is safe. A second explicit {@link
   * #unlock()} still throws.
   *
   * @throws IllegalStateException if the region was closed while this guard held the mutex
   */
  @Override
  void close();

  /**
   * The fencing token of this acquisition: greater than every fence issued before for this mutex,
   * in any process (a 64-bit counter in the region). Hand it to a resource that rejects writes
   * carrying a smaller fence than it has seen, and a holder that lost the lock (paused, then
   * resumed after another took over) cannot corrupt it.
   *
   * @return this acquisition's fence, greater than every earlier one of this mutex
   */
  long fence();

  /**
   * Whether this acquisition took the mutex over from a process that died holding it (killed, or
   * crashed): what the mutex protects may be half-updated. Repair it, then call {@link
   * #markConsistent()} before unlocking; unlocking without doing so makes the mutex not recoverable
   * (see {@link NotRecoverableException}), as a POSIX robust mutex does. If this holder dies too,
   * the next holder sees {@code ownerDied()} again.
   *
   * @return true if the previous owner died holding the mutex
   */
  boolean ownerDied();

  /**
   * Declares the state the mutex protects repaired after {@link #ownerDied()}: the mutex is then
   * consistent again and is released normally. Does nothing if the owner did not die (the mutex is
   * consistent already).
   *
   * @throws IllegalStateException if this guard was already unlocked
   */
  void markConsistent();
}
