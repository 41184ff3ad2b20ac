package dev.ringlock.bench.suite;

import dev.ringlock.bench.AsyncContentionBenchmark;
import dev.ringlock.bench.DirectPingPongBenchmark;
import dev.ringlock.bench.MutexUncontendedBenchmark;
import dev.ringlock.bench.ReadWriteMutexBenchmark;
import dev.ringlock.bench.RingPingPongBenchmark;
import dev.ringlock.bench.SemaphoreBenchmark;
import dev.ringlock.bench.WaitQueueWakeBenchmark;
import dev.ringlock.bench.WakeBatchBenchmark;
import dev.ringlock.bench.suite.Results.Figure;
import dev.ringlock.bench.suite.Results.Row;
import dev.ringlock.bench.suite.Results.Table;
import dev.ringlock.bench.xproc.Harness;
import dev.ringlock.bench.xproc.LoopVariant;
import dev.ringlock.bench.xproc.RoundTripStats;
import dev.ringlock.core.FutexRing;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/*
 * Overview
 *
 * The one-command benchmark suite: ringlock against its peers, every benchmark of bench/ and the
 * cross-process harness, into bench/results/<date>-<hostname>/ (report.md, results.json, PNG
 * charts). Usage:
 *
 *   java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar \
 *       dev.ringlock.bench.suite.BenchmarkSuite [--quick | --full | --smoke] [--out DIR]
 *       [--dir SHM_DIR] [--only REGEX]
 *
 * The run is a flat plan of steps, each one JMH run (one benchmark method with one parameter
 * set, in forked JVMs) or one cross-process measurement (one variant, one round; rounds are
 * interleaved so that a noisy moment hits one round of everything). Before each step it prints
 * "[i/N] what, elapsed, about T left"; the time left is the plan's estimate of the remaining
 * steps, scaled by how the finished steps compared with their estimates. --only REGEX keeps the
 * steps whose title it finds (e.g. --only 'read-write|Read-write' for issue 18's rows).
 *
 * Each step files its figures under a table (Results) and keeps its raw output: JMH's own JSON,
 * and a JSON object per harness measurement. A step that fails is reported in report.md with
 * its error and the run goes on; the exit status is then 1. At the end the goals (Goals) are
 * judged, and Report writes the three outputs.
 *
 * JMH runs use the suite's iteration counts and times (SuiteMode), not the benchmarks' own
 * annotations, so that the run's length is known; the annotations' JVM arguments still apply.
 * WaitQueueWakeBenchmark and the in-process ping-pongs run in SampleTime mode, for percentiles.
 */
/** The benchmark suite's entry point: see the overview comment for usage. */
public final class BenchmarkSuite {
  /** The benchmarks' backend parameter that forces the futex-syscalls backend. */
  private static final String SYSCALLS = FutexRing.Backend.SYSCALLS.name();

  /** What a row label gets when the row runs on the syscalls backend. */
  static final String ON_SYSCALLS = " (syscalls)";

  static final String USAGE =
      "usage: BenchmarkSuite [--quick | --full | --smoke] [--out DIR] [--dir SHM_DIR]"
          + " [--only REGEX]";

  // The read-write mutex's tables and rows (issue 18), named once: Goals judges them.
  static final String RW_UNCONTENDED_READ = "rw-uncontended-read";
  static final String RW_MIXED = "rw-mixed-"; // + the read percentage
  static final String XPROC_READ_MOSTLY = "xproc-read-mostly-2";
  static final String PTHREAD_RWLOCK = "pthread_rwlock, shared (C)";
  static final String PTHREAD_RWLOCK_WRITERS = "pthread_rwlock, shared, writers preferred (C)";
  static final String RINGLOCK_RW = "ringlock ReadWriteMutex";

  /** Read-mostly: the share of reads in the mixed and 2-process read-write workloads. */
  static final int READ_MOSTLY_PERCENT = 95;

  private final SuiteMode mode;
  private final Path shmDirectory;
  private final Results results = new Results();
  private final List<String> jmhJson = new ArrayList<>();
  private final List<String> harnessJson = new ArrayList<>();
  private final Map<String, String> failures = new LinkedHashMap<>();
  private final List<String> skipped = new ArrayList<>();
  private final Path scratch;
  private final Pattern only; // null: every step
  private Harness harness;

  private BenchmarkSuite(SuiteMode mode, Path shmDirectory, Path scratch, Pattern only) {
    this.mode = mode;
    this.shmDirectory = shmDirectory;
    this.scratch = scratch;
    this.only = only;
  }

  /** A step of the plan. */
  private record Step(String title, double estimateSeconds, Action action) {}

  @FunctionalInterface
  private interface Action {
    void run() throws Exception;
  }

  public static void main(String[] args) throws Exception {
    SuiteMode mode = SuiteMode.FULL;
    Path out = null;
    Path shm = Path.of("/dev/shm");
    Pattern only = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--quick" -> mode = SuiteMode.QUICK;
        case "--full" -> mode = SuiteMode.FULL;
        case "--smoke" -> mode = SuiteMode.SMOKE;
        case "--out" -> out = Path.of(value(args, ++i));
        case "--dir" -> shm = Path.of(value(args, ++i));
        case "--only" -> only = Pattern.compile(value(args, ++i));
        case "-h", "--help" -> {
          System.out.println(USAGE);
          return;
        }
        default -> throw new IllegalArgumentException("unknown argument " + args[i] + "; " + USAGE);
      }
    }
    System.exit(run(mode, out, shm, only));
  }

  private static String value(String[] args, int index) {
    if (index >= args.length) {
      throw new IllegalArgumentException(args[index - 1] + " needs a value; " + USAGE);
    }
    return args[index];
  }

  /**
   * Runs the suite and writes its folder under {@code outRoot} (default: bench/results of the
   * current directory).
   *
   * @return 0, or 1 if a step failed (the report says which)
   */
  static int run(SuiteMode mode, Path outRoot, Path shmDirectory) throws Exception {
    return run(mode, outRoot, shmDirectory, null);
  }

  /**
   * As {@link #run(SuiteMode, Path, Path)}, running only the steps whose title {@code only} finds
   * (every step if null): the goals whose rows were not run say "not measured".
   */
  static int run(SuiteMode mode, Path outRoot, Path shmDirectory, Pattern only) throws Exception {
    System.setProperty("java.awt.headless", "true"); // charts are drawn off-screen
    if (mode == SuiteMode.SMOKE) {
      // JMH refuses to start while another JMH run on the machine holds /tmp/jmh.lock, which
      // guards the figures; the smoke run's figures mean nothing, and CI's test must not fail
      // because someone benchmarks beside it.
      System.setProperty("jmh.ignoreLock", "true");
    }
    Path root = outRoot != null ? outRoot : defaultOutRoot();
    Path folder = newFolder(root, LocalDate.now() + "-" + Environment.localHostname());
    Path scratch = Files.createTempDirectory("ringlock-suite-");
    try {
      BenchmarkSuite suite = new BenchmarkSuite(mode, shmDirectory, scratch, only);
      Instant start = Instant.now();
      Environment before = Environment.capture();
      suite.execute();
      Environment after = Environment.capture();
      Report report =
          new Report(
              mode,
              only,
              suite.results,
              Goals.all(),
              before,
              after,
              start,
              Duration.between(start, Instant.now()),
              suite.failures,
              suite.skipped);
      report.write(folder, suite.jmhJson, suite.harnessJson);
      System.out.println("report written to " + folder.resolve("report.md"));
      report.printGoals(System.out);
      return suite.failures.isEmpty() ? 0 : 1;
    } finally {
      deleteTree(scratch);
    }
  }

  private static Path defaultOutRoot() {
    Path bench = Path.of("bench");
    if (!Files.isDirectory(bench)) {
      throw new IllegalArgumentException(
          "run from the repository's root (no bench/ here) or give --out DIR for the results");
    }
    return bench.resolve("results");
  }

  /** {@code root/name}, or {@code name-2}, {@code -3}... if taken: a run never overwrites one. */
  private static Path newFolder(Path root, String name) throws IOException {
    Path folder = root.resolve(name);
    for (int n = 2; Files.exists(folder); n++) {
      folder = root.resolve(name + "-" + n);
    }
    return Files.createDirectories(folder);
  }

  private void execute() throws Exception {
    harness = Harness.open(shmDirectory);
    if (!harness.hasCAnchors()) {
      String line =
          "C anchors (robust pthread mutex loop, raw futex ping-pong): skipped: no gcc on PATH;"
              + " the goals against them are not judged";
      System.out.println(line);
      skipped.add(line);
    }
    List<Step> plan = selected(plan(), only);
    if (plan.isEmpty()) {
      throw new IllegalArgumentException(
          "--only " + only + " matches no step's title; the titles are those of a full run");
    }
    if (only != null) {
      skipped.add(
          "every step whose title `"
              + only
              + "` does not find (--only): their goals are not measured in this run");
    }
    Progress progress = new Progress(plan.stream().mapToDouble(Step::estimateSeconds).toArray());
    System.out.printf(
        "ringlock benchmark suite, %s mode: %d steps, about %s%n",
        mode.name().toLowerCase(java.util.Locale.ROOT),
        plan.size(),
        Progress.format(progress.totalEstimate()));
    for (int i = 0; i < plan.size(); i++) {
      Step step = plan.get(i);
      System.out.println(progress.before(i, step.title()));
      try {
        step.action().run();
      } catch (Exception | Error e) {
        String message = e.getClass().getSimpleName() + ": " + e.getMessage();
        System.out.println("  FAILED: " + message);
        failures.put(step.title(), message);
      }
      progress.after(i);
    }
    System.out.println(progress.done());
  }

  /** The steps whose title {@code only} finds, in plan order; all of them if it is null. */
  static <T> List<T> selected(
      List<T> steps, Pattern only, java.util.function.Function<T, String> title) {
    return only == null
        ? steps
        : steps.stream().filter(step -> only.matcher(title.apply(step)).find()).toList();
  }

  private static List<Step> selected(List<Step> plan, Pattern only) {
    return selected(plan, only, Step::title);
  }

  // ---- the plan ----

  private List<Step> plan() {
    List<Step> plan = new ArrayList<>();
    boolean smoke = mode == SuiteMode.SMOKE;

    Table uncontended =
        results.table(
            "uncontended",
            "Uncontended lock + increment + unlock, one thread",
            "ns/op",
            false,
            "MutexUncontendedBenchmark; JMH -prof gc gives the bytes allocated per operation."
                + " mappedWordOnly is the floor under any lock on a mapped word: its CAS and its"
                + " getAndSet on the same kind of mapping, nothing else; mappedProtocolOnly the"
                + " floor under ringlock's protocol: the eight accesses its lock + unlock make to"
                + " a mutex object, in the same order and modes, nothing else. The rows marked"
                + " (syscalls) open their region on a ring of the futex-syscalls backend, the"
                + " others on the default ring (the backend AUTO picks, see the header): no"
                + " backend is on this path, so the two must not differ beyond the noise.");
    // The uncontended rows carry -prof gc: bytes per acquisition are part of the explanation.
    // Each ringlock row is followed by its syscalls twin, so that drift hits both alike.
    List<String> uncontendedMethods =
        smoke
            ? List.of("ringlockLock", "reentrantLock")
            : List.of(
                "ringlockLock",
                "ringlockTryLock",
                "reentrantLock",
                "mappedWordOnly",
                "mappedProtocolOnly");
    for (String method : uncontendedMethods) {
      boolean ringlock = method.startsWith("ringlock");
      jmh(plan, uncontended, MutexUncontendedBenchmark.class, method, ringlock, null, Map.of()).gc =
          true;
      if (ringlock) {
        JmhRun syscalls =
            jmh(
                plan,
                uncontended,
                MutexUncontendedBenchmark.class,
                method,
                true,
                null,
                Map.of("backend", SYSCALLS));
        syscalls.gc = true;
        syscalls.label = method + ON_SYSCALLS;
      }
    }

    readWrite(plan, smoke);

    // Waking 1024 sleeping waiters: every backend's queue and bare-ring rows beside the syscall
    // baseline; the smoke run keeps the syscalls backend's rows and the baseline, at 1024.
    List<Integer> sizes = mode == SuiteMode.FULL ? List.of(64, 1024) : List.of(1024);
    for (int n : sizes) {
      Table wake =
          results.table(
              "wake-" + n,
              "Waking " + n + " sleeping waiters until all have resumed",
              "µs",
              false,
              "WaitQueueWakeBenchmark (SampleTime): a WaitQueue's waiters (futures on one ring)"
                  + " woken by wakeAll or wakeUpTo, and the bare ring under it (ringWakeEach: "
                  + n
                  + " ring waits on words of a mapped file, one wakeEach over all), against "
                  + n
                  + " platform threads in futex_wait woken one syscall each, all on one word"
                  + " woken by one FUTEX_WAKE, or in a j.u.c Condition's await woken by"
                  + " signalAll. Rows marked (syscalls) run on a ring of the futex-syscalls"
                  + " backend, the others on io_uring where AUTO picks it; queueWakeUpTo (as"
                  + " many bystanders as waiters) has an AUTO row only here, but runs on either"
                  + " backend (-p backend=SYSCALLS): a queue keeps one kernel wait per process.");
      List<String[]> rows = new ArrayList<>(); // method, backend (null: the benchmark's AUTO)
      if (!smoke) {
        rows.add(new String[] {"queueWakeAll", null});
      }
      rows.add(new String[] {"queueWakeAll", SYSCALLS});
      if (!smoke) {
        rows.add(new String[] {"queueWakeUpTo", null});
        rows.add(new String[] {"ringWakeEach", null});
      }
      rows.add(new String[] {"ringWakeEach", SYSCALLS});
      rows.add(new String[] {"syscallPerWaiter", null});
      if (!smoke) {
        rows.add(new String[] {"sharedWord", null});
        rows.add(new String[] {"conditionSignalAll", null});
      }
      for (String[] row : rows) {
        String method = row[0];
        Map<String, String> params = new LinkedHashMap<>();
        params.put("waiters", Integer.toString(n));
        if (row[1] != null) {
          params.put("backend", row[1]);
        }
        jmh(
                    plan,
                    wake,
                    WaitQueueWakeBenchmark.class,
                    method,
                    method.startsWith("queue") || method.startsWith("ring"),
                    Mode.SampleTime,
                    params)
                .label =
            row[1] == null ? method : method + ON_SYSCALLS;
      }
    }

    if (!smoke) {
      Table async =
          results.table(
              "async-contention",
              "1000 tasks contending for one lock on 2 threads",
              "batches/s",
              true,
              "AsyncContentionBenchmark: a batch is 1000 lock → increment → unlock tasks.");
      for (String method :
          List.of("ringlockMutex", "fairAsyncLock", "reentrantLockOnVirtualThreads")) {
        jmh(
            plan,
            async,
            AsyncContentionBenchmark.class,
            method,
            method.startsWith("ringlock"),
            null,
            Map.of());
      }
      Table semaphoreUncontended =
          results.table(
              "semaphore-uncontended",
              "Semaphore, uncontended acquire + release (1 permit)",
              "ns/op",
              false,
              "SemaphoreBenchmark, uncontended methods (ringlock with its undo record on exit)."
                  + " uncontendedMappedProtocolOnly is the floor under the undo protocol: the ten"
                  + " accesses an uncontended acquire(1) + release(1) make to a semaphore object, in"
                  + " the same order and modes, on a mapping, nothing else.");
      for (String method :
          List.of(
              "uncontendedRinglockAcquire",
              "uncontendedRinglockTryAcquire",
              "uncontendedJucSemaphore",
              "uncontendedIbmFairAsyncSemaphore",
              "uncontendedMappedProtocolOnly")) {
        jmh(
            plan,
            semaphoreUncontended,
            SemaphoreBenchmark.class,
            method,
            method.contains("Ringlock"),
            null,
            Map.of());
      }
      Table semaphoreContended =
          results.table(
              "semaphore-contended",
              "Semaphore, 1000 tasks contending for 1 permit on 2 threads",
              "batches/s",
              true,
              "SemaphoreBenchmark, contended methods (contendedRinglockWithoutUndo: the same"
                  + " batch on a semaphore without undo on exit, what the goal's note compares).");
      for (String method :
          List.of(
              "contendedRinglock",
              "contendedRinglockWithoutUndo",
              "contendedIbmFairAsyncSemaphore",
              "contendedJucSemaphoreOnVirtualThreads")) {
        jmh(
            plan,
            semaphoreContended,
            SemaphoreBenchmark.class,
            method,
            method.contains("Ringlock"),
            null,
            Map.of());
      }
      Table roundTrip =
          results.table(
              "wake-round-trip",
              "Wake round trip between two threads of one process",
              "µs",
              false,
              "DirectPingPongBenchmark (futex syscalls) against RingPingPongBenchmark (FUTEX"
                  + " doorbell, DEFER_TASKRUN), SampleTime.");
      jmh(
                  plan,
                  roundTrip,
                  DirectPingPongBenchmark.class,
                  "roundTrip",
                  false,
                  Mode.SampleTime,
                  Map.of())
              .label =
          "futex syscalls, threads";
      for (String responder : List.of("THREAD", "CONTINUATION")) {
        jmh(
                    plan,
                    roundTrip,
                    RingPingPongBenchmark.class,
                    "roundTrip",
                    true,
                    Mode.SampleTime,
                    Map.of("responder", responder, "doorbell", "FUTEX", "setup", "DEFER_TASKRUN"))
                .label =
            "ringlock ring, " + responder.toLowerCase(java.util.Locale.ROOT) + " responder";
      }
      Table batch =
          results.table(
              "wake-batch-1024",
              "1024 fire-and-forget wakes of words nobody waits on",
              "ns/op",
              false,
              "WakeBatchBenchmark (AverageTime): one ring.wakeEach request against 1024"
                  + " futex_wake syscalls.");
      for (String method : List.of("ringWakeEach", "directSyscalls")) {
        jmh(
            plan,
            batch,
            WakeBatchBenchmark.class,
            method,
            method.startsWith("ring"),
            Mode.AverageTime,
            Map.of("wakes", "1024"));
      }
    }

    crossProcess(plan, smoke);
    return plan;
  }

  /**
   * The read-write mutex in one process (ReadWriteMutexBenchmark): uncontended read against
   * ReentrantReadWriteLock's read lock and IBM's FairAsyncReadWriteLock, uncontended write, and the
   * 95 % and 50 % read mixes on 2 threads. The smoke run keeps the uncontended read pair.
   */
  private void readWrite(List<Step> plan, boolean smoke) {
    Table read =
        results.table(
            RW_UNCONTENDED_READ,
            "Read-write lock, uncontended read + unlock, one thread",
            "ns/op",
            false,
            "ReadWriteMutexBenchmark: a read hold around one load, against"
                + " ReentrantReadWriteLock's read lock and IBM async-util's FairAsyncReadWriteLock"
                + " (joined). A ringlock read is a getAndAdd on this process's reader record, a"
                + " load of the state word and an already-completed future; its release a"
                + " getAndAdd back and a load of the word. -prof gc: bytes per operation.");
    List<String> readMethods =
        smoke
            ? List.of("ringlockUncontendedRead", "reentrantUncontendedRead")
            : List.of("ringlockUncontendedRead", "reentrantUncontendedRead", "ibmUncontendedRead");
    for (String method : readMethods) {
      jmh(
                  plan,
                  read,
                  ReadWriteMutexBenchmark.class,
                  method,
                  method.startsWith("ringlock"),
                  null,
                  Map.of())
              .gc =
          true;
    }
    if (smoke) {
      return;
    }
    Table write =
        results.table(
            "rw-uncontended-write",
            "Read-write lock, uncontended write + unlock, one thread",
            "ns/op",
            false,
            "ReadWriteMutexBenchmark: a write hold around one increment, against"
                + " ReentrantReadWriteLock's write lock. A ringlock write CASes the state word and"
                + " looks at the reader records in use (those below the header's bound, one per"
                + " reading view: one here) for marks and for readers still inside.");
    for (String method : List.of("ringlockUncontendedWrite", "reentrantUncontendedWrite")) {
      jmh(
                  plan,
                  write,
                  ReadWriteMutexBenchmark.class,
                  method,
                  method.startsWith("ringlock"),
                  null,
                  Map.of())
              .gc =
          true;
    }
    for (int readPercent : List.of(READ_MOSTLY_PERCENT, 50)) {
      Table mixed =
          results.table(
              RW_MIXED + readPercent,
              "Read-write lock, " + readPercent + " % reads, 2 threads (throughput)",
              "ops/µs",
              true,
              "ReadWriteMutexBenchmark's *Mixed methods: each of 2 threads loops, each operation"
                  + " a read (one load under the read lock) with probability "
                  + readPercent
                  + " % or else a write (one increment under the write lock); operations per µs"
                  + " of both threads. The async locks are joined on JMH's platform threads.");
      for (String method : List.of("ringlockMixed", "reentrantMixed", "ibmMixed")) {
        jmh(
            plan,
            mixed,
            ReadWriteMutexBenchmark.class,
            method,
            method.startsWith("ringlock"),
            null,
            Map.of("readPercent", Integer.toString(readPercent)));
      }
    }
  }

  private void crossProcess(List<Step> plan, boolean smoke) {
    List<Integer> processCounts = smoke ? List.of(2) : List.of(2, 4);
    Duration warmup = mode.loopWarmup;
    Duration measure = mode.loopMeasure;
    double loopSeconds = (warmup.toMillis() + measure.toMillis()) / 1e3;
    for (int round = 1; round <= mode.rounds; round++) {
      String of = mode.rounds > 1 ? ", round " + round : "";
      for (int processes : processCounts) {
        Table loop =
            results.table(
                "xproc-loop-" + processes,
                processes + " processes contending on one lock (lock → increment → unlock)",
                "ns/op",
                false,
                "CrossProcessBench's loop in "
                    + processes
                    + " processes for "
                    + measure.toMillis()
                    + " ms after "
                    + warmup.toMillis()
                    + " ms of warm-up; ns per critical section of all processes together;"
                    + " the score is the median over rounds, the error half their spread. Acquire"
                    + " latency: every "
                    + Harness.LOOP_TIMED_EVERY
                    + "th acquisition of each process in the measured window, timed from just"
                    + " before lock() to holding the lock, kept in a uniform reservoir of "
                    + String.format("%,d", Harness.LOOP_SAMPLES_PER_PROCESS)
                    + " per process and merged in proportion to what each process timed;"
                    + " nearest-rank percentiles, median over rounds.");
        loop.latencyName = "acquire";
        loop.latencyUnit = "µs";
        if (harness.hasCAnchors()) {
          for (boolean robust : smoke ? List.of(true) : List.of(true, false)) {
            String label =
                robust ? "pthread mutex, shared + robust (C)" : "pthread mutex, shared (C)";
            loopStep(
                plan,
                loop,
                label + of,
                loopSeconds + 0.5,
                () ->
                    addLoop(loop, label, false, harness.cLoop(robust, processes, warmup, measure)));
          }
        }
        for (LoopVariant variant : LoopVariant.values()) {
          if (smoke && variant == LoopVariant.SPIN_CAS) {
            continue;
          }
          boolean ringlock = variant.isRinglock();
          String label = variant.label();
          loopStep(
              plan,
              loop,
              label + of,
              loopSeconds + 2,
              () ->
                  addLoop(
                      loop,
                      label,
                      ringlock,
                      harness.javaLoop(variant, processes, warmup, measure)));
        }
      }

      readMostly(plan, smoke, of);

      Table handoff =
          results.table(
              "xproc-handoff",
              "Handoff ping-pong between 2 processes (round trip)",
              "µs",
              false,
              "A two-word ping-pong: C futex syscalls (futex_pingpong.c) against each process's"
                  + " ring (PingPongChild); the score is the mean round trip (median over rounds)."
                  + " Rows marked (syscalls) run both processes on the futex-syscalls backend"
                  + " (-Dringlock.backend=syscalls): a wait sleeps in a futex_waitv thread, which"
                  + " hands the outcome to the completion thread; a wake is a futex(2) call on the"
                  + " caller's thread.");
      double handoffSeconds = (mode.handoffWarmup + mode.handoffRounds) * 60e-6 + 2;
      if (harness.hasCAnchors()) {
        latencyStep(
            plan,
            handoff,
            "futex syscalls (C)",
            false,
            of,
            handoffSeconds,
            () -> harness.cPingPong(mode.handoffWarmup, mode.handoffRounds));
      }
      List<Harness.Style[]> styles =
          smoke
              ? List.<Harness.Style[]>of(
                  new Harness.Style[] {Harness.Style.THREAD, Harness.Style.CONTINUATION})
              : List.of(
                  new Harness.Style[] {Harness.Style.THREAD, Harness.Style.THREAD},
                  new Harness.Style[] {Harness.Style.THREAD, Harness.Style.CONTINUATION},
                  new Harness.Style[] {Harness.Style.CONTINUATION, Harness.Style.CONTINUATION});
      // Each style on io_uring (where AUTO picks it) and then on the syscalls backend.
      for (Harness.Style[] pair : styles) {
        for (FutexRing.Backend backend :
            List.of(FutexRing.Backend.AUTO, FutexRing.Backend.SYSCALLS)) {
          String label =
              handoffLabel(pair[0], pair[1])
                  + (backend == FutexRing.Backend.SYSCALLS ? ON_SYSCALLS : "");
          latencyStep(
              plan,
              handoff,
              label,
              true,
              of,
              handoffSeconds,
              () ->
                  harness.ringPingPong(
                      pair[0], pair[1], backend, mode.handoffWarmup, mode.handoffRounds));
        }
      }

      Table lockHandoff =
          results.table(
              "xproc-lock-handoff",
              "Lock handoff between 2 processes, to a waiter asleep in lock()",
              "µs",
              false,
              "HandoffChild (mutex_handoff.c for pthread): the lock passes back and forth between"
                  + " two processes, each handover a millisecond after the waiter asked (so it"
                  + " sleeps in the lock); from just before the unlock to the waiter holding it."
                  + " A ringlock handover to a thread blocked in lock().join() wakes that thread"
                  + " only: it runs its process's kernel wait (futex_waitv), and the releaser's"
                  + " FUTEX_WAKE is a direct system call while its ring sleeps; the woken thread"
                  + " takes the word and grants its own future, as a pthread waiter is woken once"
                  + " by the releaser's syscall.");
      double lockHandoffSeconds = mode.lockHandoffWarmup * 0.2e-3 + mode.sleeperRounds * 1.3e-3 + 3;
      if (harness.hasCAnchors()) {
        latencyStep(
            plan,
            lockHandoff,
            "pthread mutex, shared + robust (C)",
            false,
            of,
            lockHandoffSeconds,
            () -> harness.cHandoff(mode.lockHandoffWarmup, mode.sleeperRounds));
      }
      for (LoopVariant variant : LoopVariant.values()) {
        boolean ringlock = variant.isRinglock();
        if (smoke && !ringlock) {
          continue;
        }
        String label = variant.label();
        latencyStep(
            plan,
            lockHandoff,
            label,
            ringlock,
            of,
            lockHandoffSeconds,
            () -> harness.javaHandoff(variant, mode.lockHandoffWarmup, mode.sleeperRounds));
      }

      Table each =
          results.table(
              "xproc-fanout-each",
              "Waking a waiter in each of 3 other processes: latency of each waiter",
              "µs",
              false,
              "One process wakes one waiter in each of 3 others, a millisecond after all slept:"
                  + " WaitQueue.wakeUpTo against a store and one FUTEX_WAKE of all on a shared word"
                  + " (a thread per process in futex_wait). From just before the wake to each"
                  + " waiter running. wakeUpTo from a plain thread sends its wakes in the ring's"
                  + " next submission (the waker's ring thread wakes first), and each waiter's"
                  + " ring thread then wakes to run its continuation: two wake-ups in a row where"
                  + " the futex waiter has one.");
      Table last =
          results.table(
              "xproc-fanout-last",
              "Waking a waiter in each of 3 other processes: until the last one runs",
              "µs",
              false,
              "As above; per round, the latency of the last of the 3 waiters to run.");
      double fanOutSeconds = mode.sleeperWarmup * 0.2e-3 + mode.sleeperRounds * 1.3e-3 + 3;
      for (Harness.FanOutPeer peer : Harness.FanOutPeer.values()) {
        boolean ringlock = peer == Harness.FanOutPeer.RINGLOCK_QUEUE;
        String label =
            ringlock ? "ringlock WaitQueue.wakeUpTo" : "futex_wait threads, one FUTEX_WAKE";
        harnessStep(
            plan,
            each.title.replace(": latency of each waiter", "") + ": " + label + of,
            fanOutSeconds,
            () -> {
              Harness.FanOutResult result =
                  harness.fanOut(peer, 3, mode.sleeperWarmup, mode.sleeperRounds);
              addLatency(each, label, ringlock, result.perWaiter());
              addLatency(last, label, ringlock, result.lastWaiter());
            });
      }
    }

    Table footprint =
        results.table(
            "footprint",
            "Heap per pending waiter",
            "bytes",
            false,
            "PendingWaitersFootprint: live heap after full GCs with every waiter of one WaitQueue"
                + " pending in the kernel, divided by the waiters (queue tables included).");
    harnessStep(
        plan,
        footprint.title + " (" + mode.footprintWaiters + " waiters)",
        mode.footprintWaiters * 1e-4 + 5,
        () -> {
          Harness.Footprint f = harness.footprint(mode.footprintWaiters);
          Row row = footprint.row("ringlock WaitQueue, " + f.waiters() + " waiters", true);
          row.figures.add(new Figure(f.bytesPerWaiter(), Double.NaN, Map.of()));
          footprint.notes.add(
              String.format(
                  "Java threads %d before, %d with every waiter pending; one wakeAll resumed all"
                      + " in %.1f ms.",
                  f.javaThreadsBefore(), f.javaThreadsPending(), f.wakeAllMillis()));
          harnessJson.add(Json.record("footprint", f));
        });

    Table takeover =
        results.table(
            "takeover",
            "Owner-death takeover (ms after SIGKILL of the holder, " + mode.kills + " kills)",
            "ms",
            false,
            "OwnerDeathTakeover: a waiter in another process holds the mutex (ownerDied) after"
                + " the holder's SIGKILL; the score is the p99 over the kills. The row marked"
                + " (syscalls) runs the waiter and its holders on the futex-syscalls backend,"
                + " where the exit watch is a poll(2) thread on the holder's pidfd.");
    takeover.scoreName = "p99";
    for (FutexRing.Backend backend : List.of(FutexRing.Backend.AUTO, FutexRing.Backend.SYSCALLS)) {
      String label = "ringlock Mutex" + (backend == FutexRing.Backend.SYSCALLS ? ON_SYSCALLS : "");
      harnessStep(
          plan,
          takeover.title + ": " + label,
          mode.kills * 0.6 + 4,
          () -> {
            Harness.Takeover t = harness.takeover(mode.kills, backend);
            Map<String, Double> percentiles = new LinkedHashMap<>();
            percentiles.put("p50", t.p50Ms());
            percentiles.put("p99", t.p99Ms());
            percentiles.put("max", t.maxMs());
            takeover.row(label, true).figures.add(new Figure(t.p99Ms(), Double.NaN, percentiles));
            takeover.notes.add(
                String.format(
                    "%s: the pidfd exit notification itself arrived at p50 %.2f / p99 %.2f ms"
                        + " (%d kills): the rest is ringlock's reaction.",
                    label, t.exitP50Ms(), t.exitP99Ms(), t.kills()));
            Map<String, Object> record = new LinkedHashMap<>();
            record.put("table", takeover.id);
            record.put("label", label);
            record.put("kills", t.kills());
            record.put("p50_ms", t.p50Ms());
            record.put("p99_ms", t.p99Ms());
            record.put("max_ms", t.maxMs());
            record.put("exit_p50_ms", t.exitP50Ms());
            record.put("exit_p99_ms", t.exitP99Ms());
            harnessJson.add(Json.object(record));
          });
    }
  }

  /**
   * One round of the 2-process read-mostly loop: process-shared pthread_rwlocks (C, glibc's default
   * kind and the writer-preferring one) against the ringlock ReadWriteMutex on each backend. The
   * smoke run keeps the default pthread_rwlock and ringlock on AUTO.
   */
  private void readMostly(List<Step> plan, boolean smoke, String of) {
    Duration warmup = mode.loopWarmup;
    // At least 1 s measured: a smoke run's 200 ms window came out empty in both processes once (a
    // queued operation waited past it, as the ≥ 240 ms waits in bench/README.md's read-write
    // section did; a missed wake rescued by the 250 ms re-check is not ruled out: under study)
    Duration measure =
        smoke && mode.loopMeasure.compareTo(Duration.ofSeconds(1)) < 0
            ? Duration.ofSeconds(1)
            : mode.loopMeasure;
    double seconds = (warmup.toMillis() + measure.toMillis()) / 1e3;
    Table table =
        results.table(
            XPROC_READ_MOSTLY,
            "2 processes on one read-write lock, " + READ_MOSTLY_PERCENT + " % reads",
            "ns/op",
            false,
            "Each of 2 processes loops for "
                + measure.toMillis()
                + " ms after "
                + warmup.toMillis()
                + " ms of warm-up, each operation a read with probability "
                + READ_MOSTLY_PERCENT
                + " % (the same xorshift draw in C and Java: load and compare a two-word record"
                + " under the read lock) or else a write (increment both words under the write"
                + " lock); ns per operation of one process (the measured time over the mean"
                + " operations per process), so lower is better; the score is the median over"
                + " rounds. No read may see the two words differ, and they must equal all"
                + " writes. pthread_rwlock (rwlock_loop.c, PTHREAD_PROCESS_SHARED in a shared"
                + " mapping): glibc's default kind lets new readers in while a writer waits; the"
                + " writers-preferred kind (PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP) stops"
                + " them, as ringlock's claim does. ringlock: ReadMostlyChild, read().join() and"
                + " write().join() in child JVMs.");
    if (harness.hasCAnchors()) {
      for (boolean preferWriter : smoke ? List.of(false) : List.of(false, true)) {
        String label = preferWriter ? PTHREAD_RWLOCK_WRITERS : PTHREAD_RWLOCK;
        harnessStep(
            plan,
            table.title + ": " + label + of,
            seconds + 0.5,
            () ->
                addReadMostly(
                    table,
                    label,
                    false,
                    harness.cReadMostly(preferWriter, 2, READ_MOSTLY_PERCENT, warmup, measure)));
      }
    }
    List<FutexRing.Backend> backends =
        smoke
            ? List.of(FutexRing.Backend.AUTO)
            : List.of(FutexRing.Backend.AUTO, FutexRing.Backend.SYSCALLS);
    for (FutexRing.Backend backend : backends) {
      String label = RINGLOCK_RW + (backend == FutexRing.Backend.SYSCALLS ? ON_SYSCALLS : "");
      harnessStep(
          plan,
          table.title + ": " + label + of,
          seconds + 2,
          () ->
              addReadMostly(
                  table,
                  label,
                  true,
                  harness.javaReadMostly(backend, 2, READ_MOSTLY_PERCENT, warmup, measure)));
    }
  }

  private void addReadMostly(
      Table table, String label, boolean ringlock, Harness.ReadMostlyResult result) {
    table.row(label, ringlock).figures.add(new Figure(result.nanosPerOp(), Double.NaN, Map.of()));
    System.out.printf(
        "  %s: %s %s per process (operations per process: %s)%n",
        label, Goal.format(result.nanosPerOp()), table.unit, result.measuredOps());
    Map<String, Object> record = new LinkedHashMap<>();
    record.put("table", table.id);
    record.put("label", label);
    record.put("ns_per_op", result.nanosPerOp());
    record.put("ops_per_s_per_process", result.opsPerSecondPerProcess());
    record.put("measured_ops_by_process", result.measuredOps());
    result
        .queued()
        .ifPresent(
            waits -> {
              record.put("queued_read_share", waits.queuedReadShare());
              record.put("queued_write_share", waits.queuedWriteShare());
              record.put("queued_mean_ns", waits.queuedMeanNanos());
              record.put("queued_max_ns", waits.queuedMaxNanos());
              record.put("queued_share_of_time", waits.queuedTotalNanos() / elapsedOf(result));
              table.notes.add(
                  String.format(
                      "%s: of the measured operations, %.3f %% of reads and %.1f %% of writes"
                          + " waited in the queue (not granted when read() or write() returned);"
                          + " they waited %.2f ms on average, %.1f ms at most, %.0f %% of the"
                          + " processes' measured time.",
                      label,
                      100 * waits.queuedReadShare(),
                      100 * waits.queuedWriteShare(),
                      waits.queuedMeanNanos() / 1e6,
                      waits.queuedMaxNanos() / 1e6,
                      100 * waits.queuedTotalNanos() / elapsedOf(result)));
            });
    harnessJson.add(Json.object(record));
  }

  /** The processes' measured time together, ns: per-process ns/op times all their operations. */
  private static double elapsedOf(Harness.ReadMostlyResult result) {
    return result.nanosPerOp() * result.measuredOps().stream().mapToLong(Long::longValue).sum();
  }

  private static String handoffLabel(Harness.Style initiator, Harness.Style responder) {
    if (initiator == responder) {
      return "ringlock ring, "
          + (initiator == Harness.Style.THREAD ? "threads" : "continuations")
          + " both sides";
    }
    return "ringlock ring, thread initiator, continuation responder";
  }

  // ---- JMH steps ----

  /** A JMH run in the plan; its label and profiler may be set after it is added. */
  private final class JmhRun {
    final Table table;
    final Class<?> benchmark;
    final String method;
    final boolean ringlock;
    final Mode benchmarkMode; // null: the benchmark's own
    final Map<String, String> params;
    String label;
    boolean gc;

    JmhRun(
        Table table,
        Class<?> benchmark,
        String method,
        boolean ringlock,
        Mode benchmarkMode,
        Map<String, String> params) {
      this.table = table;
      this.benchmark = benchmark;
      this.method = method;
      this.ringlock = ringlock;
      this.benchmarkMode = benchmarkMode;
      this.params = params;
      this.label = method;
    }

    void run() throws Exception {
      Path json = scratch.resolve("jmh-" + jmhJson.size() + ".json");
      ChainedOptionsBuilder options =
          new OptionsBuilder()
              .include("^" + Pattern.quote(benchmark.getName() + "." + method) + "$")
              .warmupIterations(mode.jmhWarmupIterations)
              .warmupTime(TimeValue.milliseconds(Math.max(1, mode.jmhWarmupTime.toMillis())))
              .measurementIterations(mode.jmhIterations)
              .measurementTime(TimeValue.milliseconds(mode.jmhIterationTime.toMillis()))
              .forks(mode.jmhForks)
              .shouldFailOnError(true)
              .verbosity(VerboseMode.SILENT)
              .result(json.toString())
              .resultFormat(ResultFormatType.JSON);
      if (benchmarkMode != null) {
        options.mode(benchmarkMode);
      }
      params.forEach(options::param);
      if (gc) {
        options.addProfiler(GCProfiler.class);
      }
      List<RunResult> runs = List.copyOf(new Runner(options.build()).run());
      if (runs.size() != 1) {
        throw new IllegalStateException(
            benchmark.getSimpleName()
                + "."
                + method
                + " "
                + params
                + " gave "
                + runs.size()
                + " results, expected 1");
      }
      jmhJson.add(Files.readString(json));
      RunResult run = runs.getFirst();
      Result<?> primary = run.getPrimaryResult();
      Map<String, Double> percentiles = new LinkedHashMap<>();
      if (run.getParams().getMode() == Mode.SampleTime) {
        for (double p : new double[] {50, 99, 99.9}) {
          percentiles.put(percentileName(p), primary.getStatistics().getPercentile(p));
        }
      }
      Row row = table.row(label, ringlock);
      row.figures.add(new Figure(primary.getScore(), primary.getScoreError(), percentiles));
      run.getSecondaryResults()
          .forEach(
              (key, secondary) -> {
                if (key.endsWith("gc.alloc.rate.norm")) {
                  row.extras.put("bytes allocated per op (-prof gc)", secondary.getScore());
                }
              });
      System.out.printf(
          "  %s: %s ± %s %s%n",
          label,
          Goal.format(primary.getScore()),
          Goal.format(primary.getScoreError()),
          primary.getScoreUnit());
    }
  }

  private JmhRun jmh(
      List<Step> plan,
      Table table,
      Class<?> benchmark,
      String method,
      boolean ringlock,
      Mode benchmarkMode,
      Map<String, String> params) {
    JmhRun run = new JmhRun(table, benchmark, method, ringlock, benchmarkMode, params);
    String paramText = params.isEmpty() ? "" : " " + params;
    plan.add(
        new Step(
            "JMH " + benchmark.getSimpleName() + "." + method + paramText,
            mode.jmhSeconds(),
            run::run));
    return run;
  }

  // ---- harness steps ----

  private void harnessStep(List<Step> plan, String title, double seconds, Action action) {
    plan.add(new Step(title, seconds, action));
  }

  @FunctionalInterface
  private interface LatencyMeasurement {
    RoundTripStats measure() throws Exception;
  }

  private void latencyStep(
      List<Step> plan,
      Table table,
      String label,
      boolean ringlock,
      String of,
      double seconds,
      LatencyMeasurement measurement) {
    harnessStep(
        plan,
        table.title + ": " + label + of,
        seconds,
        () -> addLatency(table, label, ringlock, measurement.measure()));
  }

  private void loopStep(List<Step> plan, Table loop, String what, double seconds, Action action) {
    harnessStep(plan, loop.title + ": " + what, seconds, action);
  }

  private void addLoop(Table table, String label, boolean ringlock, Harness.LoopResult loop) {
    double nanosPerSection = loop.nanosPerSection();
    RoundTripStats acquire = loop.acquireLatency();
    table
        .row(label, ringlock)
        .figures
        .add(new Figure(nanosPerSection, Double.NaN, microsPercentiles(acquire)));
    System.out.printf(
        "  %s: %s %s, acquire %s%n",
        label, Goal.format(nanosPerSection), table.unit, acquire.resultFields());
    Map<String, Object> record = new LinkedHashMap<>();
    record.put("table", table.id);
    record.put("label", label);
    record.put("ns_per_op", nanosPerSection);
    record.put("ops_per_s", 1e9 / nanosPerSection);
    record.put("acquire_mean_ns", acquire.meanNs());
    record.put("acquire_p50_ns", acquire.p50Ns());
    record.put("acquire_p99_ns", acquire.p99Ns());
    record.put("acquire_p999_ns", acquire.p999Ns());
    record.put("acquire_samples", loop.acquireSamples());
    harnessJson.add(Json.object(record));
  }

  /** p50, p99 and p99.9 in µs, as the tables show them. */
  private static Map<String, Double> microsPercentiles(RoundTripStats stats) {
    Map<String, Double> percentiles = new LinkedHashMap<>();
    percentiles.put("p50", stats.p50Ns() / 1e3);
    percentiles.put("p99", stats.p99Ns() / 1e3);
    percentiles.put("p99.9", stats.p999Ns() / 1e3);
    return percentiles;
  }

  private void addLatency(Table table, String label, boolean ringlock, RoundTripStats stats) {
    table
        .row(label, ringlock)
        .figures
        .add(new Figure(stats.meanNs() / 1e3, Double.NaN, microsPercentiles(stats)));
    System.out.printf("  %s: %s%n", label, stats.resultFields());
    Map<String, Object> record = new LinkedHashMap<>();
    record.put("table", table.id);
    record.put("label", label);
    record.put("mean_ns", stats.meanNs());
    record.put("p50_ns", stats.p50Ns());
    record.put("p99_ns", stats.p99Ns());
    record.put("p999_ns", stats.p999Ns());
    record.put("round_trips_per_s", 1e9 / stats.meanNs());
    harnessJson.add(Json.object(record));
  }

  static String percentileName(double p) {
    return p == Math.rint(p) ? "p" + (long) p : "p" + p;
  }

  private static void deleteTree(Path directory) throws IOException {
    try (var paths = Files.walk(directory)) {
      for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }
}
