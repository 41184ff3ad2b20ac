package dev.ringlock.core;

import dev.ringlock.testsupport.SeccompFilter;

/**
 * A child JVM that installs a seccomp filter refusing io_uring_setup, io_uring_enter and
 * io_uring_register (as a container's default profile does), then opens a FutexRing.
 *
 * <p>Arguments: the errno the filter answers, then {@code io_uring} or {@code auto}. Forced onto
 * io_uring it exits {@link #EXIT_BASE} plus the ordinal of the IoUringUnavailableException reason
 * it got, or 1 if the ring opened. On AUTO it exits 0 if the ring opened on the syscalls backend
 * and a wait was woken through it, 3 otherwise. 2 if the filter could not be installed.
 *
 * <p>(A child that refuses other system calls: {@code Child.jvm(...).refusing(errno, syscalls)}.)
 */
public final class SeccompChild {
  static final int EXIT_BASE = 10;

  public static void main(String[] args) throws Throwable {
    int errno = Integer.parseInt(args[0]);
    // Threads inherit the filter of the thread that creates them, so the ring's thread, which
    // this thread starts, runs under it.
    if (!SeccompFilter.install(errno, SeccompFilter.IO_URING_SYSCALLS)) {
      System.exit(SeccompFilter.EXIT_NOT_INSTALLED);
    }
    if (args[1].equals("auto")) {
      System.exit(wakesThroughAuto() ? 0 : 3);
    }
    try (FutexRing ring = FutexRing.open(FutexRing.options().backend(FutexRing.Backend.IO_URING))) {
      System.err.println("the ring opened under a filter that refuses io_uring: " + ring);
      System.exit(1);
    } catch (IoUringUnavailableException e) {
      System.err.println(e.getMessage());
      System.exit(EXIT_BASE + e.reason().ordinal());
    }
  }

  private static boolean wakesThroughAuto() throws Exception {
    try (FutexRing ring = FutexRing.open()) {
      Words words = new Words(1);
      var wait = ring.wait(words.word(0), 0);
      int woken = ring.wake(words.word(0), 1).get(10, java.util.concurrent.TimeUnit.SECONDS);
      boolean ok =
          ring.backend() == FutexRing.Backend.SYSCALLS
              && woken == 1
              && wait.get(10, java.util.concurrent.TimeUnit.SECONDS).isWoken();
      System.err.println(ring + " on " + ring.backend() + ": woke " + woken);
      return ok;
    }
  }
}
