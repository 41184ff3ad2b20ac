package dev.ringlock.core;

import java.io.File;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Starts a real child JVM running a test-side main class, with ringlock on its class path. */
public final class JvmProcess {
  private JvmProcess() {}

  /** A child whose stdout and stderr go to target/child-processes.log. */
  public static Process start(Class<?> mainClass, String... args) throws Exception {
    return builder(mainClass, args).redirectErrorStream(true).redirectOutput(childLog()).start();
  }

  /**
   * A child whose stdout the caller reads ({@link Process#getInputStream()}); its stderr goes to
   * target/child-processes.log.
   */
  public static Process startReadingOutput(Class<?> mainClass, String... args) throws Exception {
    return builder(mainClass, args).redirectError(childLog()).start();
  }

  /**
   * As {@link #startReadingOutput}, run by bash after {@code ulimit -n maxFiles}, which then execs
   * the JVM: a child with a low limit of open file descriptors.
   */
  public static Process startWithFileLimit(int maxFiles, Class<?> mainClass, String... args)
      throws Exception {
    StringBuilder script = new StringBuilder("ulimit -n " + maxFiles + " && exec");
    for (String word : builder(mainClass, args).command()) {
      script.append(" '").append(word.replace("'", "'\\''")).append('\'');
    }
    return new ProcessBuilder("bash", "-c", script.toString()).redirectError(childLog()).start();
  }

  private static ProcessBuilder builder(Class<?> mainClass, String... args) throws Exception {
    Set<String> classPath = new LinkedHashSet<>();
    classPath.add(location(mainClass)); // target/test-classes
    classPath.add(location(FutexRing.class)); // target/classes
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("--enable-native-access=ALL-UNNAMED");
    String backend = System.getProperty(FutexRing.BACKEND_PROPERTY);
    if (backend != null) { // children run on the backend this test run was asked for
      command.add("-D" + FutexRing.BACKEND_PROPERTY + "=" + backend);
    }
    command.add("-cp");
    command.add(String.join(File.pathSeparator, classPath));
    command.add(mainClass.getName());
    command.addAll(List.of(args));
    return new ProcessBuilder(command);
  }

  // A child's output goes to a file: written to our stdout it would corrupt surefire's channel.
  private static ProcessBuilder.Redirect childLog() {
    return ProcessBuilder.Redirect.appendTo(new File("target/child-processes.log"));
  }

  private static String location(Class<?> type) throws URISyntaxException {
    return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
  }
}
