package dev.ringlock.locks.internal;

import dev.ringlock.locks.HeldPermits;
import dev.ringlock.locks.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The {@link HeldPermits} of one acquisition: a compare-and-set decides which of release and close
 * gives the permits back, so they go back exactly once however the two race.
 */
public final class PermitsToken implements HeldPermits {
  private final Semaphore semaphore;
  private final int permits;
  private final AtomicBoolean released = new AtomicBoolean(); // false until the permits went back

  /**
   * A token for {@code permits} permits the caller holds of {@code semaphore}.
   *
   * @param semaphore the semaphore they were acquired from
   * @param permits how many
   */
  public PermitsToken(Semaphore semaphore, int permits) {
    this.semaphore = semaphore;
    this.permits = permits;
  }

  @Override
  public Semaphore semaphore() {
    return semaphore;
  }

  @Override
  public int permits() {
    return permits;
  }

  @Override
  public void release() {
    if (!released.compareAndSet(false, true)) {
      throw new IllegalStateException(
          "these "
              + permits
              + " permits of semaphore '"
              + semaphore.name()
              + "' were already released");
    }
    giveBack();
  }

  @Override
  public void close() {
    if (released.compareAndSet(false, true)) {
      giveBack();
    }
  }

  /** A refused release changes nothing (see Semaphore.release): the token still holds them. */
  private void giveBack() {
    try {
      semaphore.release(permits);
    } catch (RuntimeException refused) {
      released.set(false);
      throw refused;
    }
  }

  @Override
  public boolean isReleased() {
    return released.get();
  }

  @Override
  public String toString() {
    return "HeldPermits["
        + semaphore.name()
        + ", "
        + permits
        + (released.get() ? ", released" : "")
        + "]";
  }
}
