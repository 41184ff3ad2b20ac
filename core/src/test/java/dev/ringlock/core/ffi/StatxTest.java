package dev.ringlock.core.ffi;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** struct statx against linux/stat.h's offsets, and statx(2) against what the JDK reports. */
class StatxTest {
  @TempDir Path directory;

  @Test
  void layoutMatchesTheKernelStruct() {
    assertEquals(256, Statx.LAYOUT.byteSize());
    Map<String, Long> offsets =
        Map.of(
            "stx_nlink", 16L,
            "stx_uid", 20L,
            "stx_gid", 24L,
            "stx_mode", 28L,
            "stx_ino", 32L,
            "stx_size", 40L,
            "stx_dev_major", 136L,
            "stx_dev_minor", 140L);
    offsets.forEach(
        (field, offset) ->
            assertEquals(offset, Statx.LAYOUT.byteOffset(groupElement(field)), field));
  }

  @Test
  void statxOfAFileAgreesWithTheJdk() throws Exception {
    Path file = Files.writeString(directory.resolve("f"), "twelve bytes");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
    Files.createLink(directory.resolve("second-name"), file);
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buffer = arena.allocate(Statx.LAYOUT);
      int result =
          Syscalls.statx(
              Syscalls.AT_FDCWD,
              arena.allocateFrom(file.toString()),
              Syscalls.AT_SYMLINK_NOFOLLOW,
              buffer);
      assertEquals(0, result);
      Statx status = Statx.read(buffer);
      assertTrue(status.isRegularFile());
      assertEquals(0640, status.permissions());
      assertEquals(2, status.linkCount());
      assertEquals(12, status.size());
      assertEquals(attribute(file, "unix:ino"), status.inode());
      assertEquals(((Number) attribute(file, "unix:uid")).intValue(), status.uid());
      assertEquals(((Number) attribute(file, "unix:gid")).intValue(), status.gid());
      assertEquals(Syscalls.geteuid(), status.uid());
    }
  }

  private static Object attribute(Path file, String name) throws Exception {
    return Files.getAttribute(file, name, LinkOption.NOFOLLOW_LINKS);
  }
}
