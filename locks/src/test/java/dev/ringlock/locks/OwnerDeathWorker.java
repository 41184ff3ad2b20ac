package dev.ringlock.locks;

import dev.ringlock.testsupport.Watchdog;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A child JVM for the owner-death tests, driven by lines on stdin and reporting on stdout.
 *
 * <p>Arguments: region file, mutex name. Commands:
 *
 * <ul>
 *   <li>{@code lock}: requests the mutex; prints {@code TOOK <ownerDied> <nanoTime>} when it holds
 *       it, or {@code FAILED <exception class>};
 *   <li>{@code consistent}, {@code unlock}: on the held guard; print {@code MARKED}, {@code
 *       UNLOCKED};
 *   <li>{@code count <state file> <slot>}: increments the counter of the state file under the mutex
 *       until stdin closes or says {@code stop} (see {@link #count});
 *   <li>{@code exit}.
 * </ul>
 *
 * System.nanoTime is CLOCK_MONOTONIC, one clock for every process on the host, so the test compares
 * the printed time with its own.
 */
public final class OwnerDeathWorker {
  /** State file: the counter, then one completed-increment count per worker slot. */
  static final int COUNTER_OFFSET = 0;

  static final int SLOTS = 64;
  static final long STATE_BYTES = Long.BYTES * (1 + SLOTS);

  private static volatile MutexGuard held;

  private OwnerDeathWorker() {}

  public static void main(String[] args) throws Exception {
    Path regionFile = Path.of(args[0]);
    String name = args[1];
    Watchdog.start(120_000, () -> "holding " + held);
    BufferedReader commands =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      Mutex mutex = region.mutex(name);
      report("READY " + ProcessHandle.current().pid());
      for (String line = commands.readLine(); line != null; line = commands.readLine()) {
        String[] command = line.trim().split(" ");
        switch (command[0]) {
          case "lock" ->
              mutex
                  .lock()
                  .whenComplete(
                      (guard, failure) -> {
                        if (failure != null) {
                          Throwable cause =
                              failure instanceof CompletionException ? failure.getCause() : failure;
                          report("FAILED " + cause.getClass().getSimpleName());
                        } else {
                          held = guard;
                          report("TOOK " + guard.ownerDied() + " " + System.nanoTime());
                        }
                      });
          case "consistent" -> {
            held.markConsistent();
            report("MARKED");
          }
          case "unlock" -> {
            MutexGuard guard = held;
            held = null;
            guard.unlock();
            report("UNLOCKED");
          }
          case "count" -> count(mutex, Path.of(command[1]), Integer.parseInt(command[2]), commands);
          case "exit" -> {
            return;
          }
          default -> throw new IllegalArgumentException("unknown command " + line);
        }
      }
    }
  }

  /**
   * Increments the state file's counter under the mutex, and this worker's slot in the same
   * critical section, until told to stop; then prints {@code DONE <completed increments>}. The
   * invariant the mutex protects: counter == sum of slots. A holder killed between the two writes
   * breaks it by one; whoever takes over (ownerDied) checks that it is off by at most one, repairs
   * it, prints {@code RECOVERED}, and marks the mutex consistent. Off by more (two holders at once,
   * or a lost increment) prints {@code BROKEN}.
   */
  private static void count(Mutex mutex, Path stateFile, int slot, BufferedReader commands)
      throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    Thread.ofPlatform()
        .daemon(true)
        .start(
            () -> {
              try {
                String line = commands.readLine();
                while (line != null && !line.equals("stop")) {
                  line = commands.readLine();
                }
              } catch (Exception e) {
                // stdin gone: stop as well
              }
              stop.set(true);
            });
    long completed = 0;
    try (Arena arena = Arena.ofConfined();
        FileChannel channel =
            FileChannel.open(stateFile, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      MemorySegment state = channel.map(FileChannel.MapMode.READ_WRITE, 0, STATE_BYTES, arena);
      long slotAt = Long.BYTES * (1L + slot);
      while (!stop.get()) {
        MutexGuard guard = mutex.lock().join();
        held = guard;
        if (guard.ownerDied()) {
          long sum = 0;
          for (int i = 0; i < SLOTS; i++) {
            sum += state.get(ValueLayout.JAVA_LONG, Long.BYTES * (1L + i));
          }
          long counter = state.get(ValueLayout.JAVA_LONG, COUNTER_OFFSET);
          report(Math.abs(counter - sum) <= 1 ? "RECOVERED" : "BROKEN " + counter + " " + sum);
          state.set(ValueLayout.JAVA_LONG, COUNTER_OFFSET, sum);
          guard.markConsistent();
        }
        long counter = state.get(ValueLayout.JAVA_LONG, COUNTER_OFFSET);
        Thread.onSpinWait(); // widen the window a second holder would need
        state.set(ValueLayout.JAVA_LONG, COUNTER_OFFSET, counter + 1);
        state.set(ValueLayout.JAVA_LONG, slotAt, state.get(ValueLayout.JAVA_LONG, slotAt) + 1);
        held = null;
        guard.unlock();
        completed++;
      }
    }
    report("DONE " + completed);
  }

  private static void report(String line) {
    synchronized (System.out) {
      System.out.println(line);
      System.out.flush();
    }
  }
}
