package dev.ringlock.bench.xproc;

import dev.ringlock.core.FutexRing;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A child process of the driver and the lines it prints. A daemon thread queues stdout lines, so
 * waiting for one can time out; stderr goes straight to the driver's stderr. Lines the protocol
 * does not expect are echoed with the child's name. {@link #close()} kills a child still running
 * (it is ours), so a hung measurement never outlives the driver.
 */
public final class ChildProcess implements AutoCloseable {
  private static final String END_OF_OUTPUT = new String("end of output"); // compared by identity
  // The switch of the joined thread's take-over (docs/threading.md), passed on to the children
  private static final String JOIN_TAKEOVER_PROPERTY = "ringlock.joinTakeover";

  private final String name;
  private final Process process;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private volatile boolean killed; // set before the kill, read by the reader when its pipe closes

  private ChildProcess(String name, List<String> command) throws IOException {
    this.name = name;
    this.process =
        new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    Thread.ofPlatform()
        .daemon(true)
        .name(name + "-stdout")
        .start(
            () -> {
              try (BufferedReader reader = process.inputReader()) {
                for (String line; (line = reader.readLine()) != null; ) {
                  lines.add(line);
                }
              } catch (IOException e) {
                // Process.destroyForcibly closes the pipe under a blocked read ("Stream closed"):
                // for a child we killed that is just the end of its output.
                if (!killed) {
                  lines.add("(reading the output failed: " + e + ")");
                }
              } finally {
                lines.add(END_OF_OUTPUT);
              }
            });
  }

  /** Starts any program. */
  public static ChildProcess start(String name, List<String> command) {
    try {
      return new ChildProcess(name, command);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + command, e);
    }
  }

  /**
   * Starts {@code mainClass} in a JVM like this one: the same java binary and class path, with
   * native access enabled.
   */
  public static ChildProcess startJava(String name, Class<?> mainClass, List<String> args) {
    return startJava(name, List.of(), mainClass, args);
  }

  /** As {@link #startJava(String, Class, List)}, with {@code jvmOptions} before the class path. */
  public static ChildProcess startJava(
      String name, List<String> jvmOptions, Class<?> mainClass, List<String> args) {
    String java =
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> command = new ArrayList<>();
    command.add(java);
    command.add("--enable-native-access=ALL-UNNAMED");
    String backend = System.getProperty(FutexRing.BACKEND_PROPERTY);
    if (backend != null) { // a run on -Dringlock.backend=syscalls measures its children there too
      command.add("-D" + FutexRing.BACKEND_PROPERTY + "=" + backend);
    }
    String takeover = System.getProperty(JOIN_TAKEOVER_PROPERTY);
    if (takeover != null) { // a run with the join take-over off measures its children without it
      command.add("-D" + JOIN_TAKEOVER_PROPERTY + "=" + takeover);
    }
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass.getName());
    command.addAll(args);
    return start(name, command);
  }

  /**
   * The next line that starts with {@code prefix}; earlier lines are echoed.
   *
   * @throws IllegalStateException if the child ends its output or {@code timeout} passes first
   */
  public String awaitLine(String prefix, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (; ; ) {
      String line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (line == null) {
        throw new IllegalStateException(name + " printed no '" + prefix + "' within " + timeout);
      }
      if (line == END_OF_OUTPUT) {
        throw new IllegalStateException(
            name + " ended its output before '" + prefix + "'" + exitDescription());
      }
      if (line.startsWith(prefix)) {
        return line;
      }
      System.out.println("  [" + name + "] " + line);
    }
  }

  /** The next line the child printed, if there is one now; null if none (or its output ended). */
  public String pollLine() {
    String line = lines.peek();
    if (line == null || line == END_OF_OUTPUT) {
      return null; // the end marker stays, so awaitLine still reports the end
    }
    return lines.poll();
  }

  /** Whether the process is still running. */
  public boolean isAlive() {
    return process.isAlive();
  }

  /**
   * Waits for the child to exit.
   *
   * @throws IllegalStateException if it exits with a non-zero status or not within {@code timeout}
   */
  public void awaitSuccess(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException(name + " did not exit within " + timeout);
    }
    if (process.exitValue() != 0) {
      throw new IllegalStateException(name + " failed" + exitDescription());
    }
  }

  private String exitDescription() {
    try {
      process.waitFor(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return process.isAlive() ? "" : " (exit status " + process.exitValue() + ")";
  }

  /** Writes {@code line} to the child's stdin. */
  public void send(String line) {
    try {
      process
          .getOutputStream()
          .write((line + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
      process.getOutputStream().flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write to " + name, e);
    }
  }

  public long pid() {
    return process.pid();
  }

  /** SIGKILL. Its output ends there, without a read failure. */
  public void kill() {
    killed = true;
    process.destroyForcibly();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      kill();
    }
  }
}
