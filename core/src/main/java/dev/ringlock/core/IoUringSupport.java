package dev.ringlock.core;

import dev.ringlock.core.IoUringUnavailableException.Reason;
import dev.ringlock.core.ffi.Errno;
import dev.ringlock.core.ffi.ErrnoException;
import dev.ringlock.core.ffi.FileLimits;
import dev.ringlock.core.uring.IoUringAbi;
import dev.ringlock.core.uring.Ring;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.StringJoiner;

/*
 * Overview
 *
 * The capability probe run when a ring opens, and the classification of its failures into one
 * IoUringUnavailableException.Reason each. The kernel's answers alone do not say why io_uring
 * is refused (EPERM and ENOSYS each have several causes), so the probe reads the two places
 * that do: /proc/sys/kernel/io_uring_disabled (Linux 6.6+) and the Seccomp field of
 * /proc/thread-self/status (2 = a filter is installed). Filters are per thread, and
 * /proc/self describes the thread-group leader, which may have none; explain() runs on the
 * thread whose call failed, so thread-self is the one that matters.
 *
 * Probe order: io_uring_setup (ENOSYS, EPERM, or EINVAL for setup flags older kernels lack);
 * IORING_REGISTER_PROBE for the opcodes ringlock submits (FUTEX_* arrived in 6.7); a NOP
 * through io_uring_enter, because a filter may allow setup and refuse enter.
 */
final class IoUringSupport {
  private static final byte[] REQUIRED_OPCODES = {
    IoUringAbi.OP_NOP,
    IoUringAbi.OP_POLL_ADD,
    IoUringAbi.OP_TIMEOUT,
    IoUringAbi.OP_ASYNC_CANCEL,
    IoUringAbi.OP_LINK_TIMEOUT,
    IoUringAbi.OP_READ,
    IoUringAbi.OP_FUTEX_WAIT,
    IoUringAbi.OP_FUTEX_WAKE,
    IoUringAbi.OP_FUTEX_WAITV
  };

  private IoUringSupport() {}

  static void requireFutexOperations(Ring ring) {
    BitSet supported = ring.supportedOpcodes();
    StringJoiner missing = new StringJoiner(", ");
    for (byte opcode : REQUIRED_OPCODES) {
      if (!supported.get(opcode)) {
        missing.add("opcode " + opcode);
      }
    }
    if (missing.length() > 0) {
      throw new IoUringUnavailableException(
          Reason.FUTEX_OPERATIONS_MISSING, 0, "missing " + missing);
    }
  }

  /**
   * @param nopResult what a NOP, submitted and waited for in one io_uring_enter, completed with: an
   *     errno there means the kernel refuses io_uring_enter (seccomp, say)
   */
  static void requireWorkingEnter(int nopResult) {
    if (nopResult < 0) {
      throw new ErrnoException("io_uring_enter", -nopResult);
    }
  }

  /** Turns a failure to start the ring into the exception its opener sees. */
  static RuntimeException explain(Throwable failure) {
    if (failure instanceof ErrnoException e) {
      boolean setup = e.call().equals("io_uring_setup");
      if (setup || e.call().equals("io_uring_enter")) {
        Reason reason = classify(e.errno(), setup, seccompMode(), ioUringDisabled());
        if (reason != null) {
          return new IoUringUnavailableException(reason, e.errno(), e.getMessage());
        }
      }
      String outOfFiles = FileLimits.explain(e.call(), e.errno());
      if (outOfFiles != null) {
        return new RingException("could not start the ring: " + outOfFiles, e.errno(), e);
      }
      return new RingException("could not start the ring: " + e.getMessage(), e.errno(), e);
    }
    if (failure instanceof RuntimeException e) {
      return e;
    }
    return new RingException("could not start the ring: " + failure, 0, failure);
  }

  /**
   * Why io_uring is unavailable, or null when {@code errno} is no availability problem (ENOMEM,
   * EMFILE: plain resource failures).
   *
   * @param seccompMode the Seccomp field of /proc/thread-self/status (0 none, 1 strict, 2 filter),
   *     -1 if unknown
   * @param ioUringDisabled kernel.io_uring_disabled (0 when the sysctl does not exist)
   */
  static Reason classify(int errno, boolean duringSetup, int seccompMode, int ioUringDisabled) {
    boolean filtered = seccompMode == 2;
    return switch (errno) {
      case Errno.ENOSYS -> filtered ? Reason.BLOCKED_BY_SECCOMP : Reason.NOT_IN_KERNEL;
      case Errno.EPERM, Errno.EACCES -> {
        if (duringSetup && ioUringDisabled == 2) {
          yield Reason.DISABLED_BY_SYSCTL;
        }
        if (duringSetup && ioUringDisabled == 1) {
          yield Reason.DISABLED_FOR_UNPRIVILEGED;
        }
        yield filtered ? Reason.BLOCKED_BY_SECCOMP : Reason.PERMISSION_DENIED;
      }
      case Errno.EINVAL -> duringSetup ? Reason.FUTEX_OPERATIONS_MISSING : null;
      default -> null;
    };
  }

  static int seccompMode() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/thread-self/status"))) {
        if (line.startsWith("Seccomp:")) {
          return Integer.parseInt(line.substring("Seccomp:".length()).trim());
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }

  static int ioUringDisabled() {
    try {
      return Integer.parseInt(
          Files.readString(Path.of("/proc/sys/kernel/io_uring_disabled")).trim());
    } catch (IOException | NumberFormatException e) {
      return 0; // before Linux 6.6 the sysctl does not exist, and nothing is disabled by it
    }
  }
}
