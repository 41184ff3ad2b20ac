package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.ProcessWatch;
import dev.ringlock.testsupport.Child;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Under ulimit -n 64, a process whose mutex was owned in turn by 45 live processes (tryLock against
 * each, then one waiting lock() that watched each owner) holds at most the pidfd of the owner it
 * waits on now and those of the few owners whose watches linger (ProcessWatch.MAX_LINGERING), and
 * the application can still open its own files. Before, every owner ever asked about kept a pidfd
 * for its lifetime: 45 of the 64 descriptors.
 */
@Timeout(120)
class PidfdBoundTest {
  private static final int PEERS = 45;
  private static final int APPLICATION_FILES = 20;

  @TempDir Path directory;

  @Test
  void aWaitingAcquireLeavesFileDescriptorsForTheApplication() throws Exception {
    Path region = directory.resolve("region");
    SharedRegion.open(region).close();
    Path log = directory.resolve("child.log");
    int status;
    try (Child child =
        Child.jvm(
                FdBoundChild.class,
                region.toString(),
                Integer.toString(PEERS),
                Integer.toString(APPLICATION_FILES))
            .fileLimit(64)
            .logTo(log)
            .start()) {
      status = child.awaitExit(Duration.ofSeconds(100));
    }
    List<String> output = Files.readAllLines(log);
    System.out.println(String.join("\n", output));
    assertEquals(0, status, "the child exited " + status + ": " + output);
    int pidfds =
        output.stream()
            .filter(line -> line.startsWith("PIDFDS "))
            .mapToInt(line -> Integer.parseInt(line.substring("PIDFDS ".length()).trim()))
            .findFirst()
            .orElseThrow();
    assertTrue(
        pidfds <= 1 + ProcessWatch.MAX_LINGERING,
        "one waiting acquire holds " + pidfds + " pidfds: " + output);
    assertTrue(
        output.contains("OPENED " + APPLICATION_FILES), "the application's opens: " + output);
    assertTrue(output.stream().anyMatch(line -> line.startsWith("TOOK true")), output.toString());
    assertTrue(output.stream().noneMatch(line -> line.startsWith("FAIL")), output.toString());
  }
}
