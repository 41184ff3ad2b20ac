package dev.ringlock.locks;

import dev.ringlock.locks.internal.ReadWriteMutexCore;
import dev.ringlock.testsupport.Watchdog;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletionException;

/**
 * A child JVM for the read-write mutex's cross-process tests, driven by lines on stdin and
 * reporting on stdout.
 *
 * <p>Arguments: region file, lock name. Commands:
 *
 * <ul>
 *   <li>{@code read}: requests a read hold; prints {@code READ <nanoTime>} once it holds it, or
 *       {@code FAILED <exception class>};
 *   <li>{@code write}: requests the write hold; prints {@code WROTE <ownerDied> <fence> <nanoTime>}
 *       or {@code FAILED <exception class>};
 *   <li>{@code unread}, {@code unwrite}, {@code consistent}: on the held guards; print {@code
 *       UNREAD}, {@code UNWROTE}, {@code MARKED};
 *   <li>{@code hammer}: a thread takes the write hold, keeps it for HAMMER_HOLD_NANOS (busy: a
 *       short piece of work) and releases it, in a tight loop ({@code write().join()}, {@code
 *       unlock()}: the fast path whenever it is allowed); prints {@code HAMMERING} after its first
 *       write, and {@code stop} ends the loop and prints {@code HAMMERED <writes>};
 *   <li>{@code rescues}: prints {@code RESCUES <n>}, the kernel waits of this process on the lock
 *       that the sleeper's re-check rescued (a missed wake);
 *   <li>{@code exit}.
 * </ul>
 */
public final class ReadWriteWorker {
  private static volatile ReadGuard reading;
  private static volatile WriteGuard writing;

  /**
   * How long the hammer holds each write: the lock is almost always held (free only between its
   * unlock and its next claim, on one thread), as by a process that writes all the time.
   */
  private static final long HAMMER_HOLD_NANOS = 1_000_000;

  private static volatile boolean hammering;
  private static Thread hammer;

  private ReadWriteWorker() {}

  public static void main(String[] args) throws Exception {
    Path regionFile = Path.of(args[0]);
    Watchdog.start(120_000, () -> "reading " + reading + ", writing " + writing);
    BufferedReader commands =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      ReadWriteMutex lock = region.readWriteMutex(args[1]);
      report("READY " + ProcessHandle.current().pid());
      for (String line = commands.readLine(); line != null; line = commands.readLine()) {
        switch (line.trim()) {
          case "read" ->
              lock.read()
                  .whenComplete(
                      (guard, failure) -> {
                        if (failure != null) {
                          failed(failure);
                        } else {
                          reading = guard;
                          report("READ " + System.nanoTime());
                        }
                      });
          case "write" ->
              lock.write()
                  .whenComplete(
                      (guard, failure) -> {
                        if (failure != null) {
                          failed(failure);
                        } else {
                          writing = guard;
                          report(
                              "WROTE "
                                  + guard.ownerDied()
                                  + " "
                                  + guard.fence()
                                  + " "
                                  + System.nanoTime());
                        }
                      });
          case "unread" -> {
            reading.unlock();
            report("UNREAD");
          }
          case "unwrite" -> {
            writing.unlock();
            report("UNWROTE");
          }
          case "consistent" -> {
            writing.markConsistent();
            report("MARKED");
          }
          case "hammer" -> {
            hammering = true;
            hammer = Thread.ofPlatform().name("hammer").start(() -> hammer(lock));
          }
          case "stop" -> {
            hammering = false;
            hammer.join();
          }
          case "rescues" -> report("RESCUES " + ((ReadWriteMutexCore) lock).recheckRescues());
          case "exit" -> {
            return;
          }
          default -> throw new IllegalArgumentException("unknown command " + line);
        }
      }
    }
  }

  private static void hammer(ReadWriteMutex lock) {
    long writes = 0;
    while (hammering) {
      WriteGuard guard = lock.write().join();
      long until = System.nanoTime() + HAMMER_HOLD_NANOS;
      while (System.nanoTime() < until) {
        Thread.onSpinWait();
      }
      guard.unlock();
      if (++writes == 1) {
        report("HAMMERING");
      }
    }
    report("HAMMERED " + writes);
  }

  private static void failed(Throwable failure) {
    Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
    report("FAILED " + cause.getClass().getSimpleName());
  }

  private static synchronized void report(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
