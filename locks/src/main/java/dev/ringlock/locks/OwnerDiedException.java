package dev.ringlock.locks;

/**
 * Thrown by an acquisition through a {@link MutexLock} view with {@link OwnerDeathPolicy#REPORT}
 * that took the mutex over from a process that died holding it. The calling thread <b>holds the
 * mutex</b> when it catches this: what the mutex protects may be half-updated. Repair it, call
 * {@link MutexLock#markConsistent()}, then {@code unlock()}; unlocking without markConsistent makes
 * the mutex not recoverable. A view made with {@link OwnerDeathPolicy#RELEASE} never throws this.
 *
 * <pre>{@code
 * try {
 *   lock.lock();
 * } catch (OwnerDiedException e) {  // held: repair first
 *   repair();
 *   lock.markConsistent();
 * }
 * try { ... } finally { lock.unlock(); }
 * }</pre>
 */
public final class OwnerDiedException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  /**
   * Says which mutex was taken over, and what to do.
   *
   * @param message which mutex, and what the holder must do next
   */
  public OwnerDiedException(String message) {
    super(message);
  }
}
