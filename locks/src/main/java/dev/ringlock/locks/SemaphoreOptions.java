package dev.ringlock.locks;

/**
 * How a {@link Semaphore} behaves, fixed when it is created: {@link SharedRegion#semaphore(String,
 * int, SemaphoreOptions)}. Every process that opens the semaphore must ask for the options it was
 * created with; {@link SharedRegion#semaphore(String, int)} asks for {@link #defaults()}.
 *
 * <pre>{@code
 * // a pool of 8 connections: a crashed process's connections come back (the default)
 * Semaphore pool = region.semaphore("db-connections", 8);
 * // a signal from producers to consumers: a crashed consumer's items were consumed for good
 * Semaphore items =
 *     region.semaphore("items", 0, SemaphoreOptions.builder().undoOnExit(false).build());
 * }</pre>
 */
public final class SemaphoreOptions {
  private static final SemaphoreOptions DEFAULTS = builder().build();

  private final boolean undoOnExit;

  private SemaphoreOptions(Builder builder) {
    this.undoOnExit = builder.undoOnExit;
  }

  /**
   * Undo on exit on.
   *
   * @return the default options: undo on exit on
   */
  public static SemaphoreOptions defaults() {
    return DEFAULTS;
  }

  /**
   * A builder that starts from {@link #defaults()}.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Whether the permits a process holds return to the semaphore when it exits (see {@link
   * Builder#undoOnExit(boolean)}).
   *
   * @return true if a process's permits return when it exits
   */
  public boolean undoOnExit() {
    return undoOnExit;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof SemaphoreOptions options && options.undoOnExit == undoOnExit;
  }

  @Override
  public int hashCode() {
    return Boolean.hashCode(undoOnExit);
  }

  @Override
  public String toString() {
    return "SemaphoreOptions[undoOnExit " + undoOnExit + "]";
  }

  /** A builder holding the defaults. */
  public static final class Builder {
    private boolean undoOnExit = true;

    private Builder() {}

    /**
     * On (the default), the semaphore records the permits each process holds, what it acquired
     * minus what it released (a release beyond that is refused: permits are owned), and gives a
     * process's holding back when the process exits, however and whenever it exits (SIGKILL
     * included), waking the waiters: SysV's SEM_UNDO. That is right for a pool of resources, where
     * a dead process's resources are free again. Such a semaphore holds at most {@link
     * Semaphore#MAX_UNDO_PERMITS} permits.
     *
     * <p>Off, permits are counts and nothing else: a process that dies keeps what it took. That is
     * right for a semaphore that signals between processes (a producer releases, a consumer
     * acquires), where a dead consumer's permits were consumed for good, and returning them would
     * announce items that are not there.
     *
     * @param enabled whether a process's permits return when it exits
     * @return this builder
     */
    public Builder undoOnExit(boolean enabled) {
      this.undoOnExit = enabled;
      return this;
    }

    /**
     * The options set so far.
     *
     * @return the options
     */
    public SemaphoreOptions build() {
      return new SemaphoreOptions(this);
    }
  }
}
