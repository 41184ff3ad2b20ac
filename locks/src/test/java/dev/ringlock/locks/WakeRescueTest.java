package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.testsupport.Child;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * No kernel wait is rescued by the sleeper's re-check: under contention from other processes and
 * from another view of the region in the same process (which waits in the kernel too), every wait
 * of every primitive ends by a wake, never by the re-check's timeout finding the lock free
 * (Sleeper.recheckEnded, WakeStress). A missed wake shows up here as a rescue; without the counter
 * it would only show as a 250 ms stall.
 *
 * <p>Two child JVMs (WakeStressWorker) and two views of the region in this JVM run the phases at
 * once, each with two threads: three processes, four kernel waits per object. CI runs each phase
 * briefly (WAKE_STRESS_MILLIS); the long mode (docs/testing.md) runs them for a minute each: {@code
 * -Dringlock.wakeStressMillis=60000}.
 */
@Timeout(600)
class WakeRescueTest {
  /** How long each phase runs, per process: brief in CI, minutes in the long mode. */
  private static final long WAKE_STRESS_MILLIS = Long.getLong("ringlock.wakeStressMillis", 200);

  private static final int CHILDREN = 2;
  private static final int THREADS = 2;

  @TempDir Path directory;
  private Path regionFile;
  private final List<Child> workers = new ArrayList<>();

  @BeforeEach
  void createRegion() throws Exception {
    regionFile = directory.resolve("wake-" + ProcessHandle.current().pid());
    SharedRegion.open(regionFile).close();
  }

  @AfterEach
  void cleanUp() throws Exception {
    workers.forEach(Child::close);
    Files.deleteIfExists(regionFile);
  }

  /**
   * A rescue is either a lost wake or a waker descheduled for the whole 250 ms between its change
   * and its wake (a loaded host: every view then re-checks at the same instant). So a run with
   * rescues is run once more on a new region file, and the test fails only if that one has rescues
   * too: a lost wake of the protocol comes back, a scheduling stall does not. The deterministic
   * replays of each race found (ReadWriteMutexCrossProcessTest) do not depend on this.
   */
  @Test
  void noWaitNeedsTheRecheckAcrossProcessesAndViewsAndEveryThreadMakesProgress() throws Exception {
    Outcome first = runOnce();
    if (first.rescues() == 0) {
      return;
    }
    System.out.println("WakeRescueTest: rescues in the first run, running once more");
    workers.forEach(Child::close);
    workers.clear();
    Files.deleteIfExists(regionFile);
    regionFile = directory.resolve("wake-again-" + ProcessHandle.current().pid());
    SharedRegion.open(regionFile).close();
    Outcome second = runOnce();
    assertEquals(
        0,
        second.rescues(),
        "waits rescued by the re-check (missed wakes) in two runs in a row:\n"
            + first.report()
            + "\n-- again --\n"
            + second.report());
  }

  private record Outcome(long rescues, String report) {}

  private Outcome runOnce() throws Exception {
    for (int i = 0; i < CHILDREN; i++) {
      workers.add(
          Child.jvm(
                  WakeStressWorker.class,
                  regionFile.toString(),
                  Integer.toString(THREADS),
                  Long.toString(WAKE_STRESS_MILLIS))
              .fullJvm() // the stress loop's compiled code is what may miss a wake
              .captureOutput()
              .start());
    }
    List<String> lines = new ArrayList<>();
    try (SharedRegion first = SharedRegion.open(regionFile);
        SharedRegion second = SharedRegion.open(regionFile)) {
      for (String phase : WakeStress.PHASES) {
        WakeStress.run(first, phase, THREADS, WakeStress.WARM_UP_MILLIS);
      }
      for (Child worker : workers) {
        worker.awaitStarted("READY");
      }
      workers.forEach(worker -> worker.send("go"));
      for (String phase : WakeStress.PHASES) {
        CompletableFuture<WakeStress.Result> a = runAsync(first, phase);
        CompletableFuture<WakeStress.Result> b = runAsync(second, phase);
        lines.add("view 1 " + a.join().line());
        lines.add("view 2 " + b.join().line());
      }
    }
    Duration bound = Duration.ofMillis(30_000 + 4 * WAKE_STRESS_MILLIS * WakeStress.PHASES.size());
    for (int i = 0; i < workers.size(); i++) {
      Child worker = workers.get(i);
      for (int p = 0; p < WakeStress.PHASES.size(); p++) {
        lines.add("child " + (i + 1) + " " + worker.expect("PHASE", bound));
      }
      worker.expect("DONE", bound);
    }
    String report = String.join("\n", lines);
    System.out.println("WakeRescueTest, " + WAKE_STRESS_MILLIS + " ms per phase:\n" + report);
    long rescues = 0;
    for (String line : lines) {
      WakeStress.Result r = WakeStress.Result.parse(line.substring(line.indexOf("PHASE")));
      rescues += r.rescues();
      assertTrue(r.fewestByAThread() > 0, "a thread made no progress:\n" + report);
    }
    return new Outcome(rescues, report);
  }

  private static CompletableFuture<WakeStress.Result> runAsync(SharedRegion region, String phase) {
    CompletableFuture<WakeStress.Result> result = new CompletableFuture<>();
    Thread.ofPlatform()
        .start(
            () -> {
              try {
                result.complete(WakeStress.run(region, phase, THREADS, WAKE_STRESS_MILLIS));
              } catch (Throwable t) {
                result.completeExceptionally(t);
              }
            });
    return result;
  }
}
