package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Where a seccomp filter refuses io_uring (Docker, containerd, Podman default profiles), ringlock
 * still runs: AUTO falls back to the syscalls backend, and so does every JVM such a process spawns,
 * since the filter is inherited.
 */
class IoUringRefusedTest {
  @Test
  @Timeout(180)
  void everyPrimitiveWorksInAJvmWhoseSeccompFilterRefusesIoUring() throws Exception {
    Path file = Path.of("/dev/shm", "ringlock-refused-" + ProcessHandle.current().pid());
    Path log = Files.createTempFile("ringlock-refused", ".log");
    try {
      Process child = ChildJvm.start(log, IoUringRefusedFlow.class, file.toString());
      assertTrue(child.waitFor(150, TimeUnit.SECONDS), "the child hung: " + Files.readString(log));
      assertEquals(0, child.exitValue(), Files.readString(log));
    } finally {
      Files.deleteIfExists(file);
      Files.deleteIfExists(log);
    }
  }
}
