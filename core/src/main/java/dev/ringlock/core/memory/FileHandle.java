package dev.ringlock.core.memory;

import dev.ringlock.core.ffi.Errno;
import dev.ringlock.core.ffi.Statx;
import dev.ringlock.core.ffi.Syscalls;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.Set;

/*
 * Overview
 *
 * An open file descriptor of a region file, opened and stat'ed through the ffi layer because
 * java.nio cannot do three things the open path needs: open without blocking on a FIFO
 * (O_NONBLOCK), fstat the very file it opened (owner, mode, type, inode, link count), and
 * fchown/fchmod a new file before it gets its name. The descriptor is kept open while the
 * region is mapped, so its link count can tell whether the file was deleted.
 *
 * A FileChannel on the same open file comes from /proc/self/fd/N: opening that magic link
 * reaches this inode, whatever the region's path names by then, so the header is read from and
 * the mapping made of the file the checks were made on, never of one swapped in under the
 * name. The mapping then is a FileChannel mapping, as every other part of ringlock expects.
 */
final class FileHandle implements AutoCloseable {
  private final Path file;
  private final int fd;
  private boolean closed;

  private FileHandle(Path file, int fd) {
    this.file = file;
    this.fd = fd;
  }

  /** The open file, or -errno from open(2) (an fd is never negative). */
  record Opened(FileHandle handle, int errno) {}

  /** open(2) of {@code file} with {@code flags} (O_CLOEXEC always added). */
  static Opened open(Path file, int flags, int mode) {
    try (Arena arena = Arena.ofConfined()) {
      int fd = Syscalls.open(cPath(arena, file), flags | Syscalls.O_CLOEXEC, mode);
      return fd < 0 ? new Opened(null, -fd) : new Opened(new FileHandle(file, fd), 0);
    }
  }

  /** A statx buffer per thread: the watch checks often, and an allocation costs more than statx. */
  private static final ThreadLocal<MemorySegment> STATX_BUFFER =
      ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(Statx.LAYOUT));

  /** lstat of {@code file} (a symbolic link is described, not followed), or null if absent. */
  static Statx lstat(Path file) throws IOException {
    return lstat(file, cPath(Arena.ofAuto(), file));
  }

  /** {@link #lstat(Path)} with the path already in C form ({@link #cPath}), for repeated checks. */
  static Statx lstat(Path file, MemorySegment cPath) throws IOException {
    MemorySegment buffer = STATX_BUFFER.get();
    int result = Syscalls.statx(Syscalls.AT_FDCWD, cPath, Syscalls.AT_SYMLINK_NOFOLLOW, buffer);
    if (result == -Errno.ENOENT || result == -Errno.ENOTDIR) {
      return null;
    }
    if (result < 0) {
      throw failure(file, "cannot be examined (statx)", -result);
    }
    return Statx.read(buffer);
  }

  /** fstat of this open file. */
  Statx stat() throws IOException {
    MemorySegment buffer = STATX_BUFFER.get();
    int result = Syscalls.statx(fd, EMPTY_PATH, Syscalls.AT_EMPTY_PATH, buffer);
    if (result < 0) {
      throw failure(file, "cannot be examined (fstat)", -result);
    }
    return Statx.read(buffer);
  }

  void changeGroup(int gid, String groupName) throws IOException {
    int result = Syscalls.fchown(fd, -1, gid);
    if (result == -Errno.EPERM) {
      throw new FileSystemException(
          file.toString(),
          null,
          "cannot be given group "
              + groupName
              + " (EPERM): this user (uid "
              + Syscalls.geteuid()
              + ") is not a member of it; add it (usermod -aG "
              + groupName
              + " USER, then log in again) or run the process as a member");
    }
    if (result < 0) {
      throw failure(file, "cannot be given group " + groupName + " (fchown)", -result);
    }
  }

  void changeMode(int mode) throws IOException {
    int result = Syscalls.fchmod(fd, mode);
    if (result < 0) {
      throw failure(file, "cannot be given mode 0" + Integer.toOctalString(mode), -result);
    }
  }

  /** A channel on this same open file (see the overview), which the caller closes. */
  FileChannel channel(Set<? extends OpenOption> options) throws IOException {
    return FileChannel.open(Path.of("/proc/self/fd", Integer.toString(fd)), options);
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    Syscalls.close(fd);
  }

  static FileSystemException failure(Path file, String what, int errno) {
    return new FileSystemException(file.toString(), null, what + ": " + Errno.name(errno));
  }

  private static final MemorySegment EMPTY_PATH = Arena.global().allocateFrom("");

  /** {@code file} as a NUL-terminated string in {@code arena}. */
  static MemorySegment cPath(Arena arena, Path file) {
    return arena.allocateFrom(file.toString());
  }
}
