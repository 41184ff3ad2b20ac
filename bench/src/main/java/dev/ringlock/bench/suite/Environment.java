package dev.ringlock.bench.suite;

import dev.ringlock.core.FutexRing;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The machine the suite ran on, and its load at one moment. */
record Environment(
    String hostname,
    String kernel,
    int cpus,
    String jdk,
    String loadAverage,
    long memoryMiB,
    String autoBackend) {
  static Environment capture() {
    return new Environment(
        localHostname(),
        read("/proc/sys/kernel/osrelease"),
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.vm.vendor") + " " + System.getProperty("java.runtime.version"),
        String.join(" ", java.util.Arrays.copyOf(read("/proc/loadavg").split("\\s+"), 3)),
        readMemoryMiB(),
        chosenBackend());
  }

  /**
   * The backend of this JVM's default ring: what AUTO picks here (or -Dringlock.backend forces),
   * and so what the rows without "(syscalls)" ran on.
   */
  private static String chosenBackend() {
    try {
      return FutexRing.defaultRing().backend().name();
    } catch (RuntimeException e) {
      return "none (" + e.getMessage() + ")";
    }
  }

  static String localHostname() {
    String name = read("/proc/sys/kernel/hostname");
    return name.isBlank() || name.equals("unknown") ? "localhost" : name;
  }

  private static long readMemoryMiB() {
    for (String line : read("/proc/meminfo").split("\n")) {
      if (line.startsWith("MemTotal:")) {
        return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
      }
    }
    return 0;
  }

  private static String read(String file) {
    try {
      return Files.readString(Path.of(file)).strip();
    } catch (IOException e) {
      return "unknown";
    }
  }
}
