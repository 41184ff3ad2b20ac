package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A waiter in a JVM where a seccomp filter refuses pidfd_open (ENOSYS, as gVisor answers; EPERM, as
 * a container profile may) queues lock() behind a holder in another JVM, which is SIGKILLed: the
 * waiter takes the mutex over, by /proc, within a bound. Before, it waited for ever.
 */
@Timeout(120)
class MutexOwnerDeathWithoutPidfdTest {
  private static final int SYS_PIDFD_OPEN = 434;

  /** /proc is polled every 100 ms; the bound leaves room for a loaded CI machine. */
  private static final long TAKEOVER_BOUND_MILLIS = 3_000;

  @TempDir Path directory;
  private Path regionFile;
  private final List<Process> children = new ArrayList<>();

  @BeforeEach
  void createRegion() throws Exception {
    regionFile = directory.resolve("region");
    SharedRegion.open(regionFile).close();
  }

  @AfterEach
  void killChildren() {
    children.forEach(Process::destroyForcibly);
  }

  @ParameterizedTest
  @ValueSource(ints = {38 /* ENOSYS */, 1 /* EPERM */})
  void aWaiterWithoutPidfdTakesOverFromAKilledHolder(int errno) throws Exception {
    Worker holder = new Worker(ChildJvm.startPiped(List.of(), OwnerDeathWorker.class, args()));
    holder.send("lock");
    holder.expect("TOOK");
    Worker waiter =
        new Worker(
            ChildJvm.startPipedRefusing(errno, SYS_PIDFD_OPEN, OwnerDeathWorker.class, args()));
    waiter.send("lock");
    Thread.sleep(500); // the waiter queues, arms its wait and watches the holder
    long killedAt = System.nanoTime();
    holder.process.destroyForcibly();
    assertTrue(holder.process.waitFor(10, TimeUnit.SECONDS));
    String took = waiter.expect("TOOK");
    long millis = TimeUnit.NANOSECONDS.toMillis(Long.parseLong(took.split(" ")[2]) - killedAt);
    System.out.println("errno " + errno + ": takeover " + millis + " ms after SIGKILL");
    assertTrue(Boolean.parseBoolean(took.split(" ")[1]), "the takeover reports the death");
    assertTrue(millis < TAKEOVER_BOUND_MILLIS, "took over " + millis + " ms after the kill");
  }

  private String[] args() {
    return new String[] {regionFile.toString(), "m"};
  }

  /** A child driven through its stdin, its stdout read line by line. */
  private final class Worker {
    final Process process;
    final PrintWriter commands;
    final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    final List<String> seen = Collections.synchronizedList(new ArrayList<>());

    Worker(Process process) throws Exception {
      this.process = process;
      children.add(process);
      commands = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
      BufferedReader out =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
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
                  // the child died
                }
              });
      expect("READY");
    }

    void send(String command) {
      commands.println(command);
    }

    /** The next line starting with {@code prefix}; fails after 20 s. */
    String expect(String prefix) throws Exception {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      for (; ; ) {
        String line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
        assertNotNull(line, "no '" + prefix + "' from the child; it printed " + seen);
        if (line.startsWith(prefix)) {
          return line;
        }
      }
    }
  }
}
