package dev.ringlock.locks;

import dev.ringlock.core.FutexRing;
import java.io.File;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.agrona.collections.Int2ObjectHashMap;

/** Starts a real child JVM running a test-side main class, with ringlock on its class path. */
final class ChildJvm {
  private ChildJvm() {}

  /** The child's stdout and stderr go to {@code log}; read it when the child has exited. */
  static Process start(Path log, Class<?> mainClass, String... args) throws Exception {
    return start(log, List.of(), mainClass, args);
  }

  /** As {@link #start(Path, Class, String...)}, with {@code jvmOptions} before the main class. */
  static Process start(Path log, List<String> jvmOptions, Class<?> mainClass, String... args)
      throws Exception {
    return new ProcessBuilder(command(jvmOptions, mainClass, args))
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
  }

  /**
   * The child's stdin and stdout are pipes to this process (stderr joins stdout), for a child
   * driven by commands; {@code jvmOptions} go before the main class.
   */
  static Process startPiped(List<String> jvmOptions, Class<?> mainClass, String... args)
      throws Exception {
    return new ProcessBuilder(command(jvmOptions, mainClass, args))
        .redirectErrorStream(true)
        .start();
  }

  /**
   * As {@link #startPiped}, but the child runs under a seccomp filter that fails {@code syscall}
   * with {@code errno} (core's test class SeccompChild installs it, then runs {@code mainClass}).
   */
  static Process startPipedRefusing(int errno, int syscall, Class<?> mainClass, String... args)
      throws Exception {
    return new ProcessBuilder(refusingCommand(errno, syscall, mainClass, args))
        .redirectErrorStream(true)
        .start();
  }

  /**
   * As {@link #startPipedRefusing}, in a mount namespace of its own where /proc is unmounted
   * (unshare, as root): a child that can neither open pidfds nor read /proc. The dynamic loader
   * finds the JVM's libraries through /proc/self/exe, so LD_LIBRARY_PATH names them instead. Output
   * as {@link #start}.
   */
  static Process startRefusingWithoutProc(
      int errno, int syscall, Path log, Class<?> mainClass, String... args) throws Exception {
    List<String> command = new ArrayList<>();
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
    command.addAll(refusingCommand(errno, syscall, mainClass, args));
    ProcessBuilder builder = new ProcessBuilder(command);
    Path javaHome = Path.of(System.getProperty("java.home"));
    builder
        .environment()
        .put(
            "LD_LIBRARY_PATH",
            javaHome.resolve("lib") + File.pathSeparator + javaHome.resolve("lib/server"));
    return builder.redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  private static List<String> refusingCommand(
      int errno, int syscall, Class<?> mainClass, String... args) throws URISyntaxException {
    List<String> command = command(List.of(), mainClass, args);
    int main = command.indexOf(mainClass.getName());
    command.addAll(
        main,
        List.of(
            "dev.ringlock.core.SeccompChild",
            "refuse",
            Integer.toString(errno),
            Integer.toString(syscall)));
    int classPath = command.indexOf("-cp") + 1;
    command.set(classPath, command.get(classPath) + File.pathSeparator + coreTestClasses());
    return command;
  }

  /**
   * The child's command line run by bash after {@code ulimit -n maxFiles}, which then execs the
   * JVM: a child with a low descriptor limit. Output as {@link #start}.
   */
  static Process startWithFileLimit(int maxFiles, Path log, Class<?> mainClass, String... args)
      throws Exception {
    List<String> command = command(List.of(), mainClass, args);
    StringBuilder script = new StringBuilder("ulimit -n " + maxFiles + " && exec");
    for (String word : command) {
      script.append(" '").append(word.replace("'", "'\\''")).append('\'');
    }
    return new ProcessBuilder("bash", "-c", script.toString())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
  }

  /** core's test classes (SeccompChild): beside core's classes or jar, in its target folder. */
  private static String coreTestClasses() throws URISyntaxException {
    return Path.of(location(FutexRing.class)).getParent().resolve("test-classes").toString();
  }

  static List<String> command(List<String> jvmOptions, Class<?> mainClass, String... args)
      throws URISyntaxException {
    Set<String> classPath = new LinkedHashSet<>();
    classPath.add(location(mainClass)); // locks/target/test-classes
    classPath.add(location(SharedRegion.class)); // locks/target/classes
    classPath.add(location(FutexRing.class)); // core's classes or jar
    classPath.add(location(Int2ObjectHashMap.class)); // agrona: locks' peer-watch registry
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("-Xmx256m");
    String backend = System.getProperty(FutexRing.BACKEND_PROPERTY);
    if (backend != null) { // children run on the backend this test run was asked for
      command.add("-D" + FutexRing.BACKEND_PROPERTY + "=" + backend);
    }
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(String.join(File.pathSeparator, classPath));
    command.add(mainClass.getName());
    command.addAll(List.of(args));
    // Never our stdout: a child writing there would corrupt surefire's channel.
    return command;
  }

  /**
   * In a child: exits with status 4 after {@code millis}, printing "STUCK" and {@code state} (the
   * objects' toString, which shows what they wait for), unless the child has exited by then.
   */
  static void startWatchdog(long millis, Supplier<String> state) {
    Thread.ofPlatform()
        .daemon(true)
        .start(
            () -> {
              try {
                Thread.sleep(millis);
              } catch (InterruptedException e) {
                return;
              }
              System.out.println("STUCK " + state.get());
              System.exit(4);
            });
  }

  private static String location(Class<?> type) throws URISyntaxException {
    return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
  }
}
