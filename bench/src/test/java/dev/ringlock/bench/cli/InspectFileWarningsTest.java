package dev.ringlock.bench.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import dev.ringlock.bench.cli.InspectCommandTest.Run;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.internal.MutexDescriptor;
import dev.ringlock.locks.internal.ObjectStatsDescriptor;
import dev.ringlock.testsupport.Child;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * inspect opens what open refuses for its owner or mode, and says what is wrong; it shows processes
 * that still map a deleted or replaced earlier file of the path; it refuses a FIFO without
 * blocking.
 */
@Timeout(60)
class InspectFileWarningsTest {
  private static final long SIZE = 64 * 1024;
  private static final int CAPACITY = 8;
  private static final long OUR_PID = ProcessHandle.current().pid();

  @TempDir Path directory;

  @Test
  void regionOthersCanWriteIsInspectedWithAWarningLineAndJsonField() throws Exception {
    Path file = region("open-to-all");
    Run clean = InspectCommandTest.ringlock("inspect", file.toString());
    assertEquals(0, clean.exitCode(), clean.err());
    assertFalse(clean.out().contains("warning:"), clean.out());
    Run cleanJson = InspectCommandTest.ringlock("inspect", "--json", file.toString());
    assertEquals(0, cleanJson.json().getAsJsonArray("fileWarnings").size(), cleanJson.out());

    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw-rw-"));
    Run text = InspectCommandTest.ringlock("inspect", file.toString());
    assertEquals(0, text.exitCode(), text.err());
    assertTrue(
        text.out().contains("  warning: " + file + " has mode 0666 (others can write it"),
        text.out());
    assertTrue(text.out().contains("TYPE"), "the objects are still listed: " + text.out());
    Run json = InspectCommandTest.ringlock("inspect", "--json", file.toString());
    JsonArray warnings = json.json().getAsJsonArray("fileWarnings");
    assertEquals(1, warnings.size(), json.out());
    assertTrue(warnings.get(0).getAsString().contains("has mode 0666"), json.out());
  }

  @Test
  void regionOwnedByAnotherUserIsInspectedWithAWarning() throws Exception {
    assertEquals(
        "root", System.getProperty("user.name"), "giving a file away needs root: run as root");
    Path file = region("foreign");
    Files.setAttribute(file, "unix:uid", 65534);
    Run run = InspectCommandTest.ringlock("inspect", file.toString());
    assertEquals(0, run.exitCode(), run.err());
    assertTrue(run.out().contains("warning: " + file + " is owned by uid 65534"), run.out());
  }

  @Test
  void processStillMappingADeletedEarlierFileIsShown() throws Exception {
    Path file = region("removed-ipc");
    try (MappedRegion earlier = MappedRegion.open(file, SIZE, CAPACITY)) {
      long earlierInode = (Long) Files.getAttribute(file, "unix:ino");
      Files.delete(file); // as RemoveIPC=yes does at logout
      region("removed-ipc"); // the next process to open the path makes a new file
      Run run = InspectCommandTest.ringlock("inspect", "--json", file.toString());
      assertEquals(0, run.exitCode(), run.err());
      String expected =
          "process "
              + OUR_PID
              + " maps an earlier file of this path (inode "
              + earlierInode
              + ", deleted)";
      JsonArray warnings = run.json().getAsJsonArray("fileWarnings");
      assertTrue(warnings.toString().contains(expected), run.out());
      assertTrue(earlier.segment().byteSize() > 0);
    }
    Run afterClose = InspectCommandTest.ringlock("inspect", "--json", file.toString());
    assertEquals(0, afterClose.json().getAsJsonArray("fileWarnings").size(), afterClose.out());
  }

  @Test
  void fifoIsRefusedWithoutBlocking() throws Exception {
    Path fifo = directory.resolve("fifo");
    Child.program("mkfifo", fifo.toString()).run(Duration.ofSeconds(30));
    Run run =
        assertTimeoutPreemptively(
            Duration.ofSeconds(20), () -> InspectCommandTest.ringlock("inspect", fifo.toString()));
    assertEquals(Ringlock.FAILED, run.exitCode(), run.out());
    assertTrue(run.err().contains("is a FIFO (named pipe), not a regular file"), run.err());
  }

  private Path region(String name) throws Exception {
    Path file = directory.resolve(name);
    try (MappedRegion region = MappedRegion.open(file, SIZE, CAPACITY)) {
      // a mutex: its line, then its stats line (layout version 5)
      region.findOrCreate(
          "a", 1, ObjectStatsDescriptor.withStats(MutexDescriptor.SIZE), object -> {});
    }
    return file;
  }
}
