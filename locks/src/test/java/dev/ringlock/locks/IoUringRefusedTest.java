package dev.ringlock.locks;

import dev.ringlock.testsupport.Child;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
      try (Child child = Child.jvm(IoUringRefusedFlow.class, file.toString()).logTo(log).start()) {
        child.awaitSuccess(Duration.ofSeconds(150));
      }
    } finally {
      Files.deleteIfExists(file);
      Files.deleteIfExists(log);
    }
  }
}
