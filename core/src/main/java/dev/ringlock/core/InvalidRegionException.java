package dev.ringlock.core;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file offered as a ringlock region is not one this library can use. Nothing was mapped and the
 * file was left exactly as it was: attaching never writes. {@link #problem()} says what is wrong
 * and the message names the file and what to do about it.
 *
 * <p>Thrown by {@code MappedRegion.open} when attaching, before anything is read from a file whose
 * type, owner or mode is refused. A region that turns out to be damaged after it was opened
 * (another process wrote garbage into it) surfaces as an {@link java.io.UncheckedIOException}
 * wrapping one of these, with {@link Problem#CORRUPT}; so does a region whose file was deleted or
 * replaced while it was open, with {@link Problem#FILE_REPLACED} (a {@code SharedRegion} then
 * closes itself, with this as the cause of its {@code RegionClosedException}).
 */
public final class InvalidRegionException extends IOException {
  private static final long serialVersionUID = 1L;

  /** What is wrong with the file, each with the advice the message ends with. */
  public enum Problem {
    /** The file does not start with ringlock's magic number: it is some other file. */
    NOT_A_REGION("pass another file, or delete it if nothing uses it"),
    /** Another ringlock version wrote the file, in a layout this one cannot read. */
    UNSUPPORTED_VERSION(
        "run the same ringlock version in every process that shares a region, or pass another"
            + " file"),
    /** The file is shorter than its header says: it was cut short or shrunk. */
    TRUNCATED(
        "the file was shrunk or cut short; delete it if nothing uses it, and ringlock creates"
            + " it again"),
    /** The header places the object directory outside the region or across its data area. */
    DIRECTORY_OUT_OF_BOUNDS(
        "the header is damaged; delete the file if nothing uses it, and ringlock creates it"
            + " again"),
    /**
     * The region was created in another PID namespace than this process's: lock owners are recorded
     * as process ids, which name other processes here (a live owner would look dead).
     */
    OTHER_PID_NAMESPACE(
        "run every process that shares the region in one PID namespace (containers: share one,"
            + " e.g. docker --pid=host or --pid=container:NAME), or give each namespace its own"
            + " region file"),
    /** A header field or a directory entry holds a value no ringlock writes. */
    CORRUPT(
        "the region is damaged; delete the file if nothing uses it, and ringlock creates it"
            + " again"),
    /**
     * The path's last component is a symbolic link. ringlock never follows one there: a link
     * planted at the region's name would aim this process's writes at a file of someone else's
     * choosing.
     */
    SYMBOLIC_LINK(
        "ringlock never follows a symbolic link at a region's name; pass the path of the file"
            + " itself, or delete the link"),
    /** Something other than a regular file is at the path: a FIFO, a socket, a device. */
    NOT_A_REGULAR_FILE("a region is a regular file; remove what is there, or pass another path"),
    /**
     * The file is owned by another user (and, for a region shared with a group, is not of that
     * group). Whoever can write a region can hold its locks for ever or crash its users.
     */
    FOREIGN_OWNER(
        "another user may have created it to control or crash your processes, so it is not used;"
            + " find out who made it, delete it, and keep region files in a directory only your"
            + " service can write (see docs/region-files.md); to share a region between users,"
            + " open it with RegionOptions.sharedWithGroup(group) in every process"),
    /** The file's mode lets others (or, unless it is the sharing group, its group) write it. */
    WRITABLE_BY_OTHERS(
        "users outside the sharing processes could change your locks, so it is not used; if"
            + " nobody else touched it, chmod it to 0600 (or to 0660 and open it with"
            + " RegionOptions.sharedWithGroup), else delete it and ringlock creates it again"),
    /**
     * The file this process maps was deleted, or its path now names another file: processes that
     * open the path now use other locks than this process. systemd-logind with RemoveIPC=yes
     * deletes a user's files in /dev/shm when the user's last session ends, and tmp cleaners delete
     * old files.
     */
    FILE_REPLACED(
        "close the region and open it again so that every process uses one file, and keep region"
            + " files where nothing deletes them (a directory the service owns, not /dev/shm"
            + " under RemoveIPC=yes; see docs/region-files.md)");

    private final String advice;

    Problem(String advice) {
      this.advice = advice;
    }

    /**
     * What to do about it.
     *
     * @return the advice, a sentence
     */
    public String advice() {
      return advice;
    }
  }

  private final transient Path file;

  /** What is wrong with the file. */
  private final Problem problem;

  /**
   * Names the file, what was found in it and what to do about it.
   *
   * @param file the region file, or null for an in-memory region
   * @param finding what was found, phrased to follow the file's name ("is not a ringlock region
   *     (magic 0x...; expected 0x...)")
   * @param problem what is wrong, which decides the advice
   */
  public InvalidRegionException(Path file, Problem problem, String finding) {
    super(
        (file == null ? "in-memory region" : file.toString())
            + " "
            + finding
            + ": "
            + problem.advice());
    this.file = file;
    this.problem = problem;
  }

  /**
   * What is wrong.
   *
   * @return the problem
   */
  public Problem problem() {
    return problem;
  }

  /**
   * The file that was rejected; null for an in-memory region.
   *
   * @return the region file, or null
   */
  public Path file() {
    return file;
  }
}
