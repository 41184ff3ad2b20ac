package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM driven by lines (a worker such as OwnerDeathWorker, started by {@link
 * ChildJvm#startPiped}): commands go to its stdin; a daemon thread reads its stdout into {@link
 * #lines} (not yet consumed by {@link #expect}) and {@link #seen} (everything, for messages).
 */
class PipedChild {
  /** How long {@link #expect} waits for a line: only a bound on a failing test. */
  private static final long EXPECT_NANOS = TimeUnit.SECONDS.toNanos(30);

  final Process process;
  final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
  final List<String> seen = Collections.synchronizedList(new ArrayList<>());
  private final PrintWriter commands;

  PipedChild(Process process) {
    this.process = process;
    commands = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
    BufferedReader out =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    Thread.ofPlatform()
        .daemon(true)
        .start(
            () -> {
              try {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                  seen.add(line);
                  lines.add(line);
                }
              } catch (Exception e) {
                // the child died: its last lines are in seen
              }
            });
  }

  final void send(String command) {
    commands.println(command);
  }

  /** The next line starting with {@code prefix}, skipping others; fails after 30 s. */
  final String expect(String prefix) throws InterruptedException {
    long deadline = System.nanoTime() + EXPECT_NANOS;
    for (; ; ) {
      String line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      assertNotNull(line, "no '" + prefix + "' from the child; it printed " + seen);
      if (line.startsWith(prefix)) {
        return line;
      }
    }
  }

  /** SIGKILL, and waits for the child to be gone. */
  final void kill() throws InterruptedException {
    process.destroyForcibly();
    assertTrue(process.waitFor(10, TimeUnit.SECONDS), "the child did not die");
  }
}
