package dev.ringlock.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.ffi.Errno;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
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
  private static final int SYS_PIDFD_OPEN = 434;

  @ParameterizedTest
  @ValueSource(ints = {Errno.ENOSYS, Errno.EPERM})
  void exitsAreSeenThroughProcWhenPidfdOpenIsRefused(int errno) throws Exception {
    Process child =
        JvmProcess.startReadingOutput(
            SeccompChild.class,
            "refuse",
            Integer.toString(errno),
            Integer.toString(SYS_PIDFD_OPEN),
            ProcessWatchFallbackChild.class.getName());
    // Read to the end (the child's exit); the class's timeout bounds a child that hangs.
    String report = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the child did not finish");
    System.out.println(Errno.name(errno) + ":\n" + report);
    assertEquals(0, child.exitValue(), "the child under " + Errno.name(errno) + ":\n" + report);
    assertTrue(report.contains("exit noticed"), report);
  }
}
