package dev.ringlock.core;

import java.io.File;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Starts a real child JVM running a test-side main class, with ringlock on its class path. */
final class JvmProcess {
  private JvmProcess() {}

  static Process start(Class<?> mainClass, String... args) throws Exception {
    Set<String> classPath = new LinkedHashSet<>();
    classPath.add(location(mainClass)); // target/test-classes
    classPath.add(location(FutexRing.class)); // target/classes
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("-cp");
    command.add(String.join(File.pathSeparator, classPath));
    command.add(mainClass.getName());
    command.addAll(List.of(args));
    // The child's output goes to a file: written to our stdout it would corrupt surefire's channel.
    File log = new File("target/child-processes.log");
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log))
        .start();
  }

  private static String location(Class<?> type) throws URISyntaxException {
    return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
  }
}
