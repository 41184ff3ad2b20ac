package dev.ringlock.bench.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ringlock.core.FutexRing;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.SharedRegion;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.agrona.collections.Int2ObjectHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code ringlock inspect} uses only the exported API of the library: a child JVM runs it with the
 * core and locks modules on the module path and the CLI (with picocli) on the class path, as an
 * unnamed module, which can read nothing but the packages those modules export. A control run of a
 * class that touches {@code dev.ringlock.locks.internal} in the same setup fails, so the setup
 * really enforces the modules' boundaries.
 */
@Timeout(120)
class InspectOnModulePathTest {
  private static final int OUR_PID = (int) ProcessHandle.current().pid();

  @TempDir Path directory;

  /** Reaches into a package the locks module does not export: must fail on the module path. */
  static final class InternalAccessProbe {
    public static void main(String[] args) {
      System.out.println(dev.ringlock.locks.internal.MutexDescriptor.LAYOUT);
    }
  }

  record Run(int exitCode, String out, String err) {}

  @Test
  void inspectRunsWithTheLibraryOnTheModulePathAndShowsTheState() throws Exception {
    Path file = directory.resolve("modules-" + OUR_PID + ".region");
    try (SharedRegion region = SharedRegion.open(file);
        MutexGuard held = region.mutex("orders").tryLock().orElseThrow()) {
      region.semaphore("pool", 3).tryAcquire(1);
      Run run =
          onModulePath(Ringlock.class.getName(), List.of("inspect", "--json", file.toString()));
      assertEquals(0, run.exitCode(), run.err());
      JsonObject mutex = object(run.out(), "orders");
      assertEquals("held", mutex.get("state").getAsString(), run.out());
      assertEquals(OUR_PID, mutex.get("ownerPid").getAsInt(), run.out());
      assertTrue(mutex.get("ownerAlive").getAsBoolean(), run.out());
      assertEquals(held.fence(), mutex.get("lastFence").getAsLong(), run.out());
      JsonObject semaphore = object(run.out(), "pool");
      assertEquals(2, semaphore.get("permits").getAsInt(), run.out());
      assertEquals(1, semaphore.getAsJsonArray("holders").size(), run.out());
    }
  }

  @Test
  void theModulePathSetupRefusesAccessToTheInternalPackage() throws Exception {
    Run run = onModulePath(InternalAccessProbe.class.getName(), List.of());
    assertNotEquals(0, run.exitCode(), run.out());
    assertTrue(run.err().contains("IllegalAccessError"), run.err());
    assertTrue(
        run.err().contains("does not export dev.ringlock.locks.internal to unnamed module"),
        run.err());
  }

  /**
   * Runs {@code mainClass} of the class path with core and locks as named modules: the module path
   * holds where this JVM loaded them from (their jars, or classes directories with module-info),
   * and agrona, which locks requires (an automatic module).
   */
  private Run onModulePath(String mainClass, List<String> args) throws Exception {
    String modulePath =
        String.join(
            File.pathSeparator,
            location(FutexRing.class),
            location(SharedRegion.class),
            location(Int2ObjectHashMap.class)); // agrona, which locks requires
    // the CLI's classes, picocli, and this test's classes (for the probe); nothing of the library
    String classPath =
        String.join(
            File.pathSeparator,
            location(Ringlock.class),
            location(CommandLine.class),
            location(InspectOnModulePathTest.class));
    assertTrue(
        !classPath.contains(location(SharedRegion.class)), "the library is on the class path");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("--module-path");
    command.add(modulePath);
    command.add("--add-modules");
    command.add("dev.ringlock.locks");
    command.add("--enable-native-access=dev.ringlock.core");
    command.add("-cp");
    command.add(classPath);
    command.add(mainClass);
    command.addAll(args);
    Path out = directory.resolve("out.txt");
    Path err = directory.resolve("err.txt");
    Process process =
        new ProcessBuilder(command)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    try {
      assertTrue(process.waitFor(90, TimeUnit.SECONDS), "the child JVM did not exit");
    } finally {
      process.destroyForcibly();
    }
    return new Run(process.exitValue(), Files.readString(out), Files.readString(err));
  }

  private static String location(Class<?> type) throws Exception {
    return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
  }

  private static JsonObject object(String json, String name) {
    for (JsonElement object :
        JsonParser.parseString(json.strip()).getAsJsonObject().getAsJsonArray("objects")) {
      if (object.getAsJsonObject().get("name").getAsString().equals(name)) {
        return object.getAsJsonObject();
      }
    }
    throw new AssertionError("no object '" + name + "' in " + json);
  }
}
