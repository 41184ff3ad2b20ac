package dev.ringlock.core;

/**
 * This process cannot see other processes exit: pidfd_open is refused and /proc cannot stand in for
 * it. ringlock then refuses to open a region, because it could never take over a lock whose owner
 * died (a waiter would wait for ever). The message says what was refused and what to do.
 */
public final class ExitDetectionUnavailableException extends RingException {
  private static final long serialVersionUID = 1L;

  /**
   * Says what was refused and what to do.
   *
   * @param message what was refused and what to do
   * @param errno the errno of the refused call, or 0
   * @param cause the failure behind it, or null
   */
  public ExitDetectionUnavailableException(String message, int errno, Throwable cause) {
    super(message, errno, cause);
  }
}
