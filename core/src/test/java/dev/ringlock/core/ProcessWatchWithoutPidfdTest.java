package dev.ringlock.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.ffi.Errno;
import dev.ringlock.testsupport.Child;
import dev.ringlock.testsupport.SeccompFilter;
import java.time.Duration;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Where a seccomp filter refuses pidfd_open, ProcessWatch follows processes through /proc: a child
 * JVM under such a filter (ENOSYS, as gVisor answers, and EPERM, as a container profile does) sees
 * a SIGKILLed process exit, calls a zombie dead, and leaves no entry behind a cancelled watch.
 */
@Timeout(120)
class ProcessWatchWithoutPidfdTest {
  @ParameterizedTest
  @ValueSource(ints = {Errno.ENOSYS, Errno.EPERM})
  void exitsAreSeenThroughProcWhenPidfdOpenIsRefused(int errno) throws Exception {
    try (Child child =
        Child.jvm(ProcessWatchFallbackChild.class)
            .refusing(errno, SeccompFilter.SYS_PIDFD_OPEN)
            .captureStdout()
            .start()) {
      // Waits for the child's exit; the class's timeout bounds a child that hangs.
      int status = child.awaitExit(Duration.ofSeconds(110));
      String report = child.output();
      System.out.println(Errno.name(errno) + ":\n" + report);
      assertEquals(0, status, "the child under " + Errno.name(errno) + ":\n" + report);
      assertTrue(report.contains("exit noticed"), report);
    }
  }
}
