package dev.ringlock.locks;

/**
 * The mutex is not recoverable: a process took it over from an owner that died holding it, and
 * released it without {@link MutexGuard#markConsistent()}, declaring the state it protects beyond
 * repair (POSIX's ENOTRECOVERABLE). Every later {@code lock()} and {@code tryLock()}, in every
 * process, fails with this. It stays so for the life of the region file, unless an operator who has
 * checked or rebuilt the protected state resets it ({@link Mutex#resetNotRecoverable()}, or {@code
 * ringlock reset FILE NAME}).
 */
public final class NotRecoverableException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  /**
   * Says which mutex is not recoverable.
   *
   * @param message which mutex, in which region, and what to do
   */
  public NotRecoverableException(String message) {
    super(message);
  }
}
