package dev.ringlock.core;

/**
 * This process cannot use io_uring futex operations. {@link #reason()} says which obstacle was
 * found, and the message says what to do about it. Thrown where io_uring is asked for ({@link
 * FutexRing.Backend#IO_URING}); on {@link FutexRing.Backend#AUTO} only where the futex-syscalls
 * backend is refused too (a suppressed exception says why).
 */
public final class IoUringUnavailableException extends RingException {
  private static final long serialVersionUID = 1L;

  /** The obstacles the capability probe tells apart. */
  public enum Reason {
    /** io_uring_setup is ENOSYS and no seccomp filter is installed: a kernel built without it. */
    NOT_IN_KERNEL(
        "this kernel has no io_uring (io_uring_setup is ENOSYS). The io_uring backend needs Linux"
            + " 6.7 or newer built with CONFIG_IO_URING=y; Backend.AUTO runs on futex system calls"
            + " instead"),
    /** sysctl kernel.io_uring_disabled=2 forbids io_uring to every process. */
    DISABLED_BY_SYSCTL(
        "io_uring is disabled for every process by sysctl kernel.io_uring_disabled=2. Set it to"
            + " 0 (sysctl -w kernel.io_uring_disabled=0), or to 1 and add this user to the group"
            + " in kernel.io_uring_group"),
    /** sysctl kernel.io_uring_disabled=1 and this process is not in kernel.io_uring_group. */
    DISABLED_FOR_UNPRIVILEGED(
        "io_uring is limited to privileged processes by sysctl kernel.io_uring_disabled=1. Add"
            + " this user to the group in kernel.io_uring_group, run with CAP_SYS_ADMIN, or set"
            + " the sysctl to 0"),
    /** A seccomp filter (a container runtime's default profile, for example) refuses io_uring. */
    BLOCKED_BY_SECCOMP(
        "a seccomp filter on this process refuses the io_uring system calls, as Docker's and"
            + " containerd's default profiles do. Run with a profile that allows io_uring_setup,"
            + " io_uring_enter and io_uring_register (docker run --security-opt"
            + " seccomp=<profile.json>, or a Kubernetes seccompProfile of type Localhost)"),
    /** io_uring is refused for another reason (an LSM policy, for example). */
    PERMISSION_DENIED(
        "io_uring_setup was refused (EPERM) although neither sysctl kernel.io_uring_disabled nor"
            + " seccomp forbids it; check the security policy (SELinux, AppArmor) that applies to"
            + " this process"),
    /** io_uring works but lacks the futex opcodes (Linux before 6.7), or a setup flag. */
    FUTEX_OPERATIONS_MISSING(
        "this kernel's io_uring lacks the futex operations (FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAITV)"
            + " or a setup flag ringlock needs (Linux 6.7 or newer); Backend.AUTO runs on futex"
            + " system calls instead (Linux 5.16 or newer)");

    private final String advice;

    Reason(String advice) {
      this.advice = advice;
    }

    /**
     * What the obstacle is and what to do about it.
     *
     * @return the advice, a sentence
     */
    public String advice() {
      return advice;
    }
  }

  /** The obstacle found. */
  private final Reason reason;

  /**
   * The obstacle {@code reason}, with its advice as the message.
   *
   * @param reason the obstacle found; its advice becomes the message
   * @param errno the errno of the refused call, or 0
   */
  public IoUringUnavailableException(Reason reason, int errno) {
    this(reason, errno, "");
  }

  /**
   * As {@link #IoUringUnavailableException(Reason, int)}, with what the probe saw.
   *
   * @param reason the obstacle found; its advice becomes the message
   * @param errno the errno of the refused call, or 0
   * @param detail what the probe saw ("io_uring_setup failed: EPERM"), or ""
   */
  public IoUringUnavailableException(Reason reason, int errno, String detail) {
    super(
        "io_uring futex operations are unavailable"
            + (detail.isEmpty() ? "" : " [" + detail + "]")
            + ": "
            + reason.advice(),
        errno);
    this.reason = reason;
  }

  /**
   * Which obstacle was found.
   *
   * @return the obstacle
   */
  public Reason reason() {
    return reason;
  }
}
