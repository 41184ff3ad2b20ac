package dev.ringlock.core.ffi;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct statx} (linux/stat.h), the fields ringlock reads. Unlike {@code struct stat}, its
 * layout is the same on every architecture, which is why ringlock stats files through statx(2).
 *
 * @param uid the owner's user id
 * @param gid the file's group id
 * @param mode file type and permission bits ({@code S_IFMT} and {@code 07777})
 * @param linkCount names the file has; 0 once every name was removed
 * @param device the file system's device (major and minor), which with the inode names the file
 * @param inode the inode number
 * @param size the file's length in bytes
 */
public record Statx(int uid, int gid, int mode, int linkCount, long device, long inode, long size) {
  /** STATX_BASIC_STATS: every field of struct stat. */
  public static final int BASIC_STATS = 0x7ff;

  public static final int S_IFMT = 0170000;
  public static final int S_IFREG = 0100000;
  public static final int S_IFDIR = 0040000;
  public static final int S_IFLNK = 0120000;
  public static final int S_IFIFO = 0010000;
  public static final int S_IFSOCK = 0140000;
  public static final int S_IFCHR = 0020000;
  public static final int S_IFBLK = 0060000;

  public static final StructLayout LAYOUT =
      structLayout(
          JAVA_INT.withName("stx_mask"),
          JAVA_INT.withName("stx_blksize"),
          JAVA_LONG.withName("stx_attributes"),
          JAVA_INT.withName("stx_nlink"),
          JAVA_INT.withName("stx_uid"),
          JAVA_INT.withName("stx_gid"),
          JAVA_SHORT.withName("stx_mode"),
          paddingLayout(2),
          JAVA_LONG.withName("stx_ino"),
          JAVA_LONG.withName("stx_size"),
          JAVA_LONG.withName("stx_blocks"),
          JAVA_LONG.withName("stx_attributes_mask"),
          paddingLayout(64), // stx_atime, stx_btime, stx_ctime, stx_mtime
          JAVA_INT.withName("stx_rdev_major"),
          JAVA_INT.withName("stx_rdev_minor"),
          JAVA_INT.withName("stx_dev_major"),
          JAVA_INT.withName("stx_dev_minor"),
          paddingLayout(112)); // the rest of the kernel's 256 bytes

  private static final long NLINK = offset("stx_nlink");
  private static final long UID = offset("stx_uid");
  private static final long GID = offset("stx_gid");
  private static final long MODE = offset("stx_mode");
  private static final long INO = offset("stx_ino");
  private static final long SIZE = offset("stx_size");
  private static final long DEV_MAJOR = offset("stx_dev_major");
  private static final long DEV_MINOR = offset("stx_dev_minor");

  /** The fields of a buffer statx(2) filled. */
  public static Statx read(MemorySegment buffer) {
    return new Statx(
        buffer.get(JAVA_INT, UID),
        buffer.get(JAVA_INT, GID),
        Short.toUnsignedInt(buffer.get(JAVA_SHORT, MODE)),
        buffer.get(JAVA_INT, NLINK),
        (Integer.toUnsignedLong(buffer.get(JAVA_INT, DEV_MAJOR)) << 32)
            | Integer.toUnsignedLong(buffer.get(JAVA_INT, DEV_MINOR)),
        buffer.get(JAVA_LONG, INO),
        buffer.get(JAVA_LONG, SIZE));
  }

  /** The file type bits ({@link #S_IFREG}, ...). */
  public int type() {
    return mode & S_IFMT;
  }

  public boolean isRegularFile() {
    return type() == S_IFREG;
  }

  /** The permission bits, e.g. 0600. */
  public int permissions() {
    return mode & 07777;
  }

  /** True if this and {@code other} describe the same file (same device and inode). */
  public boolean sameFile(Statx other) {
    return device == other.device && inode == other.inode;
  }

  /** What kind of file this is, in words, for messages: "a FIFO (named pipe)". */
  public String typeName() {
    return switch (type()) {
      case S_IFREG -> "a regular file";
      case S_IFDIR -> "a directory";
      case S_IFLNK -> "a symbolic link";
      case S_IFIFO -> "a FIFO (named pipe)";
      case S_IFSOCK -> "a socket";
      case S_IFCHR -> "a character device";
      case S_IFBLK -> "a block device";
      default -> "a file of type 0" + Integer.toOctalString(type());
    };
  }

  private static long offset(String field) {
    return LAYOUT.byteOffset(groupElement(field));
  }
}
