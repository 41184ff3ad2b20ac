package dev.ringlock.core;

/**
 * The ring is closed (or closing): the operation was not started, or a pending one was cancelled in
 * the kernel before the ring's file descriptor was closed. Open a new ring, or use {@link
 * FutexRing#defaultRing()}, which stays open for the life of the JVM.
 */
public final class RingClosedException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  /**
   * Says which operation found the ring closed.
   *
   * @param message which operation found the ring closed
   */
  public RingClosedException(String message) {
    super(message);
  }

  /**
   * A ring that closed itself.
   *
   * @param message which operation found the ring closed
   * @param cause what closed it, when it closed itself
   */
  public RingClosedException(String message, Throwable cause) {
    super(message, cause);
  }
}
