package dev.ringlock.locks;

/**
 * The mutex is not recoverable: a process took it over from an owner that died holding it, and
 * released it without {@link MutexGuard#markConsistent()}, declaring the state it protects beyond
 * repair (POSIX's ENOTRECOVERABLE). Every later {@code lock()} and {@code tryLock()}, in every
 * process, fails with this. It stays so for the life of the region file: rebuild the protected
 * state and the region (delete the file once no process uses it), or use another mutex name.
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
