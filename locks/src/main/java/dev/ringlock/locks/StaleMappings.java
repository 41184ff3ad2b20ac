package dev.ringlock.locks;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/*
 * Overview
 *
 * Finds processes that still map an earlier file of a region's path: one deleted (the kernel
 * shows "<path> (deleted)" in /proc/<pid>/maps) or replaced (same path, another inode). Those
 * processes no longer share locks with the processes that open the path now, which is what
 * systemd-logind's RemoveIPC=yes or a tmp cleaner does to a region in use. A process notices it
 * itself within its watch period and closes its region; this shows it from outside, meanwhile or
 * when the process cannot (an older ringlock).
 *
 * /proc/<pid>/maps of other users' processes is readable only by root (or with ptrace rights):
 * the scan sees what this user may see and skips the rest silently.
 *
 * A maps line is "start-end perms offset major:minor inode pathname"; the pathname is the
 * kernel's canonical path, so the region's path is made canonical the same way (its directory
 * resolved with toRealPath).
 */
final class StaleMappings {
  private static final String DELETED = " (deleted)";

  private StaleMappings() {}

  /** One warning per process and earlier file; empty if none, or if /proc cannot be read. */
  static List<String> find(Path file) {
    String path;
    long inode;
    try {
      Path parent = file.toAbsolutePath().getParent();
      path = (parent == null ? file : parent.toRealPath().resolve(file.getFileName())).toString();
      inode =
          ((Number) Files.getAttribute(file, "unix:ino", LinkOption.NOFOLLOW_LINKS)).longValue();
    } catch (IOException | RuntimeException unknown) {
      return List.of();
    }
    Map<Long, List<String>> byPid = new TreeMap<>();
    try (DirectoryStream<Path> processes = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
      for (Path process : processes) {
        for (String earlier : earlierFiles(process.resolve("maps"), path, inode)) {
          byPid
              .computeIfAbsent(
                  Long.parseLong(process.getFileName().toString()), pid -> new ArrayList<>())
              .add(earlier);
        }
      }
    } catch (IOException | RuntimeException noProc) {
      return List.of();
    }
    List<String> warnings = new ArrayList<>();
    byPid.forEach(
        (pid, files) ->
            files.forEach(
                earlier ->
                    warnings.add(
                        "process "
                            + pid
                            + " maps an earlier file of this path ("
                            + earlier
                            + "): it does not share locks with processes that open the path now;"
                            + " restart it or have it open the region again")));
    return warnings;
  }

  /** "inode N, deleted" or "inode N, replaced" for each earlier file a process maps. */
  private static List<String> earlierFiles(Path maps, String path, long currentInode) {
    List<String> earlier = new ArrayList<>();
    List<String> lines;
    try {
      lines = Files.readAllLines(maps);
    } catch (IOException | RuntimeException unreadable) {
      return earlier; // gone, or another user's process
    }
    for (String line : lines) {
      String[] fields = line.split("\\s+", 6);
      if (fields.length < 6) {
        continue;
      }
      String name = fields[5];
      boolean deleted = name.endsWith(DELETED);
      if (deleted) {
        name = name.substring(0, name.length() - DELETED.length());
      }
      if (!name.equals(path)) {
        continue;
      }
      long inode;
      try {
        inode = Long.parseLong(fields[4]);
      } catch (NumberFormatException notAnInode) {
        continue;
      }
      if (deleted || inode != currentInode) {
        String finding = "inode " + inode + (deleted ? ", deleted" : ", replaced");
        if (!earlier.contains(finding)) {
          earlier.add(finding);
        }
      }
    }
    return earlier;
  }
}
