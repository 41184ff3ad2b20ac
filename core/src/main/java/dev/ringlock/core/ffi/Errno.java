package dev.ringlock.core.ffi;

/** Linux errno values that ringlock meets, and their symbolic names for error messages. */
public final class Errno {
  public static final int EPERM = 1;
  public static final int ENOENT = 2;
  public static final int ESRCH = 3;
  public static final int EINTR = 4;
  public static final int EBADF = 9;
  public static final int EAGAIN = 11;
  public static final int ENOMEM = 12;
  public static final int EACCES = 13;
  public static final int EFAULT = 14;
  public static final int EBUSY = 16;
  public static final int EEXIST = 17;
  public static final int EINVAL = 22;
  public static final int ENFILE = 23;
  public static final int EMFILE = 24;
  public static final int ENOSYS = 38;
  public static final int ETIME = 62;
  public static final int EOPNOTSUPP = 95;
  public static final int ETIMEDOUT = 110;
  public static final int EALREADY = 114;
  public static final int ECANCELED = 125;

  public static final int ENXIO = 6;
  public static final int EXDEV = 18;
  public static final int ENOTDIR = 20;
  public static final int EISDIR = 21;
  public static final int ENOSPC = 28;
  public static final int EROFS = 30;
  public static final int EMLINK = 31;
  public static final int ERANGE = 34;
  public static final int ENAMETOOLONG = 36;
  public static final int ELOOP = 40;

  private Errno() {}

  /** The symbolic name of {@code errno} ("EAGAIN"), or "errno N" for one this table lacks. */
  public static String name(int errno) {
    return switch (errno) {
      case EPERM -> "EPERM";
      case ENOENT -> "ENOENT";
      case ESRCH -> "ESRCH";
      case EINTR -> "EINTR";
      case EBADF -> "EBADF";
      case EAGAIN -> "EAGAIN";
      case ENOMEM -> "ENOMEM";
      case EACCES -> "EACCES";
      case EFAULT -> "EFAULT";
      case EBUSY -> "EBUSY";
      case EEXIST -> "EEXIST";
      case EINVAL -> "EINVAL";
      case ENFILE -> "ENFILE";
      case EMFILE -> "EMFILE";
      case ENOSYS -> "ENOSYS";
      case ETIME -> "ETIME";
      case EOPNOTSUPP -> "EOPNOTSUPP";
      case ETIMEDOUT -> "ETIMEDOUT";
      case EALREADY -> "EALREADY";
      case ECANCELED -> "ECANCELED";
      case ENXIO -> "ENXIO";
      case EXDEV -> "EXDEV";
      case ENOTDIR -> "ENOTDIR";
      case EISDIR -> "EISDIR";
      case ENOSPC -> "ENOSPC";
      case EROFS -> "EROFS";
      case EMLINK -> "EMLINK";
      case ERANGE -> "ERANGE";
      case ENAMETOOLONG -> "ENAMETOOLONG";
      case ELOOP -> "ELOOP";
      default -> "errno " + errno;
    };
  }
}
