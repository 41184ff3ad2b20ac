package dev.ringlock.core.memory;

import dev.ringlock.core.InvalidRegionException;
import dev.ringlock.core.InvalidRegionException.Problem;
import dev.ringlock.core.ffi.Errno;
import dev.ringlock.core.ffi.FileLimits;
import dev.ringlock.core.ffi.Statx;
import dev.ringlock.core.ffi.Syscalls;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/*
 * Overview
 *
 * Creating a region file, or attaching to one, without ever exposing a half-built file, and
 * without ever using a file this process should not trust.
 *
 * Attach: the path is opened with O_NOFOLLOW (a symbolic link as the last component is refused,
 * never followed) and O_NONBLOCK (a FIFO at the path cannot block the open), then the descriptor
 * is fstat'ed and, in this order: it must be a regular file; its owner and mode must pass the
 * RegionAccess policy; only then is its header read and checked (RegionHeader), and exactly the
 * recorded size mapped. Every check is on the file the descriptor opened, so nothing swapped in
 * under the name afterwards matters. Attaching writes nothing, so a refused file is left as it
 * was.
 *
 * Create: the whole region is built in a temporary file beside the target
 * (".ringlock-<pid>-<random>.tmp", a short name so that any file name that fits in NAME_MAX
 * works as a region's), created O_CREAT|O_EXCL|O_NOFOLLOW, then given its group and mode
 * (fchown, fchmod: not masked by the umask) and its length and header. Then it is published
 * under the target name with link(2) (Files.createLink), which fails if the name exists, even
 * as a dangling symbolic link, and follows neither name. So the name only ever refers to a
 * complete region with its final owner and mode, and of several processes creating at once
 * exactly one link succeeds; the others see FileAlreadyExistsException and attach to the
 * winner's file (checking it like any other). The temporary name is deleted either way.
 *
 * On a file system without hard links (vfat, some FUSE), publishing falls back to
 * Files.move without REPLACE_EXISTING. That checks for the target and then renames, two steps,
 * so two creators racing there could both "win", the second replacing the first's file. Hard
 * links come first because they close that window; tmpfs (/dev/shm), ext4, xfs and btrfs all
 * have them.
 *
 * Attach read-only (inspection tools): the same type check and header checks, but the file is
 * opened O_RDONLY and mapped READ_ONLY, so no write through the mapping can reach the file. The
 * owner and mode are not refused (looking cannot hurt) but reported as warnings.
 */
final class RegionFiles {
  /** How often to retry when a file keeps vanishing between losing the race and attaching. */
  private static final int MAX_ATTEMPTS = 100;

  /** NAME_MAX: the longest file name (one path component) Linux file systems take, in bytes. */
  private static final int NAME_MAX = 255;

  private static final Set<StandardOpenOption> READ_WRITE =
      Set.of(StandardOpenOption.READ, StandardOpenOption.WRITE);

  private RegionFiles() {}

  /**
   * A mapped region: the arena owns the mapping; {@code handle} (null in memory) is the open file,
   * kept to see whether it loses its name, and {@code identity} its status when it was opened.
   */
  record Mapping(
      Arena arena,
      MemorySegment segment,
      RegionGeometry geometry,
      int layoutVersion,
      boolean created,
      FileHandle handle,
      Statx identity,
      String accessWarning) {}

  static Mapping openOrCreate(Path file, RegionGeometry ifCreated, RegionAccess access)
      throws IOException {
    requireNameFits(file);
    for (int attempt = 1; ; attempt++) {
      FileHandle.Opened opened =
          FileHandle.open(file, Syscalls.O_RDWR | Syscalls.O_NOFOLLOW | Syscalls.O_NONBLOCK, 0);
      if (opened.handle() != null) {
        return attach(file, opened.handle(), access);
      }
      if (opened.errno() != Errno.ENOENT) {
        throw openFailure(file, opened.errno(), access);
      }
      requireParentDirectory(file);
      Mapping created = createAndPublish(file, ifCreated, access);
      if (created != null) {
        return created;
      }
      if (attempt == MAX_ATTEMPTS) {
        throw new FileSystemException(
            file.toString(),
            null,
            "another process created it, yet it was gone when this one tried to open it, "
                + MAX_ATTEMPTS
                + " times (is it deleted as soon as it appears?)");
      }
    }
  }

  private static Mapping attach(Path file, FileHandle handle, RegionAccess access)
      throws IOException {
    try {
      Statx status = handle.stat();
      requireRegularFile(file, status);
      access.check(file, status);
      try (FileChannel channel = handle.channel(READ_WRITE)) {
        RegionHeader.Validated header = RegionHeader.read(file, channel);
        return map(
            channel,
            FileChannel.MapMode.READ_WRITE,
            header.geometry(),
            header.layoutVersion(),
            false,
            handle,
            status,
            null);
      }
    } catch (IOException | RuntimeException | Error e) {
      handle.close();
      throw e;
    }
  }

  /**
   * Attaches to an existing region without the means to change it: opened for reading only and
   * mapped read-only, after the same type and header checks as {@link #attach}; an owner or mode
   * that {@link RegionAccess#ownerOnly()} would refuse is reported in {@link
   * Mapping#accessWarning()}.
   */
  static Mapping attachReadOnly(Path file) throws IOException {
    requireNameFits(file);
    FileHandle.Opened opened =
        FileHandle.open(file, Syscalls.O_RDONLY | Syscalls.O_NOFOLLOW | Syscalls.O_NONBLOCK, 0);
    if (opened.handle() == null) {
      if (opened.errno() == Errno.ENOENT) {
        throw new NoSuchFileException(file.toString(), null, "no such file");
      }
      throw openFailure(file, opened.errno(), null);
    }
    FileHandle handle = opened.handle();
    try {
      Statx status = handle.stat();
      requireRegularFile(file, status);
      String warning = RegionAccess.warning(file, status).orElse(null);
      try (FileChannel channel = handle.channel(Set.of(StandardOpenOption.READ))) {
        RegionHeader.Validated header = RegionHeader.read(file, channel);
        return map(
            channel,
            FileChannel.MapMode.READ_ONLY,
            header.geometry(),
            header.layoutVersion(),
            false,
            handle,
            status,
            warning);
      }
    } catch (IOException | RuntimeException | Error e) {
      handle.close();
      throw e;
    }
  }

  /** Why open(2) of an existing path failed, as the exception the caller can act on. */
  private static IOException openFailure(Path file, int errno, RegionAccess access)
      throws IOException {
    if (FileLimits.isExhaustion(errno)) {
      return new FileSystemException(
          file.toString(), null, FileLimits.explain("opening the region file", errno));
    }
    Statx status = FileHandle.lstat(file);
    if (errno == Errno.ELOOP && status != null && status.type() == Statx.S_IFLNK) {
      String target;
      try {
        target = " (to " + Files.readSymbolicLink(file) + ")";
      } catch (IOException | RuntimeException unreadable) {
        target = "";
      }
      return new InvalidRegionException(file, Problem.SYMBOLIC_LINK, "is a symbolic link" + target);
    }
    if (errno == Errno.EISDIR || (status != null && status.type() == Statx.S_IFDIR)) {
      return new FileSystemException(
          file.toString(), null, "is a directory; a region is a file, pass a path inside it");
    }
    if (status != null && !status.isRegularFile()) {
      return notRegular(file, status);
    }
    if (errno == Errno.ENAMETOOLONG) {
      return new FileSystemException(
          file.toString(),
          null,
          "is too long a path (ENAMETOOLONG): shorten the directory's path or the file's name");
    }
    if (errno == Errno.EACCES || errno == Errno.EPERM) {
      if (status != null && access != null) {
        access.check(file, status); // another user's file: say so, rather than "access denied"
      }
      return new AccessDeniedException(
          file.toString(),
          null,
          "this user (uid "
              + Syscalls.geteuid()
              + ") may not "
              + (access == null ? "read" : "read and write")
              + " it ("
              + Errno.name(errno)
              + ")");
    }
    return FileHandle.failure(file, "cannot be opened", errno);
  }

  private static void requireRegularFile(Path file, Statx status) throws InvalidRegionException {
    if (status.type() == Statx.S_IFDIR) {
      // O_RDONLY opens a directory; a region still cannot be one
      throw new InvalidRegionException(
          file,
          Problem.NOT_A_REGULAR_FILE,
          "is a directory; a region is a file, pass a path inside it");
    }
    if (!status.isRegularFile()) {
      throw notRegular(file, status);
    }
  }

  private static InvalidRegionException notRegular(Path file, Statx status) {
    return new InvalidRegionException(
        file, Problem.NOT_A_REGULAR_FILE, "is " + status.typeName() + ", not a regular file");
  }

  /** A name too long for any Linux file system, refused naming the caller's file. */
  private static void requireNameFits(Path file) throws FileSystemException {
    Path name = file.getFileName();
    int bytes = name == null ? 0 : name.toString().getBytes(StandardCharsets.UTF_8).length;
    if (bytes > NAME_MAX) {
      throw new FileSystemException(
          file.toString(),
          null,
          "has a file name of "
              + bytes
              + " bytes; Linux allows at most "
              + NAME_MAX
              + " (NAME_MAX): choose a shorter name");
    }
  }

  /** The region built and published, or null when another process published one first. */
  private static Mapping createAndPublish(Path file, RegionGeometry geometry, RegionAccess access)
      throws IOException {
    // Short and independent of the target's name, so that every name NAME_MAX allows works.
    Path temporary =
        file.resolveSibling(
            ".ringlock-"
                + ProcessHandle.current().pid()
                + "-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong())
                + ".tmp");
    FileHandle.Opened opened =
        FileHandle.open(
            temporary,
            Syscalls.O_RDWR | Syscalls.O_CREAT | Syscalls.O_EXCL | Syscalls.O_NOFOLLOW,
            0600);
    if (opened.handle() == null) {
      throw createFailure(file, opened.errno());
    }
    FileHandle handle = opened.handle();
    boolean mapped = false;
    try {
      if (access.group().isPresent()) {
        handle.changeGroup(access.groupId(), access.group().get());
      }
      handle.changeMode(access.creationMode());
      try (FileChannel channel = handle.channel(READ_WRITE)) {
        // The last byte sets the length (sparse on tmpfs: the directory and data read as zeros).
        writeFully(channel, ByteBuffer.allocate(1), geometry.regionBytes() - 1);
        writeFully(channel, RegionHeader.image(geometry), 0);
        if (!publish(temporary, file)) {
          return null;
        }
        Mapping mapping =
            map(
                channel,
                FileChannel.MapMode.READ_WRITE,
                geometry,
                RegionDescriptor.LAYOUT_VERSION,
                true,
                handle,
                handle.stat(),
                null);
        mapped = true;
        return mapping;
      }
    } finally {
      if (!mapped) {
        handle.close();
      }
      Files.deleteIfExists(temporary);
    }
  }

  /** The temporary file could not be made: said of the caller's file, not the temporary one. */
  private static IOException createFailure(Path file, int errno) {
    if (FileLimits.isExhaustion(errno)) {
      return new FileSystemException(
          file.toString(), null, FileLimits.explain("creating the region file", errno));
    }
    String why =
        switch (errno) {
          case Errno.EACCES, Errno.EPERM ->
              "this user (uid "
                  + Syscalls.geteuid()
                  + ") may not create files in "
                  + file.toAbsolutePath().getParent();
          case Errno.EROFS -> "its file system is read-only";
          case Errno.ENOSPC -> "its file system is full";
          default -> "a file beside it could not be created";
        };
    return new FileSystemException(
        file.toString(), null, "cannot be created: " + why + " (" + Errno.name(errno) + ")");
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
      boolean created,
      FileHandle handle,
      Statx identity,
      String accessWarning)
      throws IOException {
    Arena arena = Arena.ofShared();
    try {
      // Exactly the recorded size, which the header check proved within the file.
      MemorySegment segment = channel.map(mode, 0, geometry.regionBytes(), arena);
      return new Mapping(
          arena, segment, geometry, layoutVersion, created, handle, identity, accessWarning);
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
