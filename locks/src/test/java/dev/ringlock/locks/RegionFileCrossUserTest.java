package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.FutexRing;
import dev.ringlock.core.InvalidRegionException;
import dev.ringlock.core.InvalidRegionException.Problem;
import dev.ringlock.testsupport.Child;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.agrona.collections.Int2ObjectHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Region files on a host with several users, with real users: the test (root, as CI runs it) adds a
 * throwaway group and three users (two members, one not), runs child JVMs as them through setpriv,
 * and deletes them afterwards. The region files live in /dev/shm, which every user can write.
 */
@Timeout(300)
class RegionFileCrossUserTest {
  private static final long PID = ProcessHandle.current().pid();
  private static final String GROUP = "rlg" + PID;
  private static final String MEMBER_A = "rla" + PID;
  private static final String MEMBER_B = "rlb" + PID;
  private static final String OUTSIDER = "rlc" + PID;
  private static final FileTime LONG_AGO = FileTime.from(Instant.parse("2001-02-03T04:05:06Z"));

  private static Path classes; // a world-readable copy of the class path for the other users
  private static Path shm;
  private static final List<Path> regionFiles = new ArrayList<>();

  @BeforeAll
  static void addUsers() throws Exception {
    // The suite runs as root (CI does): adding users needs it, and skipping would prove nothing.
    assertEquals(
        "root", System.getProperty("user.name"), "adding users needs root: run the suite as root");
    run("groupadd", GROUP);
    run("useradd", "-M", "-N", "-G", GROUP, "-s", "/usr/sbin/nologin", MEMBER_A);
    run("useradd", "-M", "-N", "-G", GROUP, "-s", "/usr/sbin/nologin", MEMBER_B);
    run("useradd", "-M", "-N", "-s", "/usr/sbin/nologin", OUTSIDER);
    classes = Files.createTempDirectory(Path.of("/tmp"), "ringlock-xuser-");
    copyClasses(RegionAttachWorker.class, "test-classes");
    copyClasses(SharedRegion.class, "classes");
    copyClasses(FutexRing.class, "core-classes");
    copyClasses(Int2ObjectHashMap.class, "agrona.jar"); // locks' peer-watch registry
    shm = Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : Path.of("/tmp");
  }

  @AfterAll
  static void deleteUsers() throws Exception {
    for (Path file : regionFiles) {
      Files.deleteIfExists(file);
    }
    if (classes != null) {
      try (Stream<Path> all = Files.walk(classes)) {
        for (Path path : all.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(path);
        }
      }
    }
    for (String user : List.of(MEMBER_A, MEMBER_B, OUTSIDER)) {
      runQuietly("userdel", user);
    }
    runQuietly("groupdel", GROUP);
  }

  @Test
  void regionPreCreatedByAnotherUserIsRefusedAndLeftUntouched() throws Exception {
    Path file = regionFile("squatted");
    assertTrue(child(MEMBER_A, file, "-").startsWith("OPENED fence=1"));
    assertEquals(MEMBER_A, attributes(file).owner().getName());
    Files.setLastModifiedTime(file, LONG_AGO);
    byte[] before = Files.readAllBytes(file);

    InvalidRegionException e =
        assertThrows(InvalidRegionException.class, () -> SharedRegion.open(file));
    assertEquals(Problem.FOREIGN_OWNER, e.problem(), e.getMessage());
    assertTrue(e.getMessage().contains("is owned by uid "), e.getMessage());
    assertTrue(e.getMessage().contains("(" + MEMBER_A + ")"), e.getMessage());
    assertTrue(e.getMessage().contains("not by this process's effective uid 0"), e.getMessage());
    assertTrue(e.getMessage().endsWith(Problem.FOREIGN_OWNER.advice()), e.getMessage());

    // Another ordinary user, who may not even open it, is told the same rather than EACCES.
    String other = child(MEMBER_B, file, "-");
    assertTrue(other.startsWith("REFUSED FOREIGN_OWNER"), other);

    assertArrayEquals(before, Files.readAllBytes(file), "the refused file was modified");
    assertEquals(LONG_AGO, Files.getLastModifiedTime(file), "the refused file's mtime changed");
  }

  @Test
  void anotherUsersWorldWritableRegionIsRefusedToRootAndToUsers() throws Exception {
    Path file = regionFile("open-to-all");
    assertTrue(child(MEMBER_A, file, "-").startsWith("OPENED"));
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw-rw-"));

    InvalidRegionException e =
        assertThrows(InvalidRegionException.class, () -> SharedRegion.open(file));
    assertEquals(Problem.FOREIGN_OWNER, e.problem(), e.getMessage());
    String owner = child(MEMBER_A, file, "-");
    assertTrue(owner.startsWith("REFUSED WRITABLE_BY_OTHERS"), owner);
    assertTrue(owner.contains("has mode 0666 (others can write it"), owner);
  }

  @Test
  void sharingGroupCreates0660WithTheGroupAndMembersOfOtherUsersAttach() throws Exception {
    Path file = regionFile("team");
    assertTrue(child(MEMBER_A, file, GROUP).startsWith("OPENED fence=1"));
    PosixFileAttributes created = attributes(file);
    assertEquals("rw-rw----", PosixFilePermissions.toString(created.permissions()));
    assertEquals(GROUP, created.group().getName());
    assertEquals(MEMBER_A, created.owner().getName());

    // Another member attaches to the file A owns and takes the same mutex: the second acquisition,
    // fence 3 (A's release moved the fence on to 2).
    String member = child(MEMBER_B, file, GROUP);
    assertTrue(member.startsWith("OPENED fence=3"), member);
    // Root is no member, but the file is of the group it names: accepted.
    try (SharedRegion region =
        SharedRegion.open(file, RegionOptions.builder().sharedWithGroup(GROUP).build())) {
      assertEquals(5, region.mutex("m").tryLock().orElseThrow().fence());
    }
    // Without the option the same file is another user's: refused, to members and root alike.
    assertTrue(child(MEMBER_B, file, "-").startsWith("REFUSED FOREIGN_OWNER"));
    assertThrows(InvalidRegionException.class, () -> SharedRegion.open(file));
    // A user outside the group cannot open a 0660 file at all.
    String outsider = child(OUTSIDER, file, GROUP);
    assertTrue(outsider.startsWith("FAILED java.nio.file.AccessDeniedException"), outsider);
  }

  @Test
  void sharingGroupRefusesAFileOfAnotherGroup() throws Exception {
    Path file = regionFile("wrong-group");
    assertTrue(child(MEMBER_A, file, "-").startsWith("OPENED")); // A's own 0600 file, A's group
    String member = child(MEMBER_B, file, GROUP);
    assertTrue(member.startsWith("REFUSED FOREIGN_OWNER"), member);
    assertTrue(member.contains("nor the sharing group " + GROUP), member);
  }

  @Test
  void creatingUserOutsideTheSharingGroupGetsAClearMessageAndNoFile() throws Exception {
    Path file = regionFile("not-a-member");
    String outsider = child(OUTSIDER, file, GROUP);
    assertTrue(outsider.startsWith("FAILED java.nio.file.FileSystemException"), outsider);
    assertTrue(outsider.contains("is not a member of it"), outsider);
    assertTrue(!Files.exists(file), "a file was published");
    try (Stream<Path> leftovers = Files.list(shm)) {
      assertTrue(
          leftovers.noneMatch(p -> p.getFileName().toString().startsWith(".ringlock-")),
          "a temporary file was left behind");
    }
  }

  private static Path regionFile(String name) throws IOException {
    Path file = shm.resolve("ringlock-xuser-" + PID + "-" + name);
    Files.deleteIfExists(file);
    regionFiles.add(file);
    return file;
  }

  private static PosixFileAttributes attributes(Path file) throws IOException {
    return Files.readAttributes(file, PosixFileAttributes.class);
  }

  /** Runs RegionAttachWorker as {@code user} (with its groups) and returns its output line. */
  private static String child(String user, Path file, String group) throws Exception {
    String output;
    try (Child child =
        Child.jvm(RegionAttachWorker.class, file.toString(), group)
            .runAsUser(user, "users")
            .jvmOptions("-XX:-UsePerfData", "-Xmx64m", "-Djava.io.tmpdir=/tmp")
            .classPath(
                List.of(
                    classes.resolve("test-classes").toString(),
                    classes.resolve("classes").toString(),
                    classes.resolve("core-classes").toString(),
                    classes.resolve("agrona.jar").toString()))
            .directory(classes)
            .captureOutput()
            .start()) {
      child.awaitExit(Duration.ofSeconds(120)); // its status is in its output line
      output = child.output();
    }
    return output
        .lines()
        .filter(
            line ->
                line.startsWith("OPENED")
                    || line.startsWith("REFUSED")
                    || line.startsWith("FAILED"))
        .findFirst()
        .orElseThrow(() -> new AssertionError("child as " + user + " said: " + output));
  }

  private static void copyClasses(Class<?> type, String into) throws Exception {
    Path from = Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
    Path to = classes.resolve(into);
    try (Stream<Path> all = Files.walk(from)) {
      for (Path source : all.toList()) {
        Path target = to.resolve(from.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
          Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
        } else {
          Files.copy(source, target);
          Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
        }
      }
    }
    Files.setPosixFilePermissions(classes, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private static void run(String... command) throws Exception {
    Child.program(command).run(Duration.ofSeconds(60));
  }

  private static void runQuietly(String... command) {
    try {
      run(command);
    } catch (Exception | AssertionError ignored) {
      // cleanup of what may never have been made
    }
  }
}
