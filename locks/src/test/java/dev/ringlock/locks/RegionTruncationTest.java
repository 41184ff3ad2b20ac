package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.testsupport.Child;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A region file truncated under live processes: every JVM survives (no SIGBUS from a
 * compare-and-set on a page the file no longer covers), every operation on every primitive fails
 * afterwards and none hangs; in interpreted code each fails with InvalidRegionException(TRUNCATED),
 * never an InternalError (compiled code may surface the JVM's InternalError late: see
 * assertResults).
 *
 * <p>Two child JVMs. One (compiled as usual) runs a thread per primitive in loops before and after
 * the truncation, holding a mutex and a permit across it; its threads finish the operation they are
 * in and wait while the file shrinks. The other is interpreted only ({@code -Xint}), since an
 * interpreted compareAndSet is the one that dies of SIGBUS where a read throws InternalError, and
 * runs every operation once before and once after the truncation, on one thread. In both, each
 * operation's first access to the region after the truncation is deterministic, so each CAS on
 * region memory must come after a read of the same word: without that, PidLock.lock's leading CAS
 * killed the -Xint JVM every time.
 *
 * <p>Why the pause: an operation that is between its read and its CAS at the very instant the file
 * shrinks still dies of SIGBUS (no Java code can close that window; docs/validation.md). With the
 * threads looping through the truncation instead, a worker died in 2 of 6 runs here, always in an
 * interpreted frame (PidLock.casLock, MutexWords.casWord) whose read had passed just before.
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
    Path pause = Path.of(truncated + ".pause");
    Path interpretedLog = Files.createTempFile(unique, ".xint.log");
    Path compiledLog = Files.createTempFile(unique, ".log");
    List<Child> children = new ArrayList<>();
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
      for (Child child : children) {
        child.awaitStarted("READY");
      }
      Thread.sleep(1_000); // every operation runs before the file shrinks
      Files.createFile(pause); // the live worker's threads finish their operation and wait
      awaitLine(compiledLog, "PAUSED", 30);

      try (FileChannel file = FileChannel.open(regionFile, StandardOpenOption.WRITE)) {
        file.truncate(4096); // the header stays; the directory's tail and every object go
      }
      Files.createFile(truncated);
      Thread.sleep(1_500); // and keeps running after
      Files.createFile(stop);

      for (int i = 0; i < children.size(); i++) {
        Child child = children.get(i);
        int status = child.awaitExit(Duration.ofSeconds(40)); // fails with the log
        String output = child.log();
        assertEquals(0, status, "the worker JVM died (SIGBUS: 134 or 135): " + output);
        assertResults(output, i == 0);
      }
    } finally {
      children.forEach(Child::close);
      Files.deleteIfExists(regionFile);
      Files.deleteIfExists(stop);
      Files.deleteIfExists(truncated);
      Files.deleteIfExists(pause);
      Files.deleteIfExists(interpretedLog);
      Files.deleteIfExists(compiledLog);
    }
  }

  /**
   * Every primitive ran before and failed after, with nothing else going wrong: no future left
   * pending, no other exception. The interpreted worker gets TRUNCATED from every operation. The
   * compiled one may also see the JVM's own InternalError: in compiled code HotSpot delivers a
   * fault on a mapped page asynchronously, at a later safepoint poll, which may be in the caller
   * after ringlock's method has returned, where no catch of ours can turn it into TRUNCATED.
   */
  private static void assertResults(String output, boolean interpreted) {
    int primitives = 0;
    for (String line : output.lines().toList()) {
      Matcher result = RESULT.matcher(line);
      if (!result.matches()) {
        continue;
      }
      primitives++;
      String name = result.group(1);
      int truncated = Integer.parseInt(result.group(3));
      int leaked = Integer.parseInt(result.group(5));
      assertTrue(Integer.parseInt(result.group(2)) > 0, name + " never ran: " + line);
      if (interpreted) {
        assertTrue(truncated > 0, name + " never failed as TRUNCATED: " + line);
        assertEquals(0, leaked, name + " leaked an InternalError: " + line);
      } else {
        assertTrue(truncated + leaked > 0, name + " never failed after the truncation: " + line);
      }
      assertEquals("0", result.group(6), name + " left a future hanging: " + line);
      assertEquals("0", result.group(7), name + " failed otherwise: " + line);
    }
    assertTrue(primitives >= 5, output);
  }

  private static Child start(
      List<String> jvmOptions, Path regionFile, Path stop, Path truncated, String mode, Path log)
      throws Exception {
    return Child.jvm(
            TruncationWorker.class,
            regionFile.toString(),
            stop.toString(),
            truncated.toString(),
            mode)
        .jvmOptions(jvmOptions)
        .logTo(log)
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
