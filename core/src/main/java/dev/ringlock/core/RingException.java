package dev.ringlock.core;

import dev.ringlock.core.ffi.Errno;

/**
 * A ring operation failed in the kernel, or the ring itself failed. Carries the errno and its
 * symbolic name when a system call or a completion reported one (0 and "" otherwise).
 */
public class RingException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The errno the kernel reported, or 0. */
  private final int errno;

  /**
   * Says what failed, with the errno's name.
   *
   * @param message what failed; the errno's symbolic name is appended when there is one
   * @param errno the errno reported, or 0
   */
  public RingException(String message, int errno) {
    super(errno == 0 ? message : message + " (" + Errno.name(errno) + ")");
    this.errno = errno;
  }

  /**
   * Says what failed, with the errno's name and the failure behind it.
   *
   * @param message what failed; the errno's symbolic name is appended when there is one
   * @param errno the errno reported, or 0
   * @param cause the failure behind it
   */
  public RingException(String message, int errno, Throwable cause) {
    this(message, errno);
    initCause(cause);
  }

  /**
   * The errno reported, or 0.
   *
   * @return the errno, or 0 when no system call failed
   */
  public int errno() {
    return errno;
  }

  /**
   * The symbolic name of {@link #errno()} ("EINVAL"), or "" when there is none.
   *
   * @return the errno's name, or ""
   */
  public String errnoName() {
    return errno == 0 ? "" : Errno.name(errno);
  }
}
