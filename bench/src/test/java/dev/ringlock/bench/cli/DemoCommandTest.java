package dev.ringlock.bench.cli;

import static dev.ringlock.bench.cli.InspectCommandTest.ringlock;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.bench.cli.InspectCommandTest.Run;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class DemoCommandTest {
  @TempDir Path directory;

  @Test
  void aWorkerKilledMidUpdateIsRecoveredTheCountsComeOutExactAndNoFileIsLeft() throws Exception {
    Run run =
        ringlock(
            "demo",
            "--workers",
            "2",
            "--seconds",
            "3",
            "--kill-one",
            "--dir",
            directory.toString());
    assertEquals(0, run.exitCode(), run.out() + run.err());
    assertTrue(run.out().contains("killed worker 1"), run.out());
    assertTrue(run.out().contains("ownerDied(), counter"), run.out());
    assertTrue(run.out().matches("(?s).*counter +[0-9,]+ = sum of the workers' tallies.*EXACT.*"));
    assertTrue(run.out().contains("+ 1 killed mid-section + this check): EXACT"), run.out());
    assertTrue(run.out().contains("2 of 2 permits back (the killed worker's permit"), run.out());
    assertTrue(run.out().contains("All checks passed."), run.out());
    assertFalse(run.out().contains("reading the output failed"), run.out()); // "Stream closed"
    assertEquals(List.of(), filesIn(directory), "the demo left files behind");
  }

  @Test
  void keepLeavesTheRegionForInspect() throws Exception {
    Run run =
        ringlock(
            "demo", "--workers", "1", "--seconds", "1", "--keep", "--dir", directory.toString());
    assertEquals(0, run.exitCode(), run.out() + run.err());
    List<Path> kept = filesIn(directory);
    assertEquals(2, kept.size(), kept.toString());
    Path region =
        kept.stream().filter(p -> p.toString().endsWith(".region")).findFirst().orElseThrow();
    // No `ringlock` launcher exists on the PATH: what it prints must run as it is, in a shell.
    String printed =
        run.out()
            .lines()
            .dropWhile(l -> !l.endsWith("look with:"))
            .skip(1)
            .findFirst()
            .orElseThrow(() -> new AssertionError("no inspect command in: " + run.out()))
            .strip();
    assertTrue(printed.endsWith(" inspect " + region), printed);
    Process shell = new ProcessBuilder("sh", "-c", printed).redirectErrorStream(true).start();
    String shown = new String(shell.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, shell.waitFor(), shown);
    assertTrue(shown.contains("mutex       " + DemoWorker.MUTEX), shown);
    Run inspect = ringlock("inspect", "--json", region.toString());
    assertEquals(0, inspect.exitCode(), inspect.err());
    assertEquals("free", inspect.object(DemoWorker.MUTEX).get("state").getAsString());
    assertEquals(1, inspect.object(DemoWorker.SLOTS).get("permits").getAsInt());
    assertEquals(0, inspect.object(DemoWorker.TICKS).get("waiting").getAsInt());
  }

  @Test
  void optionsOutOfRangeExitTwo() {
    Run run = ringlock("demo", "--workers", "0");
    assertEquals(2, run.exitCode());
    assertTrue(run.err().contains("--workers must be 1..16, not 0"), run.err());
    assertEquals(2, ringlock("demo", "--seconds", "0").exitCode());
    assertEquals(2, ringlock("demo", "--dir", directory.resolve("absent").toString()).exitCode());
  }

  @Test
  void theInspectCommandRunsTheJarWhenTheToolRunsFromOne() throws Exception {
    Path jar = Files.createFile(directory.resolve("ringlock.jar"));
    assertEquals(
        List.of(
            "/jdk/bin/java",
            "--enable-native-access=ALL-UNNAMED",
            "-jar",
            jar.toString(),
            "inspect",
            "/dev/shm/x.region"),
        Ringlock.launchCommand(
            "/jdk/bin/java", jar, "ignored", List.of("inspect", "/dev/shm/x.region")));
    assertEquals(
        List.of(
            "/jdk/bin/java",
            "--enable-native-access=ALL-UNNAMED",
            "-cp",
            "a.jar:classes",
            Ringlock.class.getName(),
            "inspect",
            "f"),
        Ringlock.launchCommand(
            "/jdk/bin/java", directory, "a.jar:classes", List.of("inspect", "f")));
  }

  @Test
  void theInspectCommandIsQuotedForTheShell() {
    assertEquals(
        "java -jar '/tmp/my dir/ringlock.jar' inspect '/dev/shm/it'\\''s.region'",
        Ringlock.shellLine(
            List.of(
                "java", "-jar", "/tmp/my dir/ringlock.jar", "inspect", "/dev/shm/it's.region")));
  }

  private static List<Path> filesIn(Path directory) throws Exception {
    try (Stream<Path> files = Files.list(directory)) {
      return files.sorted().toList();
    }
  }
}
