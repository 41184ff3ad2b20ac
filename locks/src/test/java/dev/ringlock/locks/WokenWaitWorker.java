package dev.ringlock.locks;

import dev.ringlock.locks.internal.MutexCore;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A child JVM for MutexCrossProcessTest's replay of a woken wait whose decision another arrival
 * overtook, driven by lines on stdin and reporting on stdout.
 *
 * <p>Arguments: region file, mutex name. Commands: {@code first} and {@code second} request the
 * lock (print {@code FIRST ASKED} / {@code SECOND ASKED}); {@code await} waits up to 5 s for the
 * first request and prints {@code GRANTED <rescues>} (the waits of this view the re-check rescued)
 * or {@code NOT GRANTED}, then unlocks it and waits for the second the same way ({@code SECOND
 * GRANTED}); {@code exit}.
 */
public final class WokenWaitWorker {
  private WokenWaitWorker() {}

  public static void main(String[] args) throws Exception {
    Path regionFile = Path.of(args[0]);
    BufferedReader commands =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      Mutex mutex = region.mutex(args[1]);
      CompletableFuture<MutexGuard> first = null;
      CompletableFuture<MutexGuard> second = null;
      report("READY " + ProcessHandle.current().pid());
      for (String line = commands.readLine(); line != null; line = commands.readLine()) {
        switch (line.trim()) {
          case "first" -> {
            first = mutex.lock();
            report("FIRST ASKED");
          }
          case "second" -> {
            second = mutex.lock();
            report("SECOND ASKED");
          }
          case "await" -> {
            try {
              MutexGuard guard = first.get(5, TimeUnit.SECONDS);
              report("GRANTED " + ((MutexCore) mutex).recheckRescues());
              guard.unlock();
            } catch (TimeoutException e) {
              report("NOT GRANTED");
            }
          }
          case "await second" -> {
            second.get(10, TimeUnit.SECONDS).unlock();
            report("SECOND GRANTED");
          }
          case "exit" -> {
            return;
          }
          default -> report("UNKNOWN " + line);
        }
      }
    }
  }

  private static void report(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
