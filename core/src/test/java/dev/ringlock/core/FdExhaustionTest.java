package dev.ringlock.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
      Process child =
          JvmProcess.startWithFileLimit(64, FdExhaustionChild.class, regionFile.toString());
      String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(child.waitFor(30, TimeUnit.SECONDS));
      System.out.println(output);
      assertEquals(0, child.exitValue(), output);
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
    } finally {
      Files.deleteIfExists(regionFile);
    }
  }
}
