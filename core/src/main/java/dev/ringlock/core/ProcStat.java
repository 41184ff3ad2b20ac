package dev.ringlock.core;

import dev.ringlock.core.ffi.Errno;
import dev.ringlock.core.ffi.FileLimits;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/*
 * Overview
 *
 * A process named by what no later process can share with it: its pid and its start time, field
 * 22 of /proc/<pid>/stat (clock ticks after boot; a process that reuses the pid starts later). The
 * identity is taken when a process is first asked about, and re-read afterwards: the same pid with
 * another start time is another process, so the one asked about has exited. This is how
 * ProcessWatch follows processes where pidfd_open is refused. Like a pidfd, it cannot tell a
 * process that died and whose pid was reused before the first question.
 *
 * What counts as exited, as with a pidfd: no /proc/<pid> at all; state Z (zombie) or X (dead),
 * unless the zombie is only a thread group leader that left before its other threads (the process
 * runs on: Threads above 1 in /proc/<pid>/status); a pid that names a thread which leads no
 * process (Tgid differs), the pid of a process that is gone reused for a thread.
 *
 * Reading /proc/<pid>/stat never waits for the process it describes (unlike /proc/<pid>/cmdline,
 * which takes its address-space lock), so the completion thread may read it.
 */
/** A process's identity and liveness, read from /proc. Package-private: ProcessWatch's fallback. */
final class ProcStat {
  /** What {@link #startTimeIfAlive} returns for a pid with no live process. */
  static final long NOT_ALIVE = -1;

  private static final int STATE_FIELD = 3; // fields count from 1, as proc(5) numbers them
  private static final int START_TIME_FIELD = 22;

  private ProcStat() {}

  /**
   * The start time of process {@code pid} if it is alive and leads its thread group; else {@link
   * #NOT_ALIVE}. For the first question about a pid.
   *
   * @throws RingException if /proc cannot be read for another reason than "no such process"
   */
  static long startTimeIfAlive(int pid) {
    long startTime = startTimeIfRunning(pid);
    if (startTime == NOT_ALIVE) {
      return NOT_ALIVE;
    }
    String tgid = statusField(pid, "Tgid:");
    if (tgid == null || Integer.parseInt(tgid) != pid) {
      return NOT_ALIVE; // gone meanwhile, or a thread that leads no process
    }
    return startTime;
  }

  /**
   * Whether the process that had {@code pid} when it started at {@code startTime} is still alive.
   *
   * @throws RingException if /proc cannot be read for another reason than "no such process"
   */
  static boolean isStillAlive(int pid, long startTime) {
    return startTimeIfRunning(pid) == startTime;
  }

  /** Field 22 of the pid's stat if its state is not a dead one; NOT_ALIVE otherwise. */
  private static long startTimeIfRunning(int pid) {
    String stat = read(pid, "stat");
    if (stat == null) {
      return NOT_ALIVE;
    }
    Fields fields = Fields.parse(stat, pid);
    char state = fields.state();
    if (state == 'X' || state == 'x') {
      return NOT_ALIVE;
    }
    if (state == 'Z') {
      String threads = statusField(pid, "Threads:");
      if (threads == null || Integer.parseInt(threads) <= 1) {
        return NOT_ALIVE; // the whole process: a zombie is dead to ringlock
      }
    }
    return fields.startTime();
  }

  /** The value after {@code key} in /proc/<pid>/status, or null if the process is gone. */
  private static String statusField(int pid, String key) {
    String status = read(pid, "status");
    if (status == null) {
      return null;
    }
    for (String line : status.split("\n")) {
      if (line.startsWith(key)) {
        return line.substring(key.length()).trim();
      }
    }
    throw new RingException("/proc/" + pid + "/status has no " + key + " line", 0);
  }

  /** /proc/<pid>/<file>, or null if there is no such process (any more). */
  private static String read(int pid, String file) {
    Path path = Path.of("/proc", Integer.toString(pid), file);
    try {
      return new String(Files.readAllBytes(path), StandardCharsets.ISO_8859_1);
    } catch (NoSuchFileException e) {
      return null;
    } catch (FileSystemException e) {
      // A process that exits between open and read: its files then read ESRCH.
      if ("No such process".equals(e.getReason())) {
        return null;
      }
      throw failure(path, e);
    } catch (IOException e) {
      if ("No such process".equals(e.getMessage())) {
        return null;
      }
      throw failure(path, e);
    }
  }

  private static RingException failure(Path path, IOException e) {
    String reason = e instanceof FileSystemException fs ? fs.getReason() : e.getMessage();
    if ("Too many open files".equals(reason)) {
      return new RingException(
          "cannot read " + path + ": " + FileLimits.explain("open", Errno.EMFILE), Errno.EMFILE, e);
    }
    if ("Too many open files in system".equals(reason)) {
      return new RingException(
          "cannot read " + path + ": " + FileLimits.explain("open", Errno.ENFILE), Errno.ENFILE, e);
    }
    return new RingException("cannot read " + path + ": " + e, 0, e);
  }

  /** The fields of a stat line that matter here. */
  record Fields(char state, long startTime) {
    /**
     * Parses {@code stat}: "pid (comm) state ...". The command name may hold spaces and
     * parentheses, so the fields are counted from the last ')'.
     */
    static Fields parse(String stat, int pid) {
      int close = stat.lastIndexOf(')');
      if (close < 0 || close + 2 >= stat.length()) {
        throw malformed(pid, stat);
      }
      String[] rest = stat.substring(close + 2).trim().split(" ");
      int startIndex = START_TIME_FIELD - STATE_FIELD;
      if (rest.length <= startIndex || rest[0].length() != 1) {
        throw malformed(pid, stat);
      }
      try {
        return new Fields(rest[0].charAt(0), Long.parseLong(rest[startIndex]));
      } catch (NumberFormatException e) {
        throw malformed(pid, stat);
      }
    }

    private static RingException malformed(int pid, String stat) {
      return new RingException(
          "/proc/" + pid + "/stat is not in the format of proc(5): '" + stat.strip() + "'", 0);
    }
  }
}
