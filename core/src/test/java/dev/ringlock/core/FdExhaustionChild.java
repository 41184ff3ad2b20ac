package dev.ringlock.core;

import dev.ringlock.core.ffi.FileLimits;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.testsupport.Child;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Run under a low descriptor limit (ulimit -n): uses up every descriptor, then asks ringlock for a
 * pidfd, a ring and a region file, and prints each failure's message ({@code MESSAGE what: ...}),
 * or {@code NO FAILURE what} if one succeeded. Exits 0 once all three were tried.
 *
 * <p>Arguments: a region file path to try to create.
 */
public final class FdExhaustionChild {
  private FdExhaustionChild() {}

  public static void main(String[] args) throws Exception {
    Path regionFile = Path.of(args[0]);
    Child sleeper = Child.program("sleep", "60").start();
    int pid = sleeper.intPid();
    // Every path once while descriptors remain: at the limit, loading a class from a file fails.
    ProcessWatch.isAliveNow(pid);
    ioUringRing().close();
    MappedRegion.open(regionFile, 1 << 16, 4).close();
    Files.delete(regionFile);
    FileLimits.explain("warm-up", 24);
    Class.forName(RingException.class.getName());
    new RingException("warm-up", 24).getMessage();

    List<FileInputStream> hogs = new ArrayList<>();
    try {
      for (; ; ) {
        hogs.add(new FileInputStream("/dev/null"));
      }
    } catch (IOException limitReached) {
      // every descriptor is in use now
    }
    List<String> report = new ArrayList<>();
    try {
      ProcessWatch.isAliveNow(pid);
      report.add("NO FAILURE pidfd");
    } catch (RingException e) {
      report.add("MESSAGE pidfd: " + e.getMessage());
    }
    try {
      ioUringRing().close();
      report.add("NO FAILURE ring");
    } catch (RingException e) {
      report.add("MESSAGE ring: " + e.getMessage());
    }
    try {
      MappedRegion.open(regionFile, 1 << 16, 4).close();
      report.add("NO FAILURE region");
    } catch (IOException e) {
      report.add("MESSAGE region: " + e.getMessage());
    }
    for (FileInputStream hog : hogs) {
      hog.close();
    }
    Files.deleteIfExists(regionFile);
    sleeper.close();
    report.forEach(System.out::println);
    System.exit(0);
  }

  /**
   * A ring on io_uring whatever -Dringlock.backend says: io_uring_setup is the ring call that needs
   * descriptors (the ring's fd, its eventfd); the syscalls backend opens none.
   */
  private static FutexRing ioUringRing() {
    return FutexRing.open(FutexRing.options().backend(FutexRing.Backend.IO_URING));
  }
}
