package dev.ringlock.locks;

/**
 * The exclusive hold of a {@link ReadWriteMutex}; unlocking (or downgrading) it twice is refused,
 * closing it after an unlock or a downgrade is a no-op.
 */
public interface WriteGuard extends AutoCloseable {
  /**
   * Releases the hold. If this hold took over from a writer that died and {@link #markConsistent()}
   * was not called, the lock becomes not recoverable. Of two threads that unlock one guard at once,
   * exactly one releases it.
   *
   * @throws IllegalStateException if it was released (by {@link #unlock()} or {@link #close()}) or
   *     downgraded already
   * @throws RegionClosedException if the region was closed (which released the hold)
   */
  void unlock();

  /**
   * Releases the hold if nothing released or downgraded it yet, else does nothing: as {@link
   * AutoCloseable} advises, closing twice has no effect, so {@code try (guard) { ...;
   * guard.unlock(); }} and {@code try (guard) { ...; reader = guard.downgrade(); }} do not throw at
   * the closing brace (the read guard a downgrade returned stays held). A close racing an unlock
   * releases the hold once. Like {@link #unlock()}, closing an unrepaired takeover makes the lock
   * not recoverable.
   *
   * @throws RegionClosedException if the region was closed (which released the hold) before this
   *     guard was unlocked, downgraded or closed
   */
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
