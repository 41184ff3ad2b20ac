package dev.ringlock.core.memory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/*
 * Overview
 *
 * Creating a region file, or attaching to one, without ever exposing a half-built file.
 *
 * Create: the whole region is built in a temporary file beside the target
 * (".<name>.<pid>.<random>.tmp", mode 0600 from the moment it exists): length set, header
 * written. Then it is published under the target name with link(2) (Files.createLink), which
 * fails if the name exists. So the name only ever refers to a complete region, and of several
 * processes creating at once exactly one link succeeds; the others see
 * FileAlreadyExistsException and attach to the winner's file. The temporary name is deleted
 * either way; the winner's inode lives on under the target name.
 *
 * On a file system without hard links (vfat, some FUSE), publishing falls back to
 * Files.move without REPLACE_EXISTING. That checks for the target and then renames, two steps,
 * so two creators racing there could both "win", the second replacing the first's file. Hard
 * links come first because they close that window; tmpfs (/dev/shm), ext4, xfs and btrfs all
 * have them.
 *
 * Attach: the file is opened READ and WRITE (a shared read-write mapping needs both), without
 * CREATE or TRUNCATE, its header is read and checked (RegionHeader) and only then is exactly
 * the recorded size mapped. Attaching writes nothing.
 *
 * Attach read-only (inspection tools): the same checks, but the file is opened READ only and
 * mapped READ_ONLY, so no write through the mapping can reach the file (a write throws
 * IllegalArgumentException; the kernel would refuse it below that). Works on a file this user
 * may only read.
 */
final class RegionFiles {
  /** How often to retry when a file keeps vanishing between losing the race and attaching. */
  private static final int MAX_ATTEMPTS = 100;

  private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY =
      PosixFilePermissions.asFileAttribute(
          EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));

  private RegionFiles() {}

  /** A mapped region: the arena owns the mapping. */
  record Mapping(
      Arena arena,
      MemorySegment segment,
      RegionGeometry geometry,
      int layoutVersion,
      boolean created) {}

  static Mapping openOrCreate(Path file, RegionGeometry ifCreated) throws IOException {
    requireNotDirectory(file);
    for (int attempt = 1; ; attempt++) {
      try {
        return attach(file);
      } catch (NoSuchFileException absent) {
        requireParentDirectory(file);
      }
      Mapping created = createAndPublish(file, ifCreated);
      if (created != null) {
        return created;
      }
      if (attempt == MAX_ATTEMPTS) {
        throw new FileSystemException(
            file.toString(),
            null,
            "another process created it, yet it was gone when this one tried to open it, "
                + MAX_ATTEMPTS
                + " times (is it a dangling symbolic link, or deleted as soon as it appears?)");
      }
    }
  }

  private static Mapping attach(Path file) throws IOException {
    try (FileChannel channel =
        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      RegionHeader.Validated header = RegionHeader.read(file, channel);
      return map(
          channel,
          FileChannel.MapMode.READ_WRITE,
          header.geometry(),
          header.layoutVersion(),
          false);
    }
  }

  /**
   * Attaches to an existing region without the means to change it: opened for reading only and
   * mapped read-only, after the same header checks as {@link #attach}.
   */
  static Mapping attachReadOnly(Path file) throws IOException {
    requireNotDirectory(file);
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      RegionHeader.Validated header = RegionHeader.read(file, channel);
      return map(
          channel, FileChannel.MapMode.READ_ONLY, header.geometry(), header.layoutVersion(), false);
    }
  }

  private static void requireNotDirectory(Path file) throws FileSystemException {
    if (Files.isDirectory(file)) {
      throw new FileSystemException(
          file.toString(), null, "is a directory; a region is a file, pass a path inside it");
    }
  }

  /** The region built and published, or null when another process published one first. */
  private static Mapping createAndPublish(Path file, RegionGeometry geometry) throws IOException {
    Path temporary =
        file.resolveSibling(
            "."
                + file.getFileName()
                + "."
                + ProcessHandle.current().pid()
                + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong())
                + ".tmp");
    try (FileChannel channel =
        FileChannel.open(
            temporary,
            Set.of(
                StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE),
            OWNER_ONLY)) {
      // The last byte sets the length (sparse on tmpfs: the directory and data read as zeros).
      writeFully(channel, ByteBuffer.allocate(1), geometry.regionBytes() - 1);
      writeFully(channel, RegionHeader.image(geometry), 0);
      if (!publish(temporary, file)) {
        return null;
      }
      // Same inode as the published name, so no second open can race a delete-and-recreate.
      return map(
          channel, FileChannel.MapMode.READ_WRITE, geometry, RegionDescriptor.LAYOUT_VERSION, true);
    } finally {
      Files.deleteIfExists(temporary);
    }
  }

  /** True if {@code temporary} is now {@code file}; false if {@code file} already existed. */
  private static boolean publish(Path temporary, Path file) throws IOException {
    try {
      Files.createLink(file, temporary);
      return true;
    } catch (FileAlreadyExistsException lost) {
      return false;
    } catch (UnsupportedOperationException | IOException noHardLinks) {
      try {
        Files.move(temporary, file); // no REPLACE_EXISTING: refuses an existing target
        return true;
      } catch (FileAlreadyExistsException lost) {
        return false;
      }
    }
  }

  private static Mapping map(
      FileChannel channel,
      FileChannel.MapMode mode,
      RegionGeometry geometry,
      int layoutVersion,
      boolean created)
      throws IOException {
    Arena arena = Arena.ofShared();
    try {
      // Exactly the recorded size, which the header check proved within the file.
      MemorySegment segment = channel.map(mode, 0, geometry.regionBytes(), arena);
      return new Mapping(arena, segment, geometry, layoutVersion, created);
    } catch (IOException | RuntimeException | Error e) {
      arena.close();
      throw e;
    }
  }

  private static void requireParentDirectory(Path file) throws NoSuchFileException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null && !Files.isDirectory(parent)) {
      throw new NoSuchFileException(
          file.toString(), null, "its directory " + parent + " does not exist; create it first");
    }
  }

  private static void writeFully(FileChannel channel, ByteBuffer bytes, long position)
      throws IOException {
    while (bytes.hasRemaining()) {
      channel.write(bytes, position + bytes.position());
    }
  }
}
