package dev.ringlock.core.ffi;

/**
 * A system call failed with {@code errno}. Layers below the public API throw it; the public face
 * turns it into the typed exception a user sees, so it never escapes the library.
 */
public final class ErrnoException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String call;
  private final int errno;

  public ErrnoException(String call, int errno) {
    super(call + " failed: " + Errno.name(errno));
    this.call = call;
    this.errno = errno;
  }

  /** Returns {@code result} when it is not negative; throws for a -errno result. */
  public static long check(String call, long result) {
    if (result < 0) {
      throw new ErrnoException(call, (int) -result);
    }
    return result;
  }

  public String call() {
    return call;
  }

  public int errno() {
    return errno;
  }
}
