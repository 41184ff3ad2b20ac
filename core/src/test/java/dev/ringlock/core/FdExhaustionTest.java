package dev.ringlock.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.testsupport.Child;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A process out of file descriptors (EMFILE) is told so, with the limit and what to do, whether it
 * runs out opening a pidfd, a ring or a region file: a child JVM under ulimit -n 64 that uses up
 * the rest.
 */
@Timeout(120)
class FdExhaustionTest {
  @Test
  void runningOutOfFileDescriptorsSaysWhichLimitAndWhatToDo() throws Exception {
    Path regionFile =
        Path.of("/dev/shm", "ringlock-fd-exhaustion-" + ProcessHandle.current().pid());
    try {
      try (Child child =
          Child.jvm(FdExhaustionChild.class, regionFile.toString())
              .fileLimit(64)
              .captureStdout()
              .start()) {
        int status = child.awaitExit(Duration.ofSeconds(100));
        String output = child.output();
        System.out.println(output);
        assertEquals(0, status, output);
        List<String> lines = output.lines().toList();
        for (String what : List.of("pidfd", "ring", "region")) {
          String line =
              lines.stream()
                  .filter(l -> l.startsWith("MESSAGE " + what + ":"))
                  .findFirst()
                  .orElseThrow(() -> new AssertionError("no failure for " + what + ": " + output));
          assertTrue(line.contains("EMFILE"), line);
          assertTrue(line.contains("RLIMIT_NOFILE soft limit 64"), line);
          assertTrue(line.contains("ulimit -n"), line);
        }
      }
    } finally {
      Files.deleteIfExists(regionFile);
    }
  }
}
