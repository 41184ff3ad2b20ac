package dev.ringlock.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.IoUringUnavailableException.Reason;
import dev.ringlock.core.ffi.Errno;
import dev.ringlock.core.ffi.ErrnoException;
import java.util.concurrent.TimeUnit;
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
      Process child = JvmProcess.start(SeccompChild.class, Integer.toString(errno), "io_uring");
      assertTrue(child.waitFor(60, TimeUnit.SECONDS));
      assertEquals(
          SeccompChild.EXIT_BASE + Reason.BLOCKED_BY_SECCOMP.ordinal(),
          child.exitValue(),
          "the child (filter answering " + Errno.name(errno) + ") exited " + child.exitValue());
    }
  }

  @Test
  void underAFilterThatRefusesIoUringAutoRunsOnTheSyscallsBackend() throws Exception {
    for (int errno : new int[] {Errno.EPERM, Errno.ENOSYS}) {
      Process child = JvmProcess.start(SeccompChild.class, Integer.toString(errno), "auto");
      assertTrue(child.waitFor(60, TimeUnit.SECONDS));
      assertEquals(
          0,
          child.exitValue(),
          "the child (filter answering " + Errno.name(errno) + ") exited " + child.exitValue());
    }
  }
}
