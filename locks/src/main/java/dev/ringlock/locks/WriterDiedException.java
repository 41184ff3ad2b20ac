package dev.ringlock.locks;

/**
 * A read was refused because a writer died holding the {@link ReadWriteMutex} and no writer has
 * taken it over and repaired the state yet: what it protects may be half-written. Acquire it with
 * {@code write()}, whose guard reports {@link WriteGuard#ownerDied()}, repair the state, call
 * {@link WriteGuard#markConsistent()} and unlock; reads succeed again from then on.
 */
public final class WriterDiedException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  /**
   * Says which lock refuses readers, and what to do.
   *
   * @param message which lock, in which region, and what to do
   */
  public WriterDiedException(String message) {
    super(message);
  }
}
