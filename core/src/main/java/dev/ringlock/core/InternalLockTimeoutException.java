package dev.ringlock.core;

import java.nio.file.Path;
import java.time.Duration;

/**
 * A synchronous call needed one of a region's internal locks (the directory lock, or the list lock
 * of a wait queue or condition variable) and another live process held it for longer than the
 * bound. Nothing was changed by the call. The process named by {@link #holderPid()} is stopped
 * (SIGSTOP, a debugger), paused (a long GC) or stuck: the message says what to do.
 *
 * <p>The bound is {@code RegionOptions.internalLockTimeout} (5 s by default). A holder that dies is
 * never waited for this long: its lock is taken over within milliseconds.
 */
public final class InternalLockTimeoutException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The pid the lock word named when the bound ran out. */
  private final int holderPid;

  /** What the lock guards, as messages name it. */
  private final String lockedObject;

  private final transient Path file;

  /** How long the caller waited. */
  private final Duration waited;

  /**
   * Says which lock, in which region, was held by which process for how long.
   *
   * @param lockedObject what the lock guards, as messages name it: "directory", "wait queue 'jobs'"
   * @param file the region file, or null for a region in memory
   * @param holderPid the pid the lock word named when the bound ran out (0 if it was just freed)
   * @param waited how long the caller waited
   */
  public InternalLockTimeoutException(
      String lockedObject, Path file, int holderPid, Duration waited) {
    super(
        "the internal lock of the "
            + lockedObject
            + " in "
            + (file == null ? "an in-memory region" : "region " + file)
            + " has been held by pid "
            + holderPid
            + " for longer than "
            + waited.toMillis()
            + " ms; nothing was changed. That process is stopped, paused or stuck inside"
            + " ringlock: resume it (kill -CONT "
            + holderPid
            + ") or end it (its lock is then taken over), then retry; raise"
            + " RegionOptions.internalLockTimeout if it only pauses for long");
    this.holderPid = holderPid;
    this.lockedObject = lockedObject;
    this.file = file;
    this.waited = waited;
  }

  /**
   * The pid the lock word named when the bound ran out (0 if it was freed just then).
   *
   * @return the holder's pid, or 0
   */
  public int holderPid() {
    return holderPid;
  }

  /**
   * What the lock guards: "directory", "wait queue 'jobs'", "condition variable 'ready'".
   *
   * @return what the lock guards
   */
  public String lockedObject() {
    return lockedObject;
  }

  /**
   * The region file, or null for a region in memory.
   *
   * @return the region file, or null
   */
  public Path file() {
    return file;
  }

  /**
   * How long the caller waited for the lock.
   *
   * @return the time waited
   */
  public Duration waited() {
    return waited;
  }
}
