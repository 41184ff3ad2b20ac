package dev.ringlock.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.IoUringUnavailableException.Reason;
import dev.ringlock.core.ffi.Errno;
import dev.ringlock.core.ffi.ErrnoException;
import dev.ringlock.testsupport.Child;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(120)
class IoUringSupportTest {
  @Test
  void eachObstacleIsToldApart() {
    assertEquals(Reason.NOT_IN_KERNEL, IoUringSupport.classify(Errno.ENOSYS, true, 0, 0));
    assertEquals(Reason.BLOCKED_BY_SECCOMP, IoUringSupport.classify(Errno.ENOSYS, true, 2, 0));
    assertEquals(Reason.DISABLED_BY_SYSCTL, IoUringSupport.classify(Errno.EPERM, true, 0, 2));
    assertEquals(
        Reason.DISABLED_FOR_UNPRIVILEGED, IoUringSupport.classify(Errno.EPERM, true, 0, 1));
    assertEquals(Reason.BLOCKED_BY_SECCOMP, IoUringSupport.classify(Errno.EPERM, true, 2, 0));
    assertEquals(Reason.BLOCKED_BY_SECCOMP, IoUringSupport.classify(Errno.EPERM, false, 2, 0));
    assertEquals(Reason.PERMISSION_DENIED, IoUringSupport.classify(Errno.EPERM, true, 0, 0));
    assertEquals(
        Reason.FUTEX_OPERATIONS_MISSING, IoUringSupport.classify(Errno.EINVAL, true, 0, 0));
    assertNull(IoUringSupport.classify(Errno.ENOMEM, true, 0, 0));
  }

  @Test
  void aResourceFailureIsARingExceptionWithItsErrno() {
    RuntimeException explained =
        IoUringSupport.explain(new ErrnoException("io_uring_setup", Errno.ENOMEM));
    RingException failure = assertInstanceOf(RingException.class, explained);
    assertEquals("ENOMEM", failure.errnoName());
    assertTrue(failure.getMessage().contains("io_uring_setup"));
  }

  @Test
  void thisMachineHasNoObstacle() {
    assertEquals(0, IoUringSupport.ioUringDisabled());
    assertEquals(0, IoUringSupport.seccompMode());
  }

  @Test
  void aSeccompFilterThatRefusesIoUringIsNamedAsSuch() throws Exception {
    for (int errno : new int[] {Errno.EPERM, Errno.ENOSYS}) {
      try (Child child =
          Child.jvm(SeccompChild.class, Integer.toString(errno), "io_uring").start()) {
        int status = child.awaitExit(Duration.ofSeconds(60));
        assertEquals(
            SeccompChild.EXIT_BASE + Reason.BLOCKED_BY_SECCOMP.ordinal(),
            status,
            "the child (filter answering " + Errno.name(errno) + ") exited " + status);
      }
    }
  }

  @Test
  void underAFilterThatRefusesIoUringAutoRunsOnTheSyscallsBackend() throws Exception {
    for (int errno : new int[] {Errno.EPERM, Errno.ENOSYS}) {
      try (Child child = Child.jvm(SeccompChild.class, Integer.toString(errno), "auto").start()) {
        int status = child.awaitExit(Duration.ofSeconds(60));
        assertEquals(
            0, status, "the child (filter answering " + Errno.name(errno) + ") exited " + status);
      }
    }
  }
}
