package dev.ringlock.bench.xproc;

import dev.ringlock.bench.BenchFiles;
import dev.ringlock.bench.PendingWaitersFootprint;
import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexRing;
import dev.ringlock.locks.SharedRegion;
import dev.ringlock.locks.WaitQueue;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.LongStream;

/*
 * Overview
 *
 * The cross-process measurements, one call each, for CrossProcessBench and the benchmark suite.
 * Every call starts its own processes (child JVMs of this JVM's java and class path, or the C
 * anchors compiled at open) on fresh files in the directory given at open, and deletes the files
 * when done. A child that misbehaves fails the call with its name and what was expected; a child
 * still running when a call ends is killed.
 *
 *   contended loop  N processes loop lock -> increment a plain shared counter -> unlock; the
 *                   driver steers WAITING -> WARMUP -> MEASURE -> STOP and divides the MEASURE
 *                   wall time by the sections all processes counted in it; the counter must come
 *                   out exact. Each process also times every 64th acquisition in MEASURE into a
 *                   uniform reservoir; the driver merges them in proportion to what each process
 *                   timed (LatencyReservoir). C pthread mutexes (mutex_loop.c), or a LoopVariant
 *                   in LoopChild.
 *   read-mostly     N processes loop over one read-write lock, each operation a read with a
 *                   given probability (load and compare a two-word record) or a write (increment
 *                   both words); ns per operation of one process. A process-shared
 *                   pthread_rwlock (rwlock_loop.c) or a ringlock ReadWriteMutex (ReadMostlyChild);
 *                   no read may see the words differ and the record must equal all writes.
 *   handoff         a two-word ping-pong between two processes: futex syscalls in C
 *                   (futex_pingpong.c) or through each process's ring (PingPongChild).
 *   fan-out         this process wakes the waiters of N other processes at once (FanOutWaiter):
 *                   a ringlock WaitQueue's wakeUpTo, or a store and one FUTEX_WAKE of all on a
 *                   shared word; latency from just before the wake to each waiter running.
 *   footprint       PendingWaitersFootprint in a child JVM with a 1 GiB heap.
 *   takeover        OwnerDeathTakeover in a child JVM.
 */
/** The cross-process measurements; {@link #open} compiles the C anchors when gcc is there. */
public final class Harness {
  private static final Duration START_PATIENCE = Duration.ofSeconds(60);
  private static final Duration LONG_PATIENCE = Duration.ofMinutes(10);
  private static final long FAN_OUT_ROUND_GAP_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

  private final Path directory;
  private final Optional<CAnchors> c;
  private final String filePrefix = "ringlock-xproc-" + ProcessHandle.current().pid() + "-";
  private int files; // numbers the files of each call

  private Harness(Path directory, Optional<CAnchors> c) {
    this.directory = directory;
    this.c = c;
  }

  /**
   * Prepares measurements on files in {@code directory} (/dev/shm is best: no disk).
   *
   * @throws IllegalArgumentException if {@code directory} is not a directory
   * @throws IllegalStateException if gcc is there but rejects a C anchor
   */
  public static Harness open(Path directory) throws IOException, InterruptedException {
    if (!Files.isDirectory(directory)) {
      throw new IllegalArgumentException(
          directory + " is not a directory; give an existing one, /dev/shm is best");
    }
    return new Harness(directory, CAnchors.compile(targetDirectory().resolve("c")));
  }

  /** Whether the C anchors were compiled (gcc on PATH); without them the C calls throw. */
  public boolean hasCAnchors() {
    return c.isPresent();
  }

  /** Where the C anchors were compiled: bench/target/c, found from this class's location. */
  public static Path cDirectory() throws IOException {
    return targetDirectory().resolve("c");
  }

  // ---- contended loop ----

  /** A contended loop times every this many-th acquisition of each process in MEASURE. */
  public static final int LOOP_TIMED_EVERY = LatencyReservoir.SAMPLE_EVERY;

  /** A contended loop keeps at most this many acquire latencies per process. */
  public static final int LOOP_SAMPLES_PER_PROCESS = LatencyReservoir.CAPACITY;

  /**
   * What a contended loop measured: the throughput figure, and the acquire latency (from just
   * before lock() to holding the lock) of a uniform sample of {@code acquireSamples} of the MEASURE
   * phase's acquisitions.
   */
  public record LoopResult(
      double nanosPerSection, RoundTripStats acquireLatency, int acquireSamples) {
    static LoopResult of(double nanosPerSection, List<LatencyReservoir.Sample> samples) {
      long[] merged = LatencyReservoir.merge(samples);
      return new LoopResult(nanosPerSection, RoundTripStats.of(merged), merged.length);
    }
  }

  /**
   * The contended loop on a process-shared pthread mutex, robust or plain, in {@code processes}
   * forked C workers.
   */
  public LoopResult cLoop(boolean robust, int processes, Duration warmup, Duration measure)
      throws InterruptedException {
    return requireC()
        .mutexLoop(robust ? "robust" : "plain", file("mutex", "shm"), processes, warmup, measure);
  }

  /** The contended loop of {@code variant} in {@code processes} child JVMs. */
  public LoopResult javaLoop(LoopVariant variant, int processes, Duration warmup, Duration measure)
      throws Exception {
    Path controlPath = file(variant.name(), "ctl");
    Path regionPath = file(variant.name(), "region");
    List<ChildProcess> children = new ArrayList<>();
    try (ControlFile control = ControlFile.create(controlPath)) {
      List<String> args = List.of(variant.name(), controlPath.toString(), regionPath.toString());
      for (int i = 1; i <= processes; i++) {
        children.add(ChildProcess.startJava(variant + "#" + i, LoopChild.class, args));
      }
      long elapsed = steerPhases(control, children, warmup, measure);

      long total = 0;
      long measured = 0;
      List<LatencyReservoir.Sample> latencies = new ArrayList<>();
      for (ChildProcess child : children) {
        Map<String, String> result =
            ResultLine.fields(child.awaitLine(ResultLine.PREFIX, START_PATIENCE));
        total += Long.parseLong(ResultLine.field(result, "total_ops"));
        measured += Long.parseLong(ResultLine.field(result, "measured_ops"));
        latencies.addAll(LatencyReservoir.parse(result));
      }
      for (ChildProcess child : children) {
        child.awaitSuccess(START_PATIENCE);
      }
      if (control.counter() != total) {
        throw new IllegalStateException(
            variant.label
                + ": the counter is "
                + control.counter()
                + " after "
                + total
                + " critical sections: the lock did not exclude");
      }
      if (measured == 0) {
        throw new IllegalStateException(variant.label + ": no critical section was measured");
      }
      return LoopResult.of((double) elapsed / measured, latencies);
    } finally {
      children.forEach(ChildProcess::close);
      Files.deleteIfExists(controlPath);
      Files.deleteIfExists(regionPath);
    }
  }

  /**
   * Waits for every child's READY, then steers WARMUP -> MEASURE -> STOP.
   *
   * @return the MEASURE phase's wall time, ns
   */
  private static long steerPhases(
      ControlFile control, List<ChildProcess> children, Duration warmup, Duration measure)
      throws InterruptedException {
    for (ChildProcess child : children) {
      child.awaitLine("READY", START_PATIENCE);
    }
    control.publishPhase(ControlFile.WARMUP);
    Thread.sleep(warmup);
    long start = System.nanoTime();
    control.publishPhase(ControlFile.MEASURE);
    Thread.sleep(measure);
    control.publishPhase(ControlFile.STOP);
    return System.nanoTime() - start;
  }

  // ---- read-mostly loop ----

  /**
   * What a read-mostly loop measured: ns per operation of one process (the MEASURE wall time over
   * the mean operations per process: readers run side by side, so this is what one process sees),
   * and each process's operations in MEASURE.
   */
  public record ReadMostlyResult(double nanosPerOp, List<Long> measuredOps, Waits waits) {
    static ReadMostlyResult of(long elapsedNanos, List<Long> measuredOps, Waits waits) {
      long all = measuredOps.stream().mapToLong(Long::longValue).sum();
      if (all == 0) {
        throw new IllegalStateException("no operation was measured: " + measuredOps);
      }
      return new ReadMostlyResult(
          (double) elapsedNanos * measuredOps.size() / all, List.copyOf(measuredOps), waits);
    }

    /** From rwlock_loop's RESULT fields: {@code ns_per_op} and {@code per_process=O1,O2,...}. */
    static ReadMostlyResult parse(Map<String, String> fields) {
      List<Long> perProcess =
          Arrays.stream(ResultLine.field(fields, "per_process").split(","))
              .map(Long::valueOf)
              .toList();
      return new ReadMostlyResult(
          Double.parseDouble(ResultLine.field(fields, "ns_per_op")), perProcess, null);
    }

    /** How many measured operations waited in the queue (ringlock only; null for C). */
    public Optional<Waits> queued() {
      return Optional.ofNullable(waits);
    }

    /** Operations per second of one process, on average. */
    public double opsPerSecondPerProcess() {
      return 1e9 / nanosPerOp;
    }
  }

  /**
   * Of the measured operations of all processes: the writes, the reads and writes that were not
   * granted at once (their future was not complete when read() or write() returned), and the total
   * and the longest of those waits (from that return to the grant).
   */
  public record Waits(
      long measuredOps,
      long writes,
      long queuedReads,
      long queuedWrites,
      long queuedTotalNanos,
      long queuedMaxNanos) {
    /** The mean wait of a queued operation, ns (0 if none queued). */
    public double queuedMeanNanos() {
      long queued = queuedReads + queuedWrites;
      return queued == 0 ? 0 : (double) queuedTotalNanos / queued;
    }

    /** The share of measured reads that waited. */
    public double queuedReadShare() {
      long reads = measuredOps - writes;
      return reads == 0 ? 0 : (double) queuedReads / reads;
    }

    /** The share of measured writes that waited. */
    public double queuedWriteShare() {
      return writes == 0 ? 0 : (double) queuedWrites / writes;
    }
  }

  /**
   * The read-mostly loop (rwlock_loop.c) on a process-shared pthread_rwlock in {@code processes}
   * forked C workers: glibc's default kind (readers preferred), or writer-preferring.
   */
  public ReadMostlyResult cReadMostly(
      boolean preferWriter, int processes, int readPercent, Duration warmup, Duration measure)
      throws InterruptedException {
    return requireC()
        .rwlockLoop(
            preferWriter ? "prefer-writer" : "default",
            file("rwlock", "shm"),
            processes,
            readPercent,
            warmup,
            measure);
  }

  /**
   * The same loop on a ringlock ReadWriteMutex (ReadMostlyChild) in {@code processes} child JVMs,
   * each on {@code backend} (AUTO: the child's default ring).
   *
   * @throws IllegalStateException if a read saw a writer inside or the record is not exact
   */
  public ReadMostlyResult javaReadMostly(
      FutexRing.Backend backend, int processes, int readPercent, Duration warmup, Duration measure)
      throws Exception {
    Path controlPath = file("read-mostly-" + backend.name(), "ctl");
    Path regionPath = file("read-mostly-" + backend.name(), "region");
    List<ChildProcess> children = new ArrayList<>();
    try (ControlFile control = ControlFile.create(controlPath)) {
      List<String> args =
          List.of(
              backend.name(),
              controlPath.toString(),
              regionPath.toString(),
              Integer.toString(readPercent));
      for (int i = 1; i <= processes; i++) {
        children.add(ChildProcess.startJava("read-mostly#" + i, ReadMostlyChild.class, args));
      }
      long elapsed = steerPhases(control, children, warmup, measure);

      long writes = 0;
      long torn = 0;
      long measuredWrites = 0;
      long queuedReads = 0;
      long queuedWrites = 0;
      long queuedTotal = 0;
      long queuedMax = 0;
      List<Long> measured = new ArrayList<>();
      for (ChildProcess child : children) {
        Map<String, String> result =
            ResultLine.fields(child.awaitLine(ResultLine.PREFIX, START_PATIENCE));
        writes += Long.parseLong(ResultLine.field(result, "writes"));
        torn += Long.parseLong(ResultLine.field(result, "torn"));
        measured.add(Long.parseLong(ResultLine.field(result, "measured_ops")));
        measuredWrites += Long.parseLong(ResultLine.field(result, "measured_writes"));
        queuedReads += Long.parseLong(ResultLine.field(result, "queued_reads"));
        queuedWrites += Long.parseLong(ResultLine.field(result, "queued_writes"));
        queuedTotal += Long.parseLong(ResultLine.field(result, "queued_total_ns"));
        queuedMax = Math.max(queuedMax, Long.parseLong(ResultLine.field(result, "queued_max_ns")));
      }
      for (ChildProcess child : children) {
        child.awaitSuccess(START_PATIENCE);
      }
      if (torn != 0 || control.counter() != writes || control.recordTorn()) {
        throw new IllegalStateException(
            "ringlock ReadWriteMutex: "
                + torn
                + " reads saw a writer inside, the record is "
                + control.counter()
                + " after "
                + writes
                + " writes: the lock did not exclude");
      }
      return ReadMostlyResult.of(
          elapsed,
          measured,
          new Waits(
              measured.stream().mapToLong(Long::longValue).sum(),
              measuredWrites,
              queuedReads,
              queuedWrites,
              queuedTotal,
              queuedMax));
    } finally {
      children.forEach(ChildProcess::close);
      Files.deleteIfExists(controlPath);
      Files.deleteIfExists(regionPath);
    }
  }

  // ---- handoff ----

  /** The handoff ping-pong with raw futex syscalls, in C. */
  public RoundTripStats cPingPong(int warmup, int rounds) throws InterruptedException {
    return requireC().futexPingPong(file("futex", "shm"), warmup, rounds);
  }

  /** How one side of a ring ping-pong waits: see PingPongChild. */
  public enum Style {
    /** The main thread sleeps in {@code ring.wait(..).join()}. */
    THREAD,
    /** No thread sleeps: the wait's continuation on the completion thread does the next step. */
    CONTINUATION;

    String argument() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * The handoff ping-pong through each process's default ring, on {@code backend} in both processes
   * (AUTO: what the child JVMs choose, or this JVM's -Dringlock.backend, which they inherit).
   */
  public RoundTripStats ringPingPong(
      Style initiator, Style responder, FutexRing.Backend backend, int warmup, int rounds)
      throws Exception {
    Path controlPath = file("handoff", "ctl");
    String control = controlPath.toString();
    List<String> jvmOptions = backendOptions(backend);
    try (ControlFile words = ControlFile.create(controlPath);
        ChildProcess responderChild =
            ChildProcess.startJava(
                "responder-" + responder.argument(),
                jvmOptions,
                PingPongChild.class,
                List.of("responder", responder.argument(), control));
        ChildProcess initiatorChild =
            ChildProcess.startJava(
                "initiator-" + initiator.argument(),
                jvmOptions,
                PingPongChild.class,
                List.of(
                    "initiator",
                    initiator.argument(),
                    control,
                    Integer.toString(warmup),
                    Integer.toString(rounds)))) {
      responderChild.awaitLine("READY", START_PATIENCE);
      initiatorChild.awaitLine("READY", START_PATIENCE);
      words.publishPhase(ControlFile.MEASURE);
      String result = initiatorChild.awaitLine(ResultLine.PREFIX, LONG_PATIENCE);
      initiatorChild.awaitSuccess(START_PATIENCE);
      responderChild.awaitSuccess(START_PATIENCE);
      return RoundTripStats.parse(ResultLine.fields(result));
    } finally {
      Files.deleteIfExists(controlPath);
    }
  }

  // ---- lock handoff ----

  /**
   * The lock handoff ping-pong (HandoffChild) of {@code variant} between two child JVMs: {@code
   * warmup} + {@code handovers} handovers, each to a waiter asleep in lock() for a millisecond.
   *
   * @return the latency of the measured handovers, from just before the unlock to the waiter
   *     holding the lock
   */
  public RoundTripStats javaHandoff(LoopVariant variant, int warmup, int handovers)
      throws Exception {
    Path controlPath = file("lock-handoff-" + variant.name(), "ctl");
    Path regionPath = file("lock-handoff-" + variant.name(), "region");
    int total = warmup + handovers;
    List<ChildProcess> children = new ArrayList<>();
    try (ControlFile control = ControlFile.create(controlPath)) {
      for (int me = 1; me <= 2; me++) {
        children.add(
            ChildProcess.startJava(
                variant + "-handoff#" + me,
                HandoffChild.class,
                List.of(
                    variant.name(),
                    controlPath.toString(),
                    regionPath.toString(),
                    Integer.toString(me),
                    Integer.toString(warmup),
                    Integer.toString(total))));
        children.getLast().awaitLine("READY", START_PATIENCE); // process 1 holds it first
      }
      control.publishPhase(ControlFile.MEASURE);
      long[] all = new long[0];
      for (int me = 1; me <= 2; me++) {
        ChildProcess child = children.get(me - 1);
        long[] samples =
            ResultLine.samples(
                ResultLine.fields(child.awaitLine(ResultLine.PREFIX, LONG_PATIENCE)),
                HandoffChild.measuredTakes(me, warmup, total));
        child.awaitSuccess(START_PATIENCE);
        all = LongStream.concat(Arrays.stream(all), Arrays.stream(samples)).toArray();
      }
      return RoundTripStats.of(all);
    } finally {
      children.forEach(ChildProcess::close);
      Files.deleteIfExists(controlPath);
      Files.deleteIfExists(regionPath);
    }
  }

  /** The same handoff ping-pong on a process-shared robust pthread mutex, in C. */
  public RoundTripStats cHandoff(int warmup, int handovers) throws InterruptedException {
    return requireC().mutexHandoff(file("mutex-handoff", "shm"), warmup, warmup + handovers);
  }

  // ---- fan-out ----

  /** Who waits in a fan-out, and so how the driver wakes. */
  public enum FanOutPeer {
    /** A ringlock WaitQueue waiter per process, woken by one {@code wakeUpTo}. */
    RINGLOCK_QUEUE("queue"),
    /** A thread per process in futex_wait on one shared word, woken by one FUTEX_WAKE of all. */
    FUTEX_WAKE_ALL("futex");

    private final String argument;

    FanOutPeer(String argument) {
      this.argument = argument;
    }
  }

  /**
   * Per-waiter latencies (from just before the wake to the waiter running) and, per round, the
   * latency until the last waiter ran.
   */
  public record FanOutResult(RoundTripStats perWaiter, RoundTripStats lastWaiter) {}

  /**
   * This process wakes one waiter in each of {@code processes} other processes, {@code warmup} +
   * {@code rounds} times, each round a millisecond after every waiter armed its next wait (a tenth
   * of one in warm-up).
   */
  public FanOutResult fanOut(FanOutPeer peer, int processes, int warmup, int rounds)
      throws Exception {
    Path controlPath = file("fanout-" + peer.argument, "ctl");
    Path regionPath = file("fanout-" + peer.argument, "region");
    List<ChildProcess> children = new ArrayList<>();
    try (ControlFile control = ControlFile.create(controlPath);
        SharedRegion region =
            peer == FanOutPeer.RINGLOCK_QUEUE ? SharedRegion.open(regionPath) : null) {
      WaitQueue queue = region == null ? null : region.waitQueue(FanOutWaiter.QUEUE);
      List<String> args =
          List.of(
              peer.argument,
              controlPath.toString(),
              regionPath.toString(),
              Integer.toString(warmup),
              Integer.toString(rounds));
      for (int i = 1; i <= processes; i++) {
        children.add(ChildProcess.startJava("waiter-" + i, FanOutWaiter.class, args));
      }
      for (ChildProcess child : children) {
        child.awaitLine("READY", START_PATIENCE);
      }
      for (int round = 1; round <= warmup + rounds; round++) {
        awaitArmed(control, processes * round, round);
        // every waiter asleep in the kernel; warm-up rounds come faster, as in HandoffChild
        LockSupport.parkNanos(
            round <= warmup ? HandoffChild.WARMUP_GAP_NANOS : FAN_OUT_ROUND_GAP_NANOS);
        control.setStamp(System.nanoTime());
        if (queue != null) {
          int woken = queue.wakeUpTo(round);
          if (woken != processes) {
            throw new IllegalStateException(
                "round " + round + ": wakeUpTo woke " + woken + " of " + processes + ": " + queue);
          }
        } else {
          control.setGeneration(round);
          Futex.wake(control.generationWord(), FutexRing.WAKE_ALL, FutexRing.ANY_BITSET);
        }
      }
      long[][] samples = new long[processes][];
      for (int i = 0; i < processes; i++) {
        String line = children.get(i).awaitLine(ResultLine.PREFIX, START_PATIENCE);
        samples[i] = ResultLine.samples(ResultLine.fields(line), rounds);
      }
      for (ChildProcess child : children) {
        child.awaitSuccess(START_PATIENCE);
      }
      long[] last = new long[rounds];
      for (int round = 0; round < rounds; round++) {
        for (long[] waiter : samples) {
          last[round] = Math.max(last[round], waiter[round]);
        }
      }
      return new FanOutResult(
          RoundTripStats.of(Arrays.stream(samples).flatMapToLong(Arrays::stream).toArray()),
          RoundTripStats.of(last));
    } finally {
      children.forEach(ChildProcess::close);
      Files.deleteIfExists(controlPath);
      Files.deleteIfExists(regionPath);
    }
  }

  private static void awaitArmed(ControlFile control, int armed, int round) {
    long deadline = System.nanoTime() + START_PATIENCE.toNanos();
    while (control.armed() < armed) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "fan-out round " + round + ": " + control.armed() + " of " + armed + " waits armed");
      }
      LockSupport.parkNanos(20_000);
    }
  }

  // ---- footprint and takeover ----

  /** What PendingWaitersFootprint measured. */
  public record Footprint(
      int waiters,
      double bytesPerWaiter,
      int javaThreadsBefore,
      int javaThreadsPending,
      double wakeAllMillis) {}

  /**
   * PendingWaitersFootprint with {@code waiters} pending waiters, in a child JVM; the region file
   * of a child that had to be killed is deleted.
   */
  public Footprint footprint(int waiters) throws InterruptedException, IOException {
    ChildProcess child =
        ChildProcess.startJava(
            "footprint",
            List.of("-Xmx1g"),
            PendingWaitersFootprint.class,
            List.of(Integer.toString(waiters)));
    Map<String, String> fields;
    try {
      fields = resultOf(child);
    } finally {
      BenchFiles.deleteLeftBy(child.pid());
    }
    return new Footprint(
        (int) number(fields, "waiters"),
        number(fields, "bytes_per_waiter"),
        (int) number(fields, "java_threads_before"),
        (int) number(fields, "java_threads_pending"),
        number(fields, "wake_all_ms"));
  }

  /** What OwnerDeathTakeover measured, in ms after the SIGKILL. */
  public record Takeover(
      int kills, double p50Ms, double p99Ms, double maxMs, double exitP50Ms, double exitP99Ms) {}

  /**
   * OwnerDeathTakeover with {@code kills} kills, in a child JVM on {@code backend} (and so its
   * holders, which inherit the property; AUTO: as in {@link #ringPingPong}).
   */
  public Takeover takeover(int kills, FutexRing.Backend backend) throws InterruptedException {
    Map<String, String> fields =
        resultOf(
            ChildProcess.startJava(
                "takeover",
                backendOptions(backend),
                OwnerDeathTakeover.class,
                List.of(Integer.toString(kills), directory.toString())));
    return new Takeover(
        (int) number(fields, "kills"),
        number(fields, "p50_ms"),
        number(fields, "p99_ms"),
        number(fields, "max_ms"),
        number(fields, "exit_p50_ms"),
        number(fields, "exit_p99_ms"));
  }

  /** The fields of the RESULT line of a one-shot child, once it has exited successfully. */
  private static Map<String, String> resultOf(ChildProcess started) throws InterruptedException {
    try (ChildProcess child = started) {
      Map<String, String> fields =
          ResultLine.fields(child.awaitLine(ResultLine.PREFIX, LONG_PATIENCE));
      child.awaitSuccess(START_PATIENCE);
      return fields;
    }
  }

  private static double number(Map<String, String> fields, String key) {
    return Double.parseDouble(ResultLine.field(fields, key));
  }

  // ---- files and environment ----

  /**
   * The JVM option that puts a child's default ring on {@code backend}; none for AUTO. It comes
   * after the inherited -Dringlock.backend on the command line, and the last -D of a name wins.
   */
  private static List<String> backendOptions(FutexRing.Backend backend) {
    return switch (backend) {
      case AUTO -> List.of();
      case IO_URING -> List.of("-D" + FutexRing.BACKEND_PROPERTY + "=io_uring");
      case SYSCALLS -> List.of("-D" + FutexRing.BACKEND_PROPERTY + "=syscalls");
    };
  }

  private CAnchors requireC() {
    return c.orElseThrow(
        () -> new IllegalStateException("the C anchors need gcc on PATH; check hasCAnchors()"));
  }

  private Path file(String what, String suffix) {
    return directory.resolve(filePrefix + what + "-" + ++files + "." + suffix);
  }

  /** bench/target, found from where this class was loaded (benchmarks.jar or classes/). */
  private static Path targetDirectory() throws IOException {
    try {
      return Path.of(Harness.class.getProtectionDomain().getCodeSource().getLocation().toURI())
          .getParent();
    } catch (java.net.URISyntaxException e) {
      throw new IOException("cannot tell where the benchmark classes are", e);
    }
  }
}
