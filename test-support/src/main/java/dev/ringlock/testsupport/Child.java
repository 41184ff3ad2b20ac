package dev.ringlock.testsupport;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A child process of a test: a JVM running a test-side main class ({@link #jvm}) or any program
 * ({@link #program}), started from a {@link Builder} and killed by {@link #close()}.
 *
 * <pre>{@code
 * try (Child child = Child.jvm(OwnerDeathWorker.class, file.toString()).captureOutput().start()) {
 *   child.expect("READY");
 *   child.send("LOCK");
 *   child.expect("LOCKED");
 *   child.kill();
 * }
 * }</pre>
 */
/*
 * Overview
 *
 * One way to start a child, for the tests of every module (this module depends on the JDK only,
 * so core's tests can use it too).
 *
 * A child JVM runs the java binary of the test JVM with native access enabled, a 256 MB heap (many
 * children share a 2-core CI machine; a later -Xmx in jvmOptions wins), and, when the test JVM has
 * it, -Dringlock.backend: the tests run once per backend and their children must run on the same
 * one. It also gets QUICK_START, C1 only, the serial collector and no perf data, unless the test
 * asks for fullJvm(): the tests start some hundreds of children per backend, nearly all of which
 * run a few lock operations and are told what to do, killed or done within a second or two, so
 * their ringlock code never gets hot enough for C2 anyway; what C2 and G1 cost them is start-up
 * (on this 2-core VM, a child's CPU to READY fell from about 0.8 s to 0.5 s, and its wall time
 * under load 12 from 2.4-3.4 s to 1.3-1.9 s). A child whose hot loop is what its test is about
 * (contention loops, the wake stress, an allocation count that needs C2's escape analysis) asks
 * for fullJvm(). Its class path is the main class's own folder followed by the test JVM's module path and
 * class path (surefire runs a named module's tests on the module path, with the test classes
 * patched in, so java.class.path alone lacks both). Everything goes on the child's class path: the
 * children run ringlock unnamed, as an application on the class path would.
 *
 * Wrappers go in front of the java command, each exec'ing the next, so the pid is the JVM's:
 * setpriv (runAsUser), unshare with /proc unmounted (withoutProc), bash's ulimit -n (fileLimit).
 * A seccomp filter (refusing) is installed by SeccompFilter's main inside the child JVM before it
 * runs the main class: the filter must be installed by the process it restricts.
 *
 * Output never goes to the test JVM's stdout, which is surefire's channel to Maven. By default a
 * child's stdout and stderr are appended to target/child-processes.log; logTo names another
 * file; captureOutput and captureStdout read lines into this object, where expect waits for them
 * and seen/output show them in failure messages. Only a capturing child gets a stdin pipe (for
 * send); others read /dev/null, so a child that is only a pid (a sleeper) costs the test JVM no
 * descriptor.
 */
public final class Child implements AutoCloseable {
  /** The system property naming the backend of ringlock's FutexRing (a test in core checks it). */
  public static final String BACKEND_PROPERTY = "ringlock.backend";

  /** How long {@link #expect(String)} waits for a line: only a bound on a failing test. */
  public static final Duration EXPECT_TIMEOUT = Duration.ofSeconds(30);

  /**
   * How long a test waits for a child JVM to start, that is to say it is up ({@link
   * #awaitStarted}), or for anything else that includes another JVM's start-up. No test measures a
   * start-up, and on a 2-core VM under load 30 and more a JVM took over 30 s to print READY: a
   * bound that only stops a test that has failed anyway can be this generous. The bounds that a
   * test is about stay in the test.
   */
  public static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(120);

  /**
   * The options a child JVM gets after the defaults unless {@link Builder#fullJvm()}: the client
   * compiler only, the serial collector, no {@code hsperfdata} file. They cut a start-up's CPU by
   * about a third (see the overview); a test's own {@code jvmOptions} come after them.
   */
  public static final List<String> QUICK_START =
      List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData");

  private static final Path DEFAULT_LOG = Path.of("target", "child-processes.log");
  private static final String END_OF_OUTPUT = new String("end of output"); // compared by identity

  private final String name;
  private final Process process;
  private final Path log; // where uncaptured output goes; null if discarded
  private final PrintWriter commands; // null unless captured: stdin is /dev/null then
  private final Thread reader; // null unless captured
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>(); // not yet expected
  private final List<String> seen = Collections.synchronizedList(new ArrayList<>()); // all lines

  private Child(String name, Process process, Path log, boolean captured) {
    this.name = name;
    this.process = process;
    this.log = log;
    if (!captured) {
      commands = null;
      reader = null;
      return;
    }
    commands = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
    BufferedReader out =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    reader =
        Thread.ofPlatform()
            .daemon(true)
            .name(name + "-output")
            .start(
                () -> {
                  try (out) {
                    for (String line = out.readLine(); line != null; line = out.readLine()) {
                      seen.add(line);
                      lines.add(line);
                    }
                  } catch (IOException e) {
                    seen.add("(reading the child's output failed: " + e + ")");
                  } finally {
                    lines.add(END_OF_OUTPUT);
                  }
                });
  }

  /** A JVM running {@code mainClass} (a class with {@code public static void main}). */
  public static Builder jvm(Class<?> mainClass, String... args) {
    return new Builder(mainClass, List.of()).args(args);
  }

  /** Any program, found on the PATH as {@link ProcessBuilder} finds it. */
  public static Builder program(String... command) {
    if (command.length == 0) {
      throw new IllegalArgumentException("name the program to run");
    }
    return new Builder(null, List.of(command));
  }

  /** The pid of a process that has exited and been reaped: a pid nobody has (for now). */
  public static int deadPid() throws IOException, InterruptedException {
    Process done =
        new ProcessBuilder("true")
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    if (!done.waitFor(30, TimeUnit.SECONDS)) {
      done.destroyForcibly();
      throw new AssertionError("`true` did not exit within 30 s");
    }
    return Math.toIntExact(done.pid());
  }

  public long pid() {
    return process.pid();
  }

  /** The pid as an int, as ringlock stores it in a word. */
  public int intPid() {
    return Math.toIntExact(process.pid());
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** The process, for what this class does not offer (its exit as a CompletableFuture...). */
  public Process process() {
    return process;
  }

  /** Writes {@code line} to a capturing child's stdin. */
  public void send(String line) {
    if (commands == null) {
      throw new IllegalStateException(
          name + " has no stdin pipe: start it with captureOutput() or captureStdout()");
    }
    commands.println(line);
  }

  /** The next captured line starting with {@code prefix}, skipping others; waits 30 s. */
  public String expect(String prefix) throws InterruptedException {
    return expect(prefix, EXPECT_TIMEOUT);
  }

  /**
   * The next captured line starting with {@code prefix}, skipping others.
   *
   * @throws AssertionError if the child's output ends, or {@code timeout} passes, before one
   */
  public String expect(String prefix, Duration timeout) throws InterruptedException {
    if (reader == null) {
      throw new IllegalStateException(name + "'s output is not captured: use captureOutput()");
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    for (; ; ) {
      String line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (line == null || line == END_OF_OUTPUT) {
        if (line == END_OF_OUTPUT) {
          lines.add(END_OF_OUTPUT); // the next expect fails at once too
        }
        throw new AssertionError(
            "no '"
                + prefix
                + "' from "
                + name
                + (line == null ? " within " + timeout : " before its output ended")
                + "; it printed "
                + seen());
      }
      if (line.startsWith(prefix)) {
        return line;
      }
    }
  }

  /**
   * Waits up to {@link #STARTUP_TIMEOUT} for the line starting with {@code prefix} by which the
   * child says it has started ("READY"): the next captured one (as {@link #expect}), or, for a
   * child that logs to a file ({@link Builder#logTo}), the first line of its log.
   *
   * @throws AssertionError if the child's output ends, or the bound passes, before that line
   */
  public String awaitStarted(String prefix) throws InterruptedException {
    if (reader != null) {
      return expect(prefix, STARTUP_TIMEOUT);
    }
    if (log == null) {
      throw new IllegalStateException(name + "'s output is neither captured nor logged");
    }
    long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
    for (; ; ) {
      boolean alive = process.isAlive(); // before reading: a dead child's log is complete
      for (String line : log().split("\n")) {
        if (line.startsWith(prefix)) {
          return line;
        }
      }
      if (!alive) {
        throw new AssertionError(name + " exited before '" + prefix + "'; it logged " + log());
      }
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError(
            "no '"
                + prefix
                + "' from "
                + name
                + " within "
                + STARTUP_TIMEOUT
                + "; it logged "
                + log());
      }
      Thread.sleep(5);
    }
  }

  /** The next captured line not yet consumed by {@link #expect}, or null if there is none now. */
  public String pollLine() {
    // Lines are consumed by the test's thread only, so the line peek sees is the one poll takes;
    // the end marker stays, for expect.
    String line = lines.peek();
    return line == null || line == END_OF_OUTPUT ? null : lines.poll();
  }

  /** The captured lines not yet consumed by {@link #expect} or {@link #pollLine}. */
  public List<String> unconsumed() {
    return lines.stream().filter(line -> line != END_OF_OUTPUT).toList();
  }

  /** Every line captured so far, consumed by {@link #expect} or not. */
  public List<String> seen() {
    synchronized (seen) {
      return List.copyOf(seen);
    }
  }

  /** The captured output so far, one line per line; all of it once the child has exited. */
  public String output() {
    return String.join("\n", seen());
  }

  /** The log file's text (see {@link Builder#logTo}); empty if there is none yet. */
  public String log() {
    try {
      return log == null || !Files.exists(log) ? "" : Files.readString(log);
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }

  /**
   * Waits up to {@code timeout} for the child to exit and, if captured, for the end of its output.
   * False if it is still running.
   */
  public boolean waitFor(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    if (!process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
      return false;
    }
    if (reader != null) {
      // A grandchild holding the pipe could keep it open: wait no longer than the caller allows.
      reader.join(Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime())));
    }
    return true;
  }

  /**
   * Waits up to {@code timeout} for the child to exit; its exit status.
   *
   * @throws AssertionError if it is still running then (with what it printed)
   */
  public int awaitExit(Duration timeout) throws InterruptedException {
    if (!waitFor(timeout)) {
      throw new AssertionError(name + " did not exit within " + timeout + describeOutput());
    }
    return process.exitValue();
  }

  /**
   * Waits up to {@code timeout} for the child to exit with status 0.
   *
   * @throws AssertionError if it is still running then or exits otherwise (with what it printed)
   */
  public void awaitSuccess(Duration timeout) throws InterruptedException {
    int status = awaitExit(timeout);
    if (status != 0) {
      throw new AssertionError(name + " exited " + status + describeOutput());
    }
  }

  /** The exit status. */
  public int exitValue() {
    return process.exitValue();
  }

  /**
   * SIGKILL, and waits for the child to be gone.
   *
   * @throws AssertionError if it still runs 20 s later
   */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      throw new AssertionError(name + " did not die of SIGKILL within 20 s");
    }
  }

  /** SIGSTOP: every thread of the child stops until {@link #resume()}. */
  public void stop() throws IOException, InterruptedException {
    signal("STOP");
  }

  /** SIGCONT. */
  public void resume() throws IOException, InterruptedException {
    signal("CONT");
  }

  /**
   * Sends the signal named {@code signal} (as kill(1) spells it: STOP, CONT, TERM...).
   *
   * @throws AssertionError if kill(1) fails
   */
  public void signal(String signal) throws IOException, InterruptedException {
    // kill(1) rather than a downcall: this module stays free of native access, which a test
    // JVM running a named module's tests grants to that module and the unnamed one only.
    Process kill =
        new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid()))
            .redirectErrorStream(true)
            .start();
    String said = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!kill.waitFor(20, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      throw new AssertionError("kill -" + signal + " " + process.pid() + " failed: " + said);
    }
  }

  /**
   * Kills the child (and any process it started that still runs) unless it has exited, and waits
   * for it: a test never leaves a child behind. Never throws, so it hides no test failure.
   */
  @Override
  public void close() {
    // Descendants first: once the child is gone they are reparented and out of reach.
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly(); // SIGKILL ends a stopped process too
    try {
      process.waitFor(20, TimeUnit.SECONDS);
      if (reader != null) {
        reader.join(Duration.ofSeconds(5));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (commands != null) {
      commands.close();
    }
  }

  @Override
  public String toString() {
    return name + " (pid " + process.pid() + (process.isAlive() ? ")" : ", exited)");
  }

  private String describeOutput() {
    if (reader != null) {
      return "; it printed " + seen();
    }
    return log == null ? "" : "; its log " + log + ":\n" + log();
  }

  /**
   * How to start a child: its arguments, JVM options, wrappers, output. Every method returns this
   * builder; {@link #start()} starts a child, and may be called again for another like it.
   */
  public static final class Builder {
    private enum Output {
      LOG, // stdout and stderr to the log
      DISCARD,
      CAPTURE, // stdout and stderr read as lines
      CAPTURE_STDOUT // stdout read as lines, stderr to the log
    }

    private final Class<?> mainClass; // null for a program
    private final List<String> program;
    private final List<String> args = new ArrayList<>();
    private final List<String> jvmOptions = new ArrayList<>();
    private final Map<String, String> systemProperties = new LinkedHashMap<>();
    private final Map<String, String> environment = new LinkedHashMap<>();
    private List<String> classPath; // null: the test JVM's
    private Path directory;
    private Output output = Output.LOG;
    private Path log = DEFAULT_LOG;
    private boolean appendToLog = true;
    private int refusedErrno;
    private int[] refusedSyscalls = new int[0];
    private boolean withoutProc;
    private int fileLimit; // 0: inherited
    private String user;
    private String group;
    private boolean fullJvm; // false: QUICK_START

    private Builder(Class<?> mainClass, List<String> program) {
      this.mainClass = mainClass;
      this.program = program;
    }

    /** Arguments after the main class (or the program). */
    public Builder args(String... more) {
      args.addAll(Arrays.asList(more));
      return this;
    }

    /** Arguments after the main class (or the program). */
    public Builder args(List<String> more) {
      args.addAll(more);
      return this;
    }

    /**
     * The child JVM runs with the JVM's own compilers and collector (tiered C1 and C2, G1, perf
     * data) instead of {@link #QUICK_START}: for a child whose hot loop is what the test is about,
     * where C2's code (its inlining, escape analysis, reordering) must be what runs.
     */
    public Builder fullJvm() {
      requireJvm("fullJvm");
      fullJvm = true;
      return this;
    }

    /** Options for the child JVM, after the defaults (so a later {@code -Xmx} wins). */
    public Builder jvmOptions(String... options) {
      requireJvm("JVM options");
      jvmOptions.addAll(Arrays.asList(options));
      return this;
    }

    /** Options for the child JVM, after the defaults (so a later {@code -Xmx} wins). */
    public Builder jvmOptions(List<String> options) {
      return jvmOptions(options.toArray(String[]::new));
    }

    /**
     * A {@code -D} for the child; for {@link Child#BACKEND_PROPERTY} it replaces the value the
     * child would otherwise inherit from the test JVM.
     */
    public Builder systemProperty(String key, String value) {
      requireJvm("system properties");
      systemProperties.put(key, value);
      return this;
    }

    /** The child's class path instead of the test JVM's (e.g. copies another user can read). */
    public Builder classPath(List<String> entries) {
      requireJvm("a class path");
      classPath = List.copyOf(entries);
      return this;
    }

    /** An environment variable of the child, on top of the test JVM's environment. */
    public Builder environment(String key, String value) {
      environment.put(key, value);
      return this;
    }

    /** The child's working directory. */
    public Builder directory(Path workingDirectory) {
      directory = workingDirectory;
      return this;
    }

    /** The child's stdout and stderr go to {@code file} (truncated), readable by {@link #log()}. */
    public Builder logTo(Path file) {
      log = file;
      appendToLog = false;
      if (output == Output.DISCARD) {
        output = Output.LOG;
      }
      return this;
    }

    /** The child's stdout and stderr are thrown away. */
    public Builder discardOutput() {
      output = Output.DISCARD;
      return this;
    }

    /**
     * The child's stdout and stderr are read as lines ({@link #expect}, {@link #seen}, {@link
     * #output}); its stdin is a pipe ({@link #send}).
     */
    public Builder captureOutput() {
      output = Output.CAPTURE;
      return this;
    }

    /**
     * As {@link #captureOutput()} for stdout only: stderr goes to the log (so JVM warnings never
     * mix into a protocol of lines).
     */
    public Builder captureStdout() {
      output = Output.CAPTURE_STDOUT;
      return this;
    }

    /**
     * The child JVM runs under a seccomp filter that fails {@code syscalls} (numbers) with {@code
     * errno} and allows everything else; it exits 2 if the filter cannot be installed.
     */
    public Builder refusing(int errno, int... syscalls) {
      requireJvm("a seccomp filter");
      if (syscalls.length == 0) {
        throw new IllegalArgumentException("name the system calls to refuse");
      }
      refusedErrno = errno;
      refusedSyscalls = syscalls.clone();
      return this;
    }

    /**
     * The child runs in a mount namespace of its own where /proc is unmounted (unshare; needs
     * root). The dynamic loader finds the JVM's libraries through /proc/self/exe, so
     * LD_LIBRARY_PATH names them instead.
     */
    public Builder withoutProc() {
      withoutProc = true;
      Path javaHome = Path.of(System.getProperty("java.home"));
      return environment(
          "LD_LIBRARY_PATH",
          javaHome.resolve("lib") + File.pathSeparator + javaHome.resolve("lib/server"));
    }

    /** The child runs after bash's {@code ulimit -n maxFiles}: soft and hard limit. */
    public Builder fileLimit(int maxFiles) {
      if (maxFiles <= 0) {
        throw new IllegalArgumentException("a file limit must be positive: " + maxFiles);
      }
      fileLimit = maxFiles;
      return this;
    }

    /**
     * The child runs as {@code user} in {@code group} with the user's supplementary groups
     * (setpriv; needs root). The user must be able to read the class path (see {@link #classPath}).
     */
    public Builder runAsUser(String user, String group) {
      this.user = user;
      this.group = group;
      return this;
    }

    /** Starts the child. */
    public Child start() throws IOException {
      List<String> command = command();
      ProcessBuilder builder = new ProcessBuilder(command);
      builder.environment().putAll(environment);
      if (directory != null) {
        builder.directory(directory.toFile());
      }
      boolean captured = output == Output.CAPTURE || output == Output.CAPTURE_STDOUT;
      if (!captured) {
        builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
      }
      switch (output) {
        case LOG -> builder.redirectErrorStream(true).redirectOutput(logRedirect());
        case DISCARD ->
            builder
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        case CAPTURE -> builder.redirectErrorStream(true);
        case CAPTURE_STDOUT -> builder.redirectError(logRedirect());
      }
      Process process = builder.start();
      String name = mainClass != null ? mainClass.getSimpleName() : program.getFirst();
      return new Child(name, process, output == Output.DISCARD ? null : log, captured);
    }

    /**
     * Runs the child to its end: starts it with its output captured, waits up to {@code timeout}
     * for it to exit 0, and returns what it printed (stdout and stderr).
     *
     * @throws AssertionError if it is still running then or exits otherwise (with its output)
     */
    public String run(Duration timeout) throws IOException, InterruptedException {
      captureOutput();
      try (Child child = start()) {
        child.awaitSuccess(timeout);
        return child.output();
      }
    }

    /** The whole command line, wrappers first. */
    public List<String> command() {
      List<String> command = new ArrayList<>();
      if (user != null) {
        command.addAll(List.of("setpriv", "--reuid=" + user, "--regid=" + group, "--init-groups"));
      }
      if (withoutProc) {
        command.addAll(
            List.of(
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                "umount -l /proc && exec \"$@\"",
                "sh"));
      }
      if (fileLimit > 0) {
        command.addAll(List.of("bash", "-c", "ulimit -n " + fileLimit + " && exec \"$@\"", "bash"));
      }
      command.addAll(mainClass == null ? program : javaCommand());
      command.addAll(args);
      return command;
    }

    private List<String> javaCommand() {
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.add("--enable-native-access=ALL-UNNAMED");
      command.add("-Xmx256m");
      if (!fullJvm) {
        command.addAll(QUICK_START);
      }
      String backend = System.getProperty(BACKEND_PROPERTY);
      if (backend != null && !systemProperties.containsKey(BACKEND_PROPERTY)) {
        command.add("-D" + BACKEND_PROPERTY + "=" + backend); // the backend of this test run
      }
      String takeover = System.getProperty("ringlock.joinTakeover");
      if (takeover != null) {
        command.add("-Dringlock.joinTakeover=" + takeover); // a run without the join take-over
      }
      systemProperties.forEach((key, value) -> command.add("-D" + key + "=" + value));
      command.addAll(jvmOptions);
      command.add("-cp");
      command.add(String.join(File.pathSeparator, classPath()));
      if (refusedSyscalls.length > 0) {
        command.add(SeccompFilter.class.getName());
        command.add(Integer.toString(refusedErrno));
        command.add(
            String.join(",", Arrays.stream(refusedSyscalls).mapToObj(Integer::toString).toList()));
      }
      command.add(mainClass.getName());
      return command;
    }

    private List<String> classPath() {
      if (classPath != null) {
        return classPath;
      }
      // The main class's folder and ringlock's modules first: the class loader opens a jar only
      // when a lookup reaches it, which matters to a child under a low descriptor limit.
      Set<String> entries = new LinkedHashSet<>();
      entries.add(location(mainClass)); // its target/test-classes
      for (String property : List.of("jdk.module.path", "java.class.path")) {
        String value = System.getProperty(property);
        if (value != null && !value.isEmpty()) {
          entries.addAll(Arrays.asList(value.split(File.pathSeparator)));
        }
      }
      entries.add(location(Child.class)); // SeccompFilter, Watchdog: normally there already
      return List.copyOf(entries);
    }

    private ProcessBuilder.Redirect logRedirect() {
      try {
        Path parent = log.toAbsolutePath().getParent();
        if (parent != null) {
          Files.createDirectories(parent);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot make the folder of " + log, e);
      }
      return appendToLog
          ? ProcessBuilder.Redirect.appendTo(log.toFile())
          : ProcessBuilder.Redirect.to(log.toFile());
    }

    private void requireJvm(String what) {
      if (mainClass == null) {
        throw new IllegalStateException(
            what + " apply to a child JVM only (Child.jvm), not to " + program);
      }
    }

    private static String location(Class<?> type) {
      try {
        return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
      } catch (URISyntaxException e) {
        throw new IllegalStateException("cannot find the class path entry of " + type, e);
      }
    }
  }
}
