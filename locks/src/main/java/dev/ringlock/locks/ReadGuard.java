package dev.ringlock.locks;

/**
 * One shared hold of a {@link ReadWriteMutex}; unlocking it twice is refused, closing it after an
 * unlock is a no-op.
 */
public interface ReadGuard extends AutoCloseable {
  /**
   * Releases the hold. Of two threads that unlock one guard at once, exactly one releases it.
   *
   * @throws IllegalStateException if it was released already (by {@link #unlock()} or {@link
   *     #close()})
   * @throws RegionClosedException if the region was closed (which released the hold)
   */
  void unlock();

  /**
   * Releases the hold if nothing released it yet, else does nothing: as {@link AutoCloseable}
   * advises, closing twice has no effect, so {@code try (guard) { ...; guard.unlock(); }} does not
   * throw at the closing brace. A close racing an unlock releases the hold once.
   *
   * @throws RegionClosedException if the region was closed (which released the hold) before this
   *     guard was unlocked or closed
   */
  @Override
  void close();
}
