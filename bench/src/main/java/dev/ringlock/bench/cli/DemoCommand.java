package dev.ringlock.bench.cli;

import dev.ringlock.bench.xproc.ChildProcess;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.IoUringUnavailableException;
import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.Semaphore;
import dev.ringlock.locks.SharedRegion;
import dev.ringlock.locks.WaitQueue;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/*
 * Overview
 *
 * `ringlock demo`: this process (the coordinator) creates a region file and a state file (the
 * counter and per-worker tallies the mutex protects; DemoState) in --dir, starts --workers JVMs
 * running DemoWorker, and waits until each has printed READY (its waits on "demo.start" and
 * "demo.ticks" are queued). Then:
 *
 *   start      one wakeAll of "demo.start" starts every worker at once;
 *   run        for --seconds: every 100 ms a wakeAll of "demo.ticks" (each worker keeps 4 waits
 *              armed there: one io_uring_enter carries all the FUTEX_WAKEs); every 250 ms (on a
 *              terminal, else every second) a progress line of acquisitions per second per worker,
 *              from the tallies in the state file; the workers' report lines as they come;
 *   kill       with --kill-one, half-way: worker 1 is told to hold, stops inside a critical section
 *              with the counter written and its tally not, and is killed with SIGKILL there,
 *              holding the mutex and a permit of "demo.slots";
 *   stop       every live worker is told to stop and reports its counts and ring statistics;
 *   verify     under the mutex (repairing it first if it comes with ownerDied, as any taker
 *              would): counter == sum of tallies; each live worker's tally == the sections it
 *              counted; the fence this lock got == 2 × every released acquisition + 1 for the
 *              killed one's + 1 (each acquisition draws a fence, each release moves it on); all
 *              permits back (a dead holder's return through undo on exit);
 *   clean up   region and state file deleted (kept with --keep, which prints the java command
 *              line that inspects the region: there is no `ringlock` launcher on the PATH);
 *              workers still running killed, also on Ctrl-C (a shutdown hook).
 *
 * Exit status 0 when every check holds, 1 otherwise (and when a worker fails or io_uring is
 * unavailable, with what to do on stderr).
 */
/** {@code ringlock demo}: several JVMs share one region file and contend on it. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Starts worker JVMs that share one region file: they contend on a Mutex, pass through a"
          + " Semaphore and wait on a WaitQueue, while a progress line shows acquisitions per"
          + " second per process. At the end the protected counter is checked to be exact and a"
          + " summary shows handoffs, fences and how many wakes each io_uring_enter carried.",
      "--kill-one kills a worker with SIGKILL half-way, while it holds the mutex in the middle"
          + " of an update, to show owner-death recovery."
    })
final class DemoCommand implements Callable<Integer> {
  private static final long TICK_MILLIS = 100;
  private static final Duration START_PATIENCE = Duration.ofSeconds(60);
  private static final Duration STOP_PATIENCE = Duration.ofSeconds(60);

  @Spec CommandSpec spec;

  @Option(
      names = "--workers",
      paramLabel = "<n>",
      defaultValue = "3",
      description = "worker JVMs, 1.." + DemoState.MAX_WORKERS + " (default: ${DEFAULT-VALUE})")
  int workers;

  @Option(
      names = "--threads",
      paramLabel = "<n>",
      defaultValue = "2",
      description = "contending threads per worker, 1..8 (default: ${DEFAULT-VALUE})")
  int threads;

  @Option(
      names = "--seconds",
      paramLabel = "<s>",
      defaultValue = "10",
      description = "how long the workers contend, 1..3600 (default: ${DEFAULT-VALUE})")
  int seconds;

  @Option(
      names = "--dir",
      paramLabel = "<directory>",
      description = "where the region and state files go (default: /dev/shm, else the temp dir)")
  Path directory;

  @Option(
      names = "--kill-one",
      description = "SIGKILL worker 1 half-way, while it holds the mutex mid-update")
  boolean killOne;

  @Option(
      names = "--keep",
      description =
          "keep the region and state files, and print the command that inspects the region")
  boolean keep;

  private PrintWriter out;
  private boolean terminal;
  private boolean progressShown; // a progress line without its newline is on screen

  @Override
  public Integer call() throws Exception {
    checkOptions();
    out = spec.commandLine().getOut();
    terminal = System.console() != null;
    Path dir = directory != null ? directory : defaultDirectory();
    if (!Files.isDirectory(dir)) {
      throw new ParameterException(spec.commandLine(), "--dir " + dir + " is not a directory");
    }
    String base =
        "ringlock-demo-"
            + ProcessHandle.current().pid()
            + "-"
            + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 16));
    Path regionFile = dir.resolve(base + ".region");
    Path stateFile = dir.resolve(base + ".state");
    List<ChildProcess> children = new ArrayList<>();
    Thread cleanup = Thread.ofPlatform().unstarted(() -> cleanUp(children, regionFile, stateFile));
    Runtime.getRuntime().addShutdownHook(cleanup); // Ctrl-C: no workers or files left behind
    try (Arena arena = Arena.ofShared();
        SharedRegion region = SharedRegion.open(regionFile)) {
      return run(region, DemoState.map(stateFile, arena), regionFile, stateFile, children);
    } catch (IoUringUnavailableException e) {
      return fail(e.getMessage());
    } catch (IllegalStateException e) {
      return fail(e.getMessage()); // a worker that failed, or did not answer in time
    } finally {
      cleanUp(children, regionFile, stateFile);
      Runtime.getRuntime().removeShutdownHook(cleanup);
      if (keep) {
        out.printf(
            "%nKept %s and %s (delete them when done); look with:%n  %s%n",
            regionFile, stateFile, Ringlock.commandLineFor("inspect", regionFile.toString()));
      }
      out.flush();
    }
  }

  private void checkOptions() {
    if (workers < 1 || workers > DemoState.MAX_WORKERS) {
      throw new ParameterException(
          spec.commandLine(), "--workers must be 1.." + DemoState.MAX_WORKERS + ", not " + workers);
    }
    if (threads < 1 || threads > 8) {
      throw new ParameterException(spec.commandLine(), "--threads must be 1..8, not " + threads);
    }
    if (seconds < 1 || seconds > 3600) {
      throw new ParameterException(spec.commandLine(), "--seconds must be 1..3600, not " + seconds);
    }
  }

  private static Path defaultDirectory() {
    Path shm = Path.of("/dev/shm");
    return Files.isDirectory(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
  }

  /** What a worker reported in its DONE line. */
  private record WorkerResult(Map<String, Long> counts) {
    long get(String key) {
      Long value = counts.get(key);
      if (value == null) {
        throw new IllegalStateException("a worker's DONE line lacks " + key + ": " + counts);
      }
      return value;
    }

    static WorkerResult parse(String doneLine) {
      Map<String, Long> counts = new HashMap<>();
      for (String field : doneLine.substring("DONE".length()).trim().split(" ")) {
        int equals = field.indexOf('=');
        counts.put(field.substring(0, equals), Long.parseLong(field.substring(equals + 1)));
      }
      return new WorkerResult(counts);
    }
  }

  private int run(
      SharedRegion region,
      DemoState state,
      Path regionFile,
      Path stateFile,
      List<ChildProcess> children)
      throws Exception {
    int permits = workers; // fewer than the threads in all, so acquires queue
    Mutex mutex = region.mutex(DemoWorker.MUTEX);
    Semaphore slots = region.semaphore(DemoWorker.SLOTS, permits);
    WaitQueue start = region.waitQueue(DemoWorker.START);
    WaitQueue ticks = region.waitQueue(DemoWorker.TICKS);
    out.printf(
        "ringlock demo: %d worker JVMs x %d threads for %d s on %s%n"
            + "  each section: acquire 1 of %d permits of semaphore '%s', lock mutex '%s',"
            + " counter++ and own tally++, unlock, release%n"
            + "  every %d ms: wakeAll on wait queue '%s' (%d waits armed per worker)%n",
        workers,
        threads,
        seconds,
        regionFile,
        permits,
        DemoWorker.SLOTS,
        DemoWorker.MUTEX,
        TICK_MILLIS,
        DemoWorker.TICKS,
        DemoWorker.TICK_WAITERS);
    out.flush();

    int[] pids = new int[workers];
    for (int i = 0; i < workers; i++) {
      children.add(
          ChildProcess.startJava(
              "worker " + (i + 1),
              DemoWorker.class,
              List.of(
                  regionFile.toString(),
                  stateFile.toString(),
                  Integer.toString(i),
                  Integer.toString(threads),
                  Integer.toString(permits))));
    }
    for (int i = 0; i < workers; i++) {
      String ready = children.get(i).awaitLine("READY", START_PATIENCE);
      pids[i] = Integer.parseInt(ready.substring("READY".length()).trim());
    }
    FutexRing.Stats ringBefore = region.ring().stats();
    int started = start.wakeAll();
    if (started != workers) {
      return fail("wakeAll on '" + DemoWorker.START + "' woke " + started + " of " + workers);
    }

    long startNanos = System.nanoTime();
    long endNanos = startNanos + TimeUnit.SECONDS.toNanos(seconds);
    long killAtNanos = startNanos + TimeUnit.SECONDS.toNanos(seconds) / 2;
    long progressEvery = TimeUnit.MILLISECONDS.toNanos(terminal ? 250 : 1000);
    long nextProgress = startNanos + progressEvery;
    long[] lastTallies = new long[workers];
    long lastProgressNanos = startNanos;
    long tickCalls = 0;
    long tickWoken = 0;
    int killed = -1;
    long killNanos = 0;
    long killedFence = 0;
    List<String> recoveries = new ArrayList<>();
    while (System.nanoTime() < endNanos) {
      Thread.sleep(TICK_MILLIS);
      tickWoken += ticks.wakeAll();
      tickCalls++;
      long now = System.nanoTime();
      if (killOne && killed < 0 && now >= killAtNanos) {
        killed = 0;
        ChildProcess victim = children.get(killed);
        victim.send("hold");
        killedFence =
            Long.parseLong(victim.awaitLine("HOLDING", Duration.ofSeconds(10)).substring(8).trim());
        killNanos = System.nanoTime();
        victim.kill();
        event(
            "killed worker 1 (pid %d) with SIGKILL inside its critical section: it held mutex"
                + " '%s' (fence %,d) with the counter written and its tally not, and a permit"
                + " of '%s'",
            pids[killed], DemoWorker.MUTEX, killedFence, DemoWorker.SLOTS);
      }
      for (int i = 0; i < workers; i++) {
        for (String line; (line = children.get(i).pollLine()) != null; ) {
          handleLine(i, line, killNanos, recoveries);
        }
      }
      if (now >= nextProgress) {
        progress(state, lastTallies, now - lastProgressNanos, now - startNanos, killed);
        lastProgressNanos = now;
        nextProgress += progressEvery;
      }
    }
    double elapsedSeconds = (System.nanoTime() - startNanos) / 1e9;
    endProgress();
    FutexRing.Stats ringAfter = region.ring().stats();

    WorkerResult[] results = new WorkerResult[workers];
    for (int i = 0; i < workers; i++) {
      if (i != killed) {
        children.get(i).send("stop");
      }
    }
    for (int i = 0; i < workers; i++) {
      if (i == killed) {
        continue;
      }
      ChildProcess child = children.get(i);
      for (String line = child.awaitLine("", STOP_PATIENCE); ; ) {
        if (line.startsWith("DONE")) {
          results[i] = WorkerResult.parse(line);
          break;
        }
        handleLine(i, line, killNanos, recoveries);
        line = child.awaitLine("", STOP_PATIENCE);
      }
      child.awaitSuccess(STOP_PATIENCE);
    }
    return verifyAndSummarise(
        mutex,
        slots,
        permits,
        state,
        pids,
        results,
        killed,
        recoveries,
        elapsedSeconds,
        tickCalls,
        tickWoken,
        ringBefore,
        ringAfter);
  }

  private void handleLine(int worker, String line, long killNanos, List<String> recoveries) {
    if (line.startsWith("RECOVERED ")) {
      String[] fields = line.split(" ");
      long counter = Long.parseLong(fields[1]);
      long sum = Long.parseLong(fields[2]);
      double afterKillMillis = (Long.parseLong(fields[3]) - killNanos) / 1e6;
      String recovery =
          "worker %d took mutex '%s' over %.1f ms after the kill: ownerDied(), counter %,d"
              + " against tallies %,d, repaired to %,d, markConsistent()";
      recoveries.add(
          recovery.formatted(worker + 1, DemoWorker.MUTEX, afterKillMillis, counter, sum, sum));
      event("%s", recoveries.getLast());
    } else {
      event("worker %d: %s", worker + 1, line);
    }
  }

  private void progress(
      DemoState state, long[] lastTallies, long intervalNanos, long elapsedNanos, int killed) {
    StringBuilder line = new StringBuilder("%5.1f s ".formatted(elapsedNanos / 1e9));
    long total = 0;
    for (int i = 0; i < lastTallies.length; i++) {
      long tally = state.tallyRacy(i);
      long perSecond = (tally - lastTallies[i]) * 1_000_000_000L / Math.max(1, intervalNanos);
      lastTallies[i] = tally;
      total += perSecond;
      line.append(
          i == killed
              ? " w%d killed     ".formatted(i + 1)
              : " w%d %,9d/s".formatted(i + 1, perSecond));
    }
    line.append("  total %,10d acquisitions/s".formatted(total));
    if (terminal) {
      out.print("\r" + line);
      progressShown = true;
    } else {
      out.println(line);
    }
    out.flush();
  }

  private void endProgress() {
    if (progressShown) {
      out.println();
      progressShown = false;
    }
  }

  private void event(String format, Object... args) {
    endProgress();
    out.println("  " + format.formatted(args));
    out.flush();
  }

  private int verifyAndSummarise(
      Mutex mutex,
      Semaphore slots,
      int permits,
      DemoState state,
      int[] pids,
      WorkerResult[] results,
      int killed,
      List<String> recoveries,
      double elapsedSeconds,
      long tickCalls,
      long tickWoken,
      FutexRing.Stats ringBefore,
      FutexRing.Stats ringAfter) {
    List<String> failures = new ArrayList<>();
    long counter;
    long sum;
    long finalFence;
    MutexGuard guard = mutex.lock(Duration.ofSeconds(10)).join();
    try {
      if (guard
          .ownerDied()) { // nobody took it over before the end: the check repairs, as any taker
        long before = state.counter();
        state.counter(state.sumOfTallies());
        guard.markConsistent();
        recoveries.add(
            "the final check took mutex '%s' over: ownerDied(), counter %,d repaired to %,d"
                .formatted(DemoWorker.MUTEX, before, state.counter()));
      }
      counter = state.counter();
      sum = state.sumOfTallies();
      finalFence = guard.fence();
    } finally {
      guard.unlock();
    }
    if (killed >= 0 && recoveries.isEmpty()) {
      failures.add("worker 1 was killed holding the mutex, yet no taker saw ownerDied()");
    }
    if (counter != sum) {
      failures.add("the counter is %,d but the tallies add up to %,d".formatted(counter, sum));
    }
    for (int i = 0; i < results.length; i++) {
      if (results[i] != null && results[i].get("acquisitions") != state.tally(i)) {
        failures.add(
            "worker %d counted %,d sections, its tally says %,d"
                .formatted(i + 1, results[i].get("acquisitions"), state.tally(i)));
      }
    }
    long acquisitions = sum + (killed >= 0 ? 1 : 0); // the killed one's section never finished
    // Each acquisition draws a fence and its release moves the fence on by one (the release's
    // once-only claim, docs/protocols.md); the killed holder never released.
    long expectedFence = 2 * sum + (killed >= 0 ? 1 : 0) + 1;
    if (finalFence != expectedFence) {
      failures.add(
          "the final check got fence %,d; %,d acquisitions before it should have taken %,d"
              .formatted(finalFence, acquisitions, expectedFence));
    }
    boolean permitsBack;
    try {
      slots.acquire(permits, Duration.ofSeconds(5)).join(); // a dead holder's permits return here
      slots.release(permits);
      permitsBack = true;
    } catch (RuntimeException e) {
      permitsBack = false;
      failures.add(
          "only %d of %d permits of '%s' came back"
              .formatted(slots.availablePermits(), permits, DemoWorker.SLOTS));
    }

    out.printf(
        "%nDone: %.1f s, %,d critical sections by %d worker JVMs (%,.0f per second)%n",
        elapsedSeconds, sum, results.length, sum / elapsedSeconds);
    recoveries.forEach(r -> out.println("  owner death: " + r));
    out.printf(
        "  counter     %,d = sum of the workers' tallies %,d: %s%n",
        counter, sum, counter == sum ? "EXACT" : "WRONG");
    out.printf(
        "  fences      %,d: one drawn per acquisition and one per release (%,d sections%s"
            + " + this check): %s%n",
        finalFence,
        sum,
        killed >= 0 ? " + 1 killed mid-section" : "",
        finalFence == expectedFence ? "EXACT" : "WRONG");
    out.printf(
        "  semaphore   %d of %d permits back%s%n",
        permitsBack ? permits : slots.availablePermits(),
        permits,
        killed >= 0 && permitsBack ? " (the killed worker's permit returned by undo on exit)" : "");
    out.printf(
        "%n  %-7s %-8s %12s %10s %22s %14s %10s %12s %8s%n",
        "worker",
        "pid",
        "sections",
        "per second",
        "arrived from another",
        "io_uring_enter",
        "SQEs",
        "SQEs/enter",
        "tick wakes");
    for (int i = 0; i < results.length; i++) {
      long sections = state.tally(i);
      if (results[i] == null) {
        out.printf(
            "  %-7d %-8d %,12d %,10.0f %22s %14s %10s %12s %8s%n",
            i + 1, pids[i], sections, sections / elapsedSeconds, "killed", "-", "-", "-", "-");
        continue;
      }
      WorkerResult r = results[i];
      long enters = r.get("enterCalls");
      long sqes = r.get("sqes");
      out.printf(
          "  %-7d %-8d %,12d %,10.0f %,14d (%4.1f%%) %,14d %,10d %12.2f %,8d%n",
          i + 1,
          pids[i],
          sections,
          sections / elapsedSeconds,
          r.get("arrivals"),
          100.0 * r.get("arrivals") / Math.max(1, sections),
          enters,
          sqes,
          (double) sqes / Math.max(1, enters),
          r.get("tickWakes"));
    }
    long enters = ringAfter.enterCalls() - ringBefore.enterCalls();
    long sqes = ringAfter.sqesSubmitted() - ringBefore.sqesSubmitted();
    out.printf(
        "  %-7s %-8d %12s %10s %22s %,14d %,10d %12.2f%n",
        "demo",
        ProcessHandle.current().pid(),
        "-",
        "-",
        "-",
        enters,
        sqes,
        (double) sqes / Math.max(1, enters));
    out.printf(
        "%n  'arrived from another': sections whose fence did not follow the worker's previous"
            + " one, i.e. the lock came from another process; the rest stayed in the process"
            + " (in-process handoff or re-acquisition, no kernel round trip).%n"
            + "  The demo process made %,d wakeAll calls on '%s' that woke %,d waiters (%.1f per"
            + " call, each call's FUTEX_WAKEs submitted in one io_uring_enter).%n",
        tickCalls, DemoWorker.TICKS, tickWoken, (double) tickWoken / Math.max(1, tickCalls));
    if (!failures.isEmpty()) {
      failures.forEach(f -> spec.commandLine().getErr().println("ringlock demo: FAILED: " + f));
      spec.commandLine().getErr().flush();
      return Ringlock.FAILED;
    }
    out.println("\nAll checks passed.");
    return 0;
  }

  private int fail(String message) {
    spec.commandLine().getErr().println("ringlock demo: " + message);
    spec.commandLine().getErr().flush();
    return Ringlock.FAILED;
  }

  private void cleanUp(List<ChildProcess> children, Path regionFile, Path stateFile) {
    children.forEach(ChildProcess::close);
    if (!keep) {
      try {
        Files.deleteIfExists(regionFile);
        Files.deleteIfExists(stateFile);
      } catch (IOException e) {
        System.err.println("ringlock demo: could not delete " + regionFile + ": " + e);
      }
    }
  }
}
