package dev.ringlock.locks;

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
 *   <li>{@code exit}.
 * </ul>
 */
public final class ReadWriteWorker {
  private static volatile ReadGuard reading;
  private static volatile WriteGuard writing;

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
          case "exit" -> {
            return;
          }
          default -> throw new IllegalArgumentException("unknown command " + line);
        }
      }
    }
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
