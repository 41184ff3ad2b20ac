package dev.ringlock.core.memory;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/*
 * Overview
 *
 * One daemon thread per process checks, every period, that each open region file still has its
 * name (MappedRegion.checkFile: an lstat of the path compared by device and inode with the
 * mapped file's, a few microseconds per region). It is not the ring's completion thread: that
 * thread must never make a call that can block on a file system, and a region need not use a
 * ring. The thread exists only while some file-backed region is open (it times out when idle).
 *
 * The period is 1 s, or the system property ringlock.regionFileCheckMillis (10 ms at least).
 * A file deleted or replaced is noticed within one period plus the check itself; a region's
 * object lookups also check at once (MappedRegion.findOrCreate).
 */
final class RegionFileWatch {
  static final String PERIOD_PROPERTY = "ringlock.regionFileCheckMillis";
  static final long DEFAULT_PERIOD_MILLIS = 1000;
  private static final long MIN_PERIOD_MILLIS = 10;

  private static final ScheduledThreadPoolExecutor SCHEDULER = scheduler();

  private RegionFileWatch() {}

  /** Runs {@code check} every period until the returned future is cancelled. */
  static ScheduledFuture<?> watch(Runnable check) {
    long period = periodMillis();
    return SCHEDULER.scheduleWithFixedDelay(check, period, period, TimeUnit.MILLISECONDS);
  }

  /** The period, read at each watch so that a process may set the property before opening. */
  static long periodMillis() {
    Long configured = Long.getLong(PERIOD_PROPERTY);
    return configured == null
        ? DEFAULT_PERIOD_MILLIS
        : Math.max(MIN_PERIOD_MILLIS, configured.longValue());
  }

  private static ScheduledThreadPoolExecutor scheduler() {
    ScheduledThreadPoolExecutor scheduler =
        new ScheduledThreadPoolExecutor(
            1,
            task ->
                Thread.ofPlatform()
                    .daemon(true)
                    .name("ringlock-region-file-watch")
                    .unstarted(task));
    scheduler.setRemoveOnCancelPolicy(true); // a closed region's check leaves the queue at once
    scheduler.setKeepAliveTime(10, TimeUnit.SECONDS);
    scheduler.allowCoreThreadTimeOut(true);
    return scheduler;
  }
}
