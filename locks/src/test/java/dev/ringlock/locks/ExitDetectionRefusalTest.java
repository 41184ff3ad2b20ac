package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.testsupport.Child;
import dev.ringlock.testsupport.SeccompFilter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where pidfd_open is refused and /proc cannot be read either, no owner's death could ever be seen,
 * so SharedRegion.open refuses, naming pidfd_open, and creates no file: a child JVM under a seccomp
 * filter refusing pidfd_open, in a mount namespace with /proc unmounted (CI runs as root).
 */
@Timeout(60)
class ExitDetectionRefusalTest {
  @TempDir Path directory;

  @Test
  void withNeitherPidfdNorProcTheOpenIsRefusedNamingPidfdOpen() throws Exception {
    Path region = directory.resolve("region");
    Path log = directory.resolve("child.log");
    try (Child child =
        Child.jvm(RefusedOpenChild.class, region.toString())
            .refusing(38 /* ENOSYS */, SeccompFilter.SYS_PIDFD_OPEN)
            .withoutProc()
            .logTo(log)
            .start()) {
      assertTrue(child.waitFor(Duration.ofSeconds(45)), "the child did not finish");
    }
    List<String> output = Files.readAllLines(log);
    System.out.println(String.join("\n", output));
    String refused =
        output.stream()
            .filter(line -> line.startsWith("REFUSED "))
            .findFirst()
            .orElseThrow(() -> new AssertionError("not refused: " + output));
    assertTrue(refused.contains("pidfd_open is refused (ENOSYS"), refused);
    assertTrue(refused.contains("/proc"), refused);
    assertTrue(refused.contains("syscall 434"), refused);
    assertTrue(output.contains("FILE EXISTS false"), "the open created the file: " + output);
    assertTrue(Files.notExists(region));
  }
}
