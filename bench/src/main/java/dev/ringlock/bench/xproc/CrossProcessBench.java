package dev.ringlock.bench.xproc;

import dev.ringlock.core.FutexRing;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToDoubleFunction;

/*
 * Overview
 *
 * The cross-process benchmark driver: ringlock against the peers that are not in one JVM.
 *
 * Contended loop (ns per critical section, lower is better). Two processes each loop
 * lock -> increment a plain counter in shared memory -> unlock. The driver steers the phases
 * WAITING -> WARMUP -> MEASURE -> STOP through a word of the control file and times MEASURE
 * itself; ns per section = that time / the sections both processes counted in MEASURE. Every
 * loop's counter must equal all sections of both processes, or the run fails. Beside it, the
 * acquire latency (p50, p99, p99.9 in µs) of a uniform sample of the measured acquisitions
 * (every 64th timed, LatencyReservoir).
 *   - C pthread mutex, PROCESS_SHARED + ROBUST, and PROCESS_SHARED only (mutex_loop.c);
 *   - FileChannel.lock, a spin-CAS word (Chronicle-style) and the ringlock Mutex, each in two
 *     child JVMs (LoopChild) that start together on the phase word.
 *
 * Read-mostly loop (ns per operation of one process, lower is better). Two processes each loop
 * over one read-write lock, 95 % reads of a two-word record and 5 % writes of it: a
 * process-shared pthread_rwlock (rwlock_loop.c, glibc's default kind) against the ringlock
 * ReadWriteMutex (ReadMostlyChild); no read may see the words differ.
 *
 * Handoff round trip (latency). Two processes ping-pong over two shared futex words:
 *   - C with raw futex syscalls (futex_pingpong.c), the floor for a blocking handoff;
 *   - ringlock, both sides on their default FutexRing (PingPongChild): a blocked initiator
 *     thread with a blocked responder thread, or with a continuation as responder (the goals);
 *     and, for reference, continuations on both sides (no Java thread parks at all).
 *
 * Every measurement runs once per round, rounds interleaved so that a noisy moment hits one
 * round of everything rather than every round of one thing; the table shows each round and the
 * median, then the ratios against the project's goals. Compare ratios within one run only.
 *
 * The measurements themselves are Harness's. The C programs are compiled into bench/target/c/
 * with the system gcc; without gcc their rows say so and the goals that need them are not judged.
 */
public final class CrossProcessBench {

  private static final String C_ROBUST = "pthread robust (C)";
  private static final String C_PLAIN = "pthread plain (C)";
  private static final String C_FUTEX = "futex syscalls (C)";
  private static final String RING_THREAD = "ringlock ring, thread responder";
  private static final String RING_CONTINUATION = "ringlock ring, continuation responder";
  private static final String RING_BOTH = "ringlock ring, continuations both sides";
  private static final String C_RWLOCK = "pthread_rwlock, shared (C)";
  private static final String RING_RW = "ringlock ReadWriteMutex";
  private static final int READ_PERCENT = 95;

  private final Settings settings;
  private final Harness harness;
  private final Map<String, List<Harness.LoopResult>> loops = new LinkedHashMap<>();
  private final Map<String, List<RoundTripStats>> handoffs = new LinkedHashMap<>();
  private final Map<String, List<Harness.ReadMostlyResult>> readMostly = new LinkedHashMap<>();

  private CrossProcessBench(Settings settings, Harness harness) {
    this.settings = settings;
    this.harness = harness;
  }

  /** How long and how often to measure. */
  record Settings(
      int rounds,
      Duration loopWarmup,
      Duration loopMeasure,
      int handoffWarmup,
      int handoffRounds,
      Path directory) {
    static Settings parse(String[] args) {
      boolean quick = false;
      int rounds = 3;
      Path directory = Path.of("/dev/shm");
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--quick" -> quick = true;
          case "--rounds" -> rounds = Integer.parseInt(argumentOf(args, ++i));
          case "--dir" -> directory = Path.of(argumentOf(args, ++i));
          default ->
              throw new IllegalArgumentException(
                  "unknown argument " + args[i] + "; usage: [--quick] [--rounds N] [--dir DIR]");
        }
      }
      if (rounds < 1) {
        throw new IllegalArgumentException("--rounds must be at least 1");
      }
      return quick
          ? new Settings(
              rounds, Duration.ofMillis(300), Duration.ofMillis(500), 2_000, 3_000, directory)
          : new Settings(
              rounds, Duration.ofSeconds(1), Duration.ofSeconds(2), 10_000, 20_000, directory);
    }

    private static String argumentOf(String[] args, int index) {
      if (index >= args.length) {
        throw new IllegalArgumentException(args[index - 1] + " needs a value");
      }
      return args[index];
    }
  }

  public static void main(String[] args) throws Exception {
    Settings settings = Settings.parse(args);
    System.out.printf(
        "Cross-process benchmark: %d rounds; loops %d ms warm-up + %d ms measured;"
            + " handoffs %d + %d round trips; files in %s%n",
        settings.rounds(),
        settings.loopWarmup().toMillis(),
        settings.loopMeasure().toMillis(),
        settings.handoffWarmup(),
        settings.handoffRounds(),
        settings.directory());
    System.out.println("load average at start: " + loadAverage());
    Harness harness = Harness.open(settings.directory());
    System.out.println(
        harness.hasCAnchors()
            ? "C anchors compiled into " + Harness.cDirectory()
            : "C anchors: skipped: no gcc on PATH");
    CrossProcessBench bench = new CrossProcessBench(settings, harness);
    for (int round = 1; round <= settings.rounds(); round++) {
      System.out.println("-- round " + round);
      bench.runRound();
    }
    System.out.println("load average at end: " + loadAverage());
    bench.printTables();
  }

  private void runRound() throws Exception {
    Duration warmup = settings.loopWarmup();
    Duration measure = settings.loopMeasure();
    if (harness.hasCAnchors()) {
      record(C_ROBUST, harness.cLoop(true, 2, warmup, measure));
      record(C_PLAIN, harness.cLoop(false, 2, warmup, measure));
    }
    for (LoopVariant variant : LoopVariant.values()) {
      record(variant.label, harness.javaLoop(variant, 2, warmup, measure));
    }
    if (harness.hasCAnchors()) {
      record(C_RWLOCK, harness.cReadMostly(false, 2, READ_PERCENT, warmup, measure));
    }
    record(
        RING_RW, harness.javaReadMostly(FutexRing.Backend.AUTO, 2, READ_PERCENT, warmup, measure));
    int handoffWarmup = settings.handoffWarmup();
    int handoffRounds = settings.handoffRounds();
    if (harness.hasCAnchors()) {
      record(C_FUTEX, harness.cPingPong(handoffWarmup, handoffRounds));
    }
    record(
        RING_THREAD,
        harness.ringPingPong(
            Harness.Style.THREAD,
            Harness.Style.THREAD,
            FutexRing.Backend.AUTO,
            handoffWarmup,
            handoffRounds));
    record(
        RING_CONTINUATION,
        harness.ringPingPong(
            Harness.Style.THREAD,
            Harness.Style.CONTINUATION,
            FutexRing.Backend.AUTO,
            handoffWarmup,
            handoffRounds));
    record(
        RING_BOTH,
        harness.ringPingPong(
            Harness.Style.CONTINUATION,
            Harness.Style.CONTINUATION,
            FutexRing.Backend.AUTO,
            handoffWarmup,
            handoffRounds));
  }

  private void record(String label, Harness.LoopResult loop) {
    System.out.printf(
        "  %-40s %10.1f ns per critical section, acquire %s%n",
        label, loop.nanosPerSection(), loop.acquireLatency().resultFields());
    loops.computeIfAbsent(label, unused -> new ArrayList<>()).add(loop);
  }

  private void record(String label, Harness.ReadMostlyResult result) {
    System.out.printf(
        "  %-40s %10.1f ns per operation of one process (%d %% reads)%s%n",
        label,
        result.nanosPerOp(),
        READ_PERCENT,
        result
            .queued()
            .map(
                waits ->
                    String.format(
                        ", %.2f ms mean queued wait (%.3f %% of reads, %.1f %% of writes queued)",
                        waits.queuedMeanNanos() / 1e6,
                        100 * waits.queuedReadShare(),
                        100 * waits.queuedWriteShare()))
            .orElse(""));
    readMostly.computeIfAbsent(label, unused -> new ArrayList<>()).add(result);
  }

  private void record(String label, RoundTripStats stats) {
    System.out.printf("  %-40s %s%n", label, stats.resultFields());
    handoffs.computeIfAbsent(label, unused -> new ArrayList<>()).add(stats);
  }

  // ---- report ----

  private void printTables() {
    System.out.println();
    System.out.println(
        "== Contended loop, 2 processes: ns per critical section (lower is better); acquire"
            + " latency, µs (medians over rounds)");
    System.out.printf("%-40s", "");
    for (int round = 1; round <= settings.rounds(); round++) {
      System.out.printf("%10s", "round " + round);
    }
    System.out.printf("%10s%10s%10s%10s%n", "median", "p50", "p99", "p99.9");
    if (!harness.hasCAnchors()) {
      System.out.printf("%-40s skipped: no gcc on PATH%n", C_ROBUST);
      System.out.printf("%-40s skipped: no gcc on PATH%n", C_PLAIN);
    }
    loops.forEach(
        (label, results) -> {
          System.out.printf("%-40s", label);
          results.forEach(result -> System.out.printf("%10.1f", result.nanosPerSection()));
          System.out.printf(
              "%10.1f%10.2f%10.2f%10.2f%n",
              median(results, Harness.LoopResult::nanosPerSection),
              median(results, r -> r.acquireLatency().p50Ns()) / 1e3,
              median(results, r -> r.acquireLatency().p99Ns()) / 1e3,
              median(results, r -> r.acquireLatency().p999Ns()) / 1e3);
        });

    System.out.println();
    System.out.println(
        "== Read-mostly loop, 2 processes, "
            + READ_PERCENT
            + " % reads: ns per operation of one process (lower is better)");
    if (!harness.hasCAnchors()) {
      System.out.printf("%-40s skipped: no gcc on PATH%n", C_RWLOCK);
    }
    readMostly.forEach(
        (label, results) -> {
          System.out.printf("%-40s", label);
          results.forEach(result -> System.out.printf("%10.1f", result.nanosPerOp()));
          System.out.printf("%10.1f%n", median(results, Harness.ReadMostlyResult::nanosPerOp));
        });

    System.out.println();
    System.out.println(
        "== Handoff round trip, 2 processes: µs (median over rounds of each statistic)");
    System.out.printf(
        "%-40s%10s%10s%10s%10s   %s%n", "", "mean", "p50", "p99", "p99.9", "means by round");
    if (!harness.hasCAnchors()) {
      System.out.printf("%-40s skipped: no gcc on PATH%n", C_FUTEX);
    }
    handoffs.forEach(
        (label, stats) -> {
          System.out.printf(
              "%-40s%10.1f%10.1f%10.1f%10.1f  ",
              label,
              median(stats, RoundTripStats::meanNs) / 1e3,
              median(stats, RoundTripStats::p50Ns) / 1e3,
              median(stats, RoundTripStats::p99Ns) / 1e3,
              median(stats, RoundTripStats::p999Ns) / 1e3);
          stats.forEach(s -> System.out.printf(" %.1f", s.meanNs() / 1e3));
          System.out.println();
        });

    System.out.println();
    System.out.println("== Goals (ratios of medians)");
    Optional<Double> mutex = loopMedian(LoopVariant.RINGLOCK_MUTEX.label);
    Optional<Double> fileLock = loopMedian(LoopVariant.FILE_LOCK.label);
    Optional<Double> spinCas = loopMedian(LoopVariant.SPIN_CAS.label);
    Optional<Double> robust = loopMedian(C_ROBUST);
    Optional<Double> plain = loopMedian(C_PLAIN);
    Optional<Double> futexMean = handoffMedian(C_FUTEX, RoundTripStats::meanNs);
    Optional<Double> futexP50 = handoffMedian(C_FUTEX, RoundTripStats::p50Ns);
    goal("ringlock Mutex vs FileChannel.lock, times faster", fileLock, mutex, atLeast(50));
    goal("ringlock Mutex / pthread robust (C)", mutex, robust, atMost(2));
    goal(
        "ringlock ReadWriteMutex / pthread_rwlock (C), read-mostly",
        Optional.ofNullable(readMostly.get(RING_RW))
            .map(results -> median(results, Harness.ReadMostlyResult::nanosPerOp)),
        Optional.ofNullable(readMostly.get(C_RWLOCK))
            .map(results -> median(results, Harness.ReadMostlyResult::nanosPerOp)),
        atMost(2));
    for (String ring : List.of(RING_THREAD, RING_CONTINUATION)) {
      Optional<Double> mean = handoffMedian(ring, RoundTripStats::meanNs);
      goal(ring + " / futex (C), mean", mean, futexMean, atMost(1.3));
    }
    System.out.println("For reference (no goal):");
    ratio("spin CAS vs FileChannel.lock, times faster", fileLock, spinCas);
    ratio("spin CAS / pthread robust (C)", spinCas, robust);
    ratio("ringlock Mutex / pthread plain (C)", mutex, plain);
    ratio(
        RING_BOTH + " / futex (C), mean",
        handoffMedian(RING_BOTH, RoundTripStats::meanNs),
        futexMean);
    for (String ring : List.of(RING_THREAD, RING_CONTINUATION, RING_BOTH)) {
      ratio(ring + " / futex (C), p50", handoffMedian(ring, RoundTripStats::p50Ns), futexP50);
    }
  }

  /** A bound on a ratio: met when the ratio is at least, or at most, {@code value}. */
  private record Bound(boolean atLeast, double value) {
    boolean isMetBy(double ratio) {
      return atLeast ? ratio >= value : ratio <= value;
    }

    @Override
    public String toString() {
      return (atLeast ? "goal >= " : "goal <= ") + value + "x";
    }
  }

  private static Bound atLeast(double value) {
    return new Bound(true, value);
  }

  private static Bound atMost(double value) {
    return new Bound(false, value);
  }

  private static void goal(
      String what, Optional<Double> numerator, Optional<Double> denominator, Bound bound) {
    if (numerator.isEmpty() || denominator.isEmpty()) {
      System.out.printf("  %-58s %10s  (%s)  n/a: not measured%n", what, "-", bound);
      return;
    }
    double ratio = numerator.get() / denominator.get();
    System.out.printf(
        "  %-58s %9.2fx  (%s)  %s%n", what, ratio, bound, bound.isMetBy(ratio) ? "PASS" : "FAIL");
  }

  private static void ratio(String what, Optional<Double> numerator, Optional<Double> denominator) {
    if (numerator.isPresent() && denominator.isPresent()) {
      System.out.printf("  %-58s %9.2fx%n", what, numerator.get() / denominator.get());
    }
  }

  private Optional<Double> loopMedian(String label) {
    return Optional.ofNullable(loops.get(label))
        .map(results -> median(results, Harness.LoopResult::nanosPerSection));
  }

  private Optional<Double> handoffMedian(String label, ToDoubleFunction<RoundTripStats> statistic) {
    return Optional.ofNullable(handoffs.get(label)).map(stats -> median(stats, statistic));
  }

  private static <T> double median(List<T> values, ToDoubleFunction<T> statistic) {
    double[] sorted = values.stream().mapToDouble(statistic).sorted().toArray();
    int middle = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  }

  // ---- environment ----

  private static String loadAverage() {
    try {
      String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return String.join(" ", Arrays.copyOf(fields, 3));
    } catch (IOException e) {
      return "unknown (" + e.getMessage() + ")";
    }
  }
}
