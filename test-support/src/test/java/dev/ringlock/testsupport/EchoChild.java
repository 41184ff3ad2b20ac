package dev.ringlock.testsupport;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.stream.Collectors;

/**
 * A child JVM for ChildTest: prints "BACKEND" and the ringlock.backend it was given, then answers
 * each line of stdin: "ECHO x" prints "GOT x", "ERR x" prints x to stderr, "EXIT n" exits n, "VM"
 * prints "VM", the highest compilation tier and the collectors (their MXBean names, joined by
 * commas): what the JVM runs with, not what its command line says.
 */
public final class EchoChild {
  private EchoChild() {}

  public static void main(String[] args) throws Exception {
    System.out.println("BACKEND " + System.getProperty(Child.BACKEND_PROPERTY, "none"));
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      String[] words = line.split(" ", 2);
      switch (words[0]) {
        case "ECHO" -> System.out.println("GOT " + words[1]);
        case "ERR" -> System.err.println(words[1]);
        case "EXIT" -> System.exit(Integer.parseInt(words[1]));
        case "VM" -> System.out.println("VM " + highestTier() + " " + collectors());
        default -> System.out.println("UNKNOWN " + line);
      }
    }
  }

  private static String highestTier() {
    return ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
        .getVMOption("TieredStopAtLevel")
        .getValue();
  }

  private static String collectors() {
    return ManagementFactory.getGarbageCollectorMXBeans().stream()
        .map(GarbageCollectorMXBean::getName)
        .collect(Collectors.joining(","));
  }
}
