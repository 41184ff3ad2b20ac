package dev.ringlock.locks;

import dev.ringlock.testsupport.Watchdog;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A child JVM of WakeRescueTest: opens the region, prints {@code READY <pid>}, waits for {@code go}
 * on stdin (after a brief warm-up of every phase, so that class loading is not taken for a slow
 * wake), then runs every phase of {@link WakeStress} in order and prints one {@code PHASE ...} line
 * each ({@link WakeStress.Result#line}), then {@code DONE}.
 *
 * <p>Arguments: region file, threads, milliseconds per phase.
 */
public final class WakeStressWorker {
  private WakeStressWorker() {}

  public static void main(String[] args) throws Exception {
    Path regionFile = Path.of(args[0]);
    int threads = Integer.parseInt(args[1]);
    long millis = Long.parseLong(args[2]);
    Watchdog.start(Math.max(120_000, 10 * millis * WakeStress.PHASES.size()), () -> "wake stress");
    BufferedReader commands =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      for (String phase : WakeStress.PHASES) {
        WakeStress.run(region, phase, threads, WakeStress.WARM_UP_MILLIS); // classes loaded, JIT
      }
      System.out.println("READY " + ProcessHandle.current().pid());
      System.out.flush();
      if (!"go".equals(commands.readLine())) {
        return;
      }
      for (String phase : WakeStress.PHASES) {
        System.out.println(WakeStress.run(region, phase, threads, millis).line());
        System.out.flush();
      }
      System.out.println("DONE");
      System.out.flush();
    }
  }
}
