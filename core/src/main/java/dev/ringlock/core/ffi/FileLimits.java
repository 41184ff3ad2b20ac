package dev.ringlock.core.ffi;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * What to tell a user whose process ran out of file descriptors: which limit ran out, its value and
 * what to do. Reading the limit needs no file descriptor (getrlimit), so it works at the very
 * moment the process has none left.
 */
public final class FileLimits {
  private static final int RLIMIT_NOFILE = 7; // the same on x86_64 and aarch64
  private static final long RLIM_INFINITY = -1L; // ~0UL

  private FileLimits() {}

  /** True for EMFILE and ENFILE: a process's or the system's file table is full. */
  public static boolean isExhaustion(int errno) {
    return errno == Errno.EMFILE || errno == Errno.ENFILE;
  }

  /**
   * A sentence explaining EMFILE or ENFILE from {@code call} ("pidfd_open"): what ran out, the
   * limit, what to do; null for any other errno.
   */
  public static String explain(String call, int errno) {
    if (errno == Errno.EMFILE) {
      return call
          + " found this process at its limit of open file descriptors (EMFILE; RLIMIT_NOFILE"
          + " soft limit "
          + describeLimit(softLimit())
          + "). Raise it (ulimit -n, LimitNOFILE= in a systemd unit, --ulimit nofile= for a"
          + " container) or close the files the application leaves open; ringlock itself holds a"
          + " few per ring and one pidfd per other process it is waiting on";
    }
    if (errno == Errno.ENFILE) {
      return call
          + " found the system's table of open files full (ENFILE; sysctl fs.file-max). Raise"
          + " fs.file-max or find the process that holds so many files";
    }
    return null;
  }

  /** This process's soft RLIMIT_NOFILE, RLIM_INFINITY (-1) for none, or -2 if unknown. */
  public static long softLimit() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment limit = arena.allocate(2 * Long.BYTES, Long.BYTES);
      if (Syscalls.getrlimit(RLIMIT_NOFILE, limit) != 0) {
        return -2;
      }
      return limit.get(JAVA_LONG, 0);
    }
  }

  private static String describeLimit(long limit) {
    if (limit == RLIM_INFINITY) {
      return "unlimited";
    }
    return limit < 0 ? "unknown" : Long.toString(limit);
  }
}
