package dev.ringlock.core.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.InvalidRegionException;
import dev.ringlock.core.InvalidRegionException.Problem;
import dev.ringlock.core.ffi.Syscalls;
import dev.ringlock.testsupport.Child;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What open does with what it finds at a region's path in one process: symbolic links, FIFOs, files
 * others may write or another uid owns, long names, the sharing group, and a file deleted or
 * replaced while mapped. Cross-user cases with real second users are in the locks module
 * (RegionFileCrossUserTest).
 */
class RegionFileSafetyTest {
  private static final long SIZE = 64 * 1024;
  private static final int CAPACITY = 8;
  private static final FileTime LONG_AGO = FileTime.from(Instant.parse("2001-02-03T04:05:06Z"));

  @TempDir Path directory;

  @Test
  void symbolicLinkAtThePathIsRefusedAndItsTargetLeftUntouched() throws IOException {
    Path target = region("target");
    Files.setLastModifiedTime(target, LONG_AGO);
    byte[] before = Files.readAllBytes(target);
    Path link = Files.createSymbolicLink(directory.resolve("link"), target);

    InvalidRegionException e =
        assertThrows(InvalidRegionException.class, () -> MappedRegion.open(link, SIZE, CAPACITY));
    assertEquals(Problem.SYMBOLIC_LINK, e.problem(), e.getMessage());
    assertTrue(
        e.getMessage().startsWith(link + " is a symbolic link (to " + target), e.getMessage());
    InvalidRegionException readOnly =
        assertThrows(InvalidRegionException.class, () -> MappedRegion.openReadOnly(link));
    assertEquals(Problem.SYMBOLIC_LINK, readOnly.problem());

    assertArrayEquals(before, Files.readAllBytes(target), "the link's target was modified");
    assertEquals(LONG_AGO, Files.getLastModifiedTime(target));
    assertTrue(Files.isSymbolicLink(link), "the link itself was replaced");
  }

  @Test
  void danglingSymbolicLinkIsRefusedAndItsTargetNeverCreated() throws IOException {
    Path target = directory.resolve("would-be-created");
    Path link = Files.createSymbolicLink(directory.resolve("dangling"), target);

    InvalidRegionException e =
        assertThrows(InvalidRegionException.class, () -> MappedRegion.open(link, SIZE, CAPACITY));
    assertEquals(Problem.SYMBOLIC_LINK, e.problem(), e.getMessage());
    assertFalse(Files.exists(target, LinkOption.NOFOLLOW_LINKS), "open created the link's target");
    assertEquals(List.of(link), listDirectory(), "a temporary file was left behind");
  }

  @Test
  void fifoAtThePathIsRefusedClearlyWithoutBlocking() throws Exception {
    Path fifo = directory.resolve("fifo");
    Child.program("mkfifo", fifo.toString()).run(Duration.ofSeconds(30));

    InvalidRegionException e =
        assertTimeoutPreemptively(
            Duration.ofSeconds(20),
            () ->
                assertThrows(
                    InvalidRegionException.class, () -> MappedRegion.open(fifo, SIZE, CAPACITY)));
    assertEquals(Problem.NOT_A_REGULAR_FILE, e.problem(), e.getMessage());
    assertTrue(
        e.getMessage().contains("is a FIFO (named pipe), not a regular file"), e.getMessage());
    assertFalse(e.getMessage().contains("Illegal seek"), e.getMessage());

    // Opening a FIFO read-only is what blocks until a writer comes: inspection must not.
    InvalidRegionException readOnly =
        assertTimeoutPreemptively(
            Duration.ofSeconds(20),
            () ->
                assertThrows(InvalidRegionException.class, () -> MappedRegion.openReadOnly(fifo)));
    assertEquals(Problem.NOT_A_REGULAR_FILE, readOnly.problem(), readOnly.getMessage());
  }

  @Test
  void fileOthersCanWriteIsRefusedEvenForRootAndLeftUntouched() throws IOException {
    Path file = region("world-writable");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw-rw-"));

    InvalidRegionException e = assertRefusedUntouched(file, Problem.WRITABLE_BY_OTHERS);
    assertTrue(e.getMessage().contains("has mode 0666 (others can write it"), e.getMessage());
    assertTrue(e.getMessage().contains("chmod it to 0600"), e.getMessage());
  }

  @Test
  void fileItsGroupCanWriteIsRefusedUnlessSharedWithThatGroup() throws IOException {
    Path file = region("group-writable");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw----"));

    InvalidRegionException e = assertRefusedUntouched(file, Problem.WRITABLE_BY_OTHERS);
    assertTrue(e.getMessage().contains("its group can write it"), e.getMessage());

    String group = groupOf(file);
    try (MappedRegion shared =
        MappedRegion.open(file, SIZE, CAPACITY, RegionAccess.sharedWithGroup(group))) {
      assertTrue(shared.find("a").isPresent());
    }
  }

  @Test
  void fileOwnedByAnotherUidIsRefusedAndLeftUntouched() throws IOException {
    assertRootForChown();
    Path file = region("foreign");
    Files.setAttribute(file, "unix:uid", 65534, LinkOption.NOFOLLOW_LINKS);

    InvalidRegionException e = assertRefusedUntouched(file, Problem.FOREIGN_OWNER);
    assertTrue(
        e.getMessage().contains("is owned by uid 65534")
            && e.getMessage().contains("not by this process's effective uid " + Syscalls.geteuid()),
        e.getMessage());
    assertTrue(e.getMessage().contains("RegionOptions.sharedWithGroup"), e.getMessage());
  }

  @Test
  void readOnlyOpenWarnsAboutOwnerAndModeInsteadOfRefusing() throws IOException {
    Path file = region("inspected");
    try (MappedRegion clean = MappedRegion.openReadOnly(file)) {
      assertTrue(clean.accessWarning().isEmpty(), clean.accessWarning().toString());
    }
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw-rw-"));
    try (MappedRegion warned = MappedRegion.openReadOnly(file)) {
      String warning = warned.accessWarning().orElseThrow();
      assertTrue(warning.contains("has mode 0666 (others can write it"), warning);
      assertEquals(List.of("a", "b"), warned.objects().stream().map(NamedObject::name).toList());
    }
  }

  @Test
  void createdFileIsPrivateToItsOwner() throws IOException {
    Path file = region("created");
    PosixFileAttributes attributes = Files.readAttributes(file, PosixFileAttributes.class);
    assertEquals("rw-------", PosixFilePermissions.toString(attributes.permissions()));
  }

  @Test
  void sharedWithGroupCreatesTheFile0660WithThatGroup() throws IOException {
    String group = groupOf(Files.createFile(directory.resolve("probe")));
    Path file = directory.resolve("shared");
    try (MappedRegion region =
        MappedRegion.open(file, SIZE, CAPACITY, RegionAccess.sharedWithGroup(group))) {
      assertTrue(region.created());
    }
    PosixFileAttributes attributes = Files.readAttributes(file, PosixFileAttributes.class);
    assertEquals("rw-rw----", PosixFilePermissions.toString(attributes.permissions()));
    assertEquals(group, attributes.group().getName());
  }

  @Test
  void unknownSharingGroupIsRefusedBeforeAnyFileIsCreated() throws IOException {
    Path file = directory.resolve("nogroup");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                MappedRegion.open(
                    file, SIZE, CAPACITY, RegionAccess.sharedWithGroup("ringlock-no-such-group")));
    assertTrue(e.getMessage().contains("no group named 'ringlock-no-such-group'"), e.getMessage());
    assertEquals(List.of(), listDirectory());
  }

  @Test
  void fileNamesOfUpTo255BytesWork() throws IOException {
    for (int length : new int[] {228, 240, 255}) {
      Path file = directory.resolve("r".repeat(length));
      try (MappedRegion created = MappedRegion.open(file, SIZE, CAPACITY)) {
        assertTrue(created.created(), "name of " + length + " bytes");
        created.findOrCreate("x", 1, 8, object -> {});
      }
      try (MappedRegion attached = MappedRegion.open(file, SIZE, CAPACITY)) {
        assertTrue(attached.find("x").isPresent());
      }
      Files.delete(file);
    }
    assertEquals(List.of(), listDirectory(), "a temporary file was left behind");
  }

  @Test
  void fileNameBeyond255BytesFailsNamingTheCallersFile() {
    Path file = directory.resolve("n".repeat(256));
    FileSystemException e =
        assertThrows(FileSystemException.class, () -> MappedRegion.open(file, SIZE, CAPACITY));
    assertEquals(file.toString(), e.getFile());
    assertTrue(e.getMessage().contains("file name of 256 bytes"), e.getMessage());
    assertFalse(e.getMessage().contains(".tmp"), e.getMessage());
  }

  @Test
  void deletedFileIsNoticedByTheNextCreationAndByTheWatch() throws Exception {
    Path file = directory.resolve("deleted");
    try (MappedRegion region = MappedRegion.open(file, SIZE, CAPACITY)) {
      region.findOrCreate("before", 1, 8, object -> {});
      List<InvalidRegionException> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
      region.onFileLost(heard::add);
      Files.delete(file);
      Thread.sleep(5); // past the millisecond for which a passed check stands

      UncheckedIOException e =
          assertThrows(
              UncheckedIOException.class, () -> region.findOrCreate("after", 1, 8, object -> {}));
      InvalidRegionException cause = assertInstanceOf(InvalidRegionException.class, e.getCause());
      assertEquals(Problem.FILE_REPLACED, cause.problem());
      assertTrue(
          cause.getMessage().contains("was deleted while this process mapped it"),
          cause.getMessage());
      assertEquals(List.of(cause), heard, "the listener runs once");
      assertThrows(UncheckedIOException.class, () -> region.find("before"));
      assertEquals(cause, region.fileProblem().orElseThrow());
    }
  }

  @Test
  void replacedFileIsNoticedByTheWatchWithinItsPeriod() throws Exception {
    Path file = directory.resolve("replaced");
    Path other = region("other");
    try (MappedRegion region = MappedRegion.open(file, SIZE, CAPACITY)) {
      List<Long> heardAt = new java.util.concurrent.CopyOnWriteArrayList<>();
      region.onFileLost(lost -> heardAt.add(System.nanoTime()));
      long replacedAt = System.nanoTime();
      Files.move(other, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);

      long deadline = replacedAt + TimeUnit.SECONDS.toNanos(20); // generous: the bound is below
      while (heardAt.isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertEquals(1, heardAt.size(), "the watch never noticed the replacement");
      long millis = TimeUnit.NANOSECONDS.toMillis(heardAt.get(0) - replacedAt);
      // One period (1 s by default) plus scheduling under a loaded 2-core machine.
      assertTrue(
          millis < RegionFileWatch.periodMillis() + 5_000, "noticed after " + millis + " ms");
      InvalidRegionException lost = region.fileProblem().orElseThrow();
      assertTrue(lost.getMessage().contains("its path now names another file"), lost.getMessage());
    }
  }

  @Test
  void regionWhoseFileKeepsItsNameIsNeverReportedLost() throws Exception {
    Path file = directory.resolve("kept");
    try (MappedRegion region = MappedRegion.open(file, SIZE, CAPACITY)) {
      Thread.sleep(RegionFileWatch.periodMillis() * 2 + 200);
      region.checkFile();
      assertTrue(region.fileProblem().isEmpty());
      region.findOrCreate("fine", 1, 8, object -> {});
    }
  }

  /** A real region with two objects ("a" and "b"), closed. */
  private Path region(String name) throws IOException {
    Path file = directory.resolve(name);
    try (MappedRegion region = MappedRegion.open(file, SIZE, CAPACITY)) {
      region.findOrCreate("a", 1, 64, object -> {});
      region.findOrCreate("b", 1, 100, object -> {});
    }
    return file;
  }

  private List<Path> listDirectory() throws IOException {
    try (Stream<Path> files = Files.list(directory)) {
      return files.toList();
    }
  }

  private static String groupOf(Path file) throws IOException {
    return Files.readAttributes(file, PosixFileAttributes.class).group().getName();
  }

  private static void assertRootForChown() {
    // The suite runs as root (CI does): giving a file away needs it, and a test that skipped
    // itself here would prove nothing.
    org.junit.jupiter.api.Assertions.assertEquals(
        0, Syscalls.geteuid(), "giving a file to another uid needs root: run the suite as root");
  }

  private static InvalidRegionException assertRefusedUntouched(Path file, Problem expected)
      throws IOException {
    Files.setLastModifiedTime(file, LONG_AGO);
    byte[] before = Files.readAllBytes(file);
    InvalidRegionException e =
        assertThrows(InvalidRegionException.class, () -> MappedRegion.open(file, SIZE, CAPACITY));
    assertEquals(expected, e.problem(), e.getMessage());
    assertEquals(file, e.file());
    assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    assertTrue(e.getMessage().endsWith(expected.advice()), e.getMessage());
    assertArrayEquals(before, Files.readAllBytes(file), "the refused file was modified");
    assertEquals(LONG_AGO, Files.getLastModifiedTime(file), "the refused file's mtime changed");
    return e;
  }
}
