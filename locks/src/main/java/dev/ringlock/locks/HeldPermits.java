package dev.ringlock.locks;

/**
 * Proof of holding permits of a {@link Semaphore}, from {@link Semaphore#acquirePermits(int)}:
 * closing or releasing it gives them back, exactly once, so it fits try-with-resources.
 *
 * <p>{@link #close()} after {@link #release()} does nothing (as {@link AutoCloseable} advises), so
 * {@code try (permits) { ...; permits.release(); }} is safe; a second {@link #release()} throws.
 */
public interface HeldPermits extends AutoCloseable {
  /**
   * The semaphore these permits belong to.
   *
   * @return the semaphore
   */
  Semaphore semaphore();

  /**
   * How many permits this token holds (or held).
   *
   * @return the permit count, positive
   */
  int permits();

  /**
   * Gives the permits back, as {@link Semaphore#release(int)} does.
   *
   * @throws IllegalStateException if they were already released through this token
   */
  void release();

  /** Gives the permits back unless this token already did; never throws for a second call. */
  @Override
  void close();

  /**
   * Whether this token has given its permits back.
   *
   * @return true once {@link #release()} or {@link #close()} has run
   */
  boolean isReleased();
}
