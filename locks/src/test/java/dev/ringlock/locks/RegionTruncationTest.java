package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A region file truncated under live processes: every JVM survives (no SIGBUS from a
 * compare-and-set on a page the file no longer covers), and every operation on every primitive
 * fails with InvalidRegionException(TRUNCATED), never an InternalError, and never hangs.
 *
 * <p>Two child JVMs. One runs a thread per primitive, looping through the truncation. The other is
 * interpreted only ({@code -Xint}), since an interpreted compareAndSet is the one that dies of
 * SIGBUS where a read throws InternalError, and runs every operation once before and once after the
 * truncation, on one thread: deterministically, each operation's first access comes after the file
 * shrank, so each CAS on region memory must come after a read of the same word (without that,
 * PidLock.lock's leading CAS killed this JVM). A CAS already past its read at the very instant of a
 * truncation still kills a JVM; the looping worker is paced so that this window is rarely open.
 */
@Timeout(120)
class RegionTruncationTest {
  private static final Pattern RESULT =
      Pattern.compile(
          "RESULT (\\S+) done=(\\d+) truncated=(\\d+) timedOut=(\\d+) leaked=(\\d+) hung=(\\d+)"
              + " other=(\\d+) first=(.*)");

  @Test
  void truncatingTheFileUnderLiveProcessesKillsNoJvmAndFailsEveryOperationAsTruncated()
      throws Exception {
    String unique = "ringlock-truncation-" + ProcessHandle.current().pid();
    Path regionFile = Path.of("/dev/shm", unique);
    Path stop = Path.of("/dev/shm", unique + ".stop");
    Path truncated = Path.of("/dev/shm", unique + ".truncated");
    Path interpretedLog = Files.createTempFile(unique, ".xint.log");
    Path compiledLog = Files.createTempFile(unique, ".log");
    List<Process> children = new ArrayList<>();
    try {
      // created here, so both children attach to one file of the default size
      SharedRegion.open(regionFile).close();
      // A JVM killed by SIGBUS writes its hs_err file beside the logs, not into the source tree.
      String errorFile =
          "-XX:ErrorFile=" + interpretedLog.getParent().resolve(unique + "-hs_err_%p.log");
      children.add(
          start(
              List.of("-Xint", errorFile),
              regionFile,
              stop,
              truncated,
              "sequential",
              interpretedLog));
      children.add(start(List.of(errorFile), regionFile, stop, truncated, "live", compiledLog));
      for (Path log : List.of(interpretedLog, compiledLog)) {
        awaitLine(log, "READY", 60);
      }
      Thread.sleep(1_000); // every operation runs before the file shrinks

      try (FileChannel file = FileChannel.open(regionFile, StandardOpenOption.WRITE)) {
        file.truncate(4096); // the header stays; the directory's tail and every object go
      }
      Files.createFile(truncated);
      Thread.sleep(1_500); // and keeps running after
      Files.createFile(stop);

      for (int i = 0; i < children.size(); i++) {
        Process child = children.get(i);
        Path log = i == 0 ? interpretedLog : compiledLog;
        assertTrue(child.waitFor(40, TimeUnit.SECONDS), "a worker did not stop: " + read(log));
        String output = read(log);
        assertEquals(0, child.exitValue(), "the worker JVM died (SIGBUS: 134 or 135): " + output);
        assertResults(output);
      }
    } finally {
      children.forEach(Process::destroyForcibly);
      Files.deleteIfExists(regionFile);
      Files.deleteIfExists(stop);
      Files.deleteIfExists(truncated);
      Files.deleteIfExists(interpretedLog);
      Files.deleteIfExists(compiledLog);
    }
  }

  /** Every primitive ran before, failed as TRUNCATED after, and nothing else went wrong. */
  private static void assertResults(String output) {
    int primitives = 0;
    for (String line : output.lines().toList()) {
      Matcher result = RESULT.matcher(line);
      if (!result.matches()) {
        continue;
      }
      primitives++;
      String name = result.group(1);
      assertTrue(Integer.parseInt(result.group(2)) > 0, name + " never ran: " + line);
      assertTrue(
          Integer.parseInt(result.group(3)) > 0, name + " never failed as TRUNCATED: " + line);
      assertEquals("0", result.group(5), name + " leaked an InternalError: " + line);
      assertEquals("0", result.group(6), name + " left a future hanging: " + line);
      assertEquals("0", result.group(7), name + " failed otherwise: " + line);
    }
    assertEquals(5, primitives, output);
  }

  private static Process start(
      List<String> jvmOptions, Path regionFile, Path stop, Path truncated, String mode, Path log)
      throws Exception {
    return new ProcessBuilder(
            ChildJvm.command(
                jvmOptions,
                TruncationWorker.class,
                regionFile.toString(),
                stop.toString(),
                truncated.toString(),
                mode))
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
  }

  private static void awaitLine(Path log, String line, int seconds) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!read(log).lines().anyMatch(l -> l.startsWith(line))) {
      assertTrue(System.nanoTime() < deadline, "no " + line + " from a worker: " + read(log));
      Thread.sleep(20);
    }
  }

  private static String read(Path log) throws Exception {
    return Files.readString(log);
  }
}
