package dev.ringlock.core.memory;

import dev.ringlock.core.InvalidRegionException;
import dev.ringlock.core.InvalidRegionException.Problem;
import dev.ringlock.core.ffi.Statx;
import dev.ringlock.core.ffi.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.Objects;
import java.util.Optional;

/*
 * Overview
 *
 * Who may write a region file, and so who this process trusts with its locks. Anyone who can
 * write the file can hold every lock in it for ever, forge owners, or truncate it under the
 * mapping; so attaching checks the file the descriptor really opened (fstat, never the path)
 * before reading a byte of it.
 *
 * Private (the default). The file must be owned by this process's effective uid, and neither
 * its group nor others may write it. The effective uid is what the kernel checks permissions
 * against; root gets no exemption, because root attaching to a file another user prepared is
 * exactly the attack.
 *
 * Shared with group G. Several users' processes attach to one file, so the owner is whichever
 * of them created it. Accepted: a file whose group is G and that others cannot write (created
 * 0660), or a private file as above. The trust boundary is then the members of G and root: only
 * they can own a file of group G (chown to a group needs membership), and the owner can always
 * change the mode. A directory that gives non-members files of group G (setgid, writable by
 * others) would break that; docs/region-files.md says so.
 *
 * Nothing here applies to read-only attaching (inspection), which cannot change the file;
 * there the same checks become warnings.
 */
/**
 * Which files {@link MappedRegion#open} accepts and how it creates one: {@link #ownerOnly()} (mode
 * 0600, owned by this process's effective uid) or {@link #sharedWithGroup(String)} (mode 0660 with
 * that group).
 */
public final class RegionAccess {
  private static final int GROUP_WRITE = 0020;
  private static final int OTHERS_WRITE = 0002;
  private static final RegionAccess OWNER_ONLY = new RegionAccess(null);

  private final String group; // null: private to the owner

  private RegionAccess(String group) {
    this.group = group;
  }

  /** Files owned by this process's effective uid that nobody else may write; created 0600. */
  public static RegionAccess ownerOnly() {
    return OWNER_ONLY;
  }

  /**
   * Files of group {@code group} that others may not write, whoever owns them (or private files as
   * {@link #ownerOnly()}); created 0660 with that group. The group is looked up when a region is
   * opened.
   */
  public static RegionAccess sharedWithGroup(String group) {
    Objects.requireNonNull(group, "group");
    if (group.isEmpty() || group.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("a group name must be nonempty without NUL: " + group);
    }
    return new RegionAccess(group);
  }

  /** The sharing group's name, if any. */
  public Optional<String> group() {
    return Optional.ofNullable(group);
  }

  /** The permission bits a file is created with. */
  int creationMode() {
    return group == null ? 0600 : 0660;
  }

  /**
   * The sharing group's id.
   *
   * @throws IllegalArgumentException if there is no such group
   */
  int groupId() {
    long gid = Syscalls.groupId(group);
    if (gid < 0) {
      throw new IllegalArgumentException(
          "no group named '"
              + group
              + "' (RegionOptions.sharedWithGroup); create it (groupadd "
              + group
              + ") or name an existing one");
    }
    return (int) gid;
  }

  /**
   * Refuses {@code status} (the open file's) unless this policy accepts it.
   *
   * @throws InvalidRegionException with {@link Problem#FOREIGN_OWNER} or {@link
   *     Problem#WRITABLE_BY_OTHERS}, naming owner, group and mode
   */
  void check(Path file, Statx status) throws InvalidRegionException {
    int euid = Syscalls.geteuid();
    int permissions = status.permissions();
    boolean ownedHere = status.uid() == euid;
    if (group != null) {
      int gid = groupId();
      if (status.gid() == gid && (permissions & OTHERS_WRITE) == 0) {
        return;
      }
      if (status.gid() == gid) {
        throw writable(file, status, "others can write it");
      }
      if (!ownedHere) {
        throw new InvalidRegionException(
            file,
            Problem.FOREIGN_OWNER,
            "belongs to "
                + describeOwner(file, status)
                + ", neither this process's effective uid "
                + euid
                + " nor the sharing group "
                + group
                + " (gid "
                + gid
                + ")");
      }
    } else if (!ownedHere) {
      throw new InvalidRegionException(
          file,
          Problem.FOREIGN_OWNER,
          "is owned by "
              + describeOwner(file, status)
              + ", not by this process's effective uid "
              + euid);
    }
    if ((permissions & (GROUP_WRITE | OTHERS_WRITE)) != 0) {
      throw writable(
          file,
          status,
          (permissions & OTHERS_WRITE) != 0 ? "others can write it" : "its group can write it");
    }
  }

  /**
   * What a private-region check would object to in {@code status}, as a sentence, for inspection
   * tools (which open anything read-only and warn instead).
   */
  static Optional<String> warning(Path file, Statx status) {
    try {
      OWNER_ONLY.check(file, status);
      return Optional.empty();
    } catch (InvalidRegionException e) {
      String finding = e.getMessage();
      if ((status.permissions() & OTHERS_WRITE) == 0 && e.problem() == Problem.WRITABLE_BY_OTHERS) {
        finding +=
            " (a region shared with its group through RegionOptions.sharedWithGroup is 0660)";
      }
      return Optional.of(finding);
    }
  }

  private static InvalidRegionException writable(Path file, Statx status, String who) {
    return new InvalidRegionException(
        file,
        Problem.WRITABLE_BY_OTHERS,
        "has mode 0"
            + Integer.toOctalString(status.permissions())
            + " ("
            + who
            + "; owner "
            + describeOwner(file, status)
            + ")");
  }

  /** "uid 1001 (alice), group 1001 (alice)": names where the system knows them. */
  private static String describeOwner(Path file, Statx status) {
    String owner = "uid " + Integer.toUnsignedString(status.uid());
    String group = "group " + Integer.toUnsignedString(status.gid());
    try {
      PosixFileAttributes names =
          Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      owner += " (" + names.owner().getName() + ")";
      group += " (" + names.group().getName() + ")";
    } catch (IOException | RuntimeException unknown) {
      // names are a courtesy: the ids say it all, and the path may name another file by now
    }
    return owner + ", " + group;
  }

  @Override
  public String toString() {
    return group == null ? "owner only" : "shared with group " + group;
  }
}
