package dev.ringlock.bench.suite;

import java.time.Duration;

/**
 * How long the suite measures: {@link #FULL} for the committed report (about 30 minutes on 2
 * cores), {@link #QUICK} for a check that the numbers look sane (a few minutes), {@link #SMOKE} for
 * CI (under a minute: a few benchmarks, one short iteration each, only to show the suite starts and
 * writes its report).
 */
enum SuiteMode {
  SMOKE(0, 0, 1, 200, 1, 1, 100, 200, 200, 1_000, 10, 10, 40, 2_000, 2),
  QUICK(1, 500, 3, 500, 1, 1, 300, 700, 2_000, 5_000, 3_000, 3_000, 400, 10_000, 10),
  FULL(3, 1_000, 8, 1_000, 2, 3, 5_000, 2_000, 10_000, 20_000, 10_000, 30_000, 2_000, 100_000, 100);

  final int jmhWarmupIterations;
  final Duration jmhWarmupTime;
  final int jmhIterations;
  final Duration jmhIterationTime;
  final int jmhForks;
  final int rounds; // of every cross-process measurement, interleaved
  // each loop's warm-up: with 1 s, four JVMs on 2 vCPUs were still compiling ringlock's slow paths
  // (0.7-4.1 s of JIT per child) inside the measured window (bench/README.md, session 11)
  final Duration loopWarmup;
  final Duration loopMeasure;
  final int handoffWarmup;
  final int handoffRounds;
  // rounds that wake a sleeper a millisecond apart (warm-up ones 0.1 ms): fan-out, lock handoff
  final int sleeperWarmup;
  // the lock handoff's warm-up: each process gives and takes half of them, and at 10,000 the
  // release and the woken path were still being compiled by C2 during the measured handovers
  // (bench/README.md, session 11)
  final int lockHandoffWarmup;
  final int sleeperRounds;
  final int footprintWaiters;
  final int kills;

  SuiteMode(
      int jmhWarmupIterations,
      int jmhWarmupMillis,
      int jmhIterations,
      int jmhIterationMillis,
      int jmhForks,
      int rounds,
      int loopWarmupMillis,
      int loopMeasureMillis,
      int handoffWarmup,
      int handoffRounds,
      int sleeperWarmup,
      int lockHandoffWarmup,
      int sleeperRounds,
      int footprintWaiters,
      int kills) {
    this.jmhWarmupIterations = jmhWarmupIterations;
    this.jmhWarmupTime = Duration.ofMillis(jmhWarmupMillis);
    this.jmhIterations = jmhIterations;
    this.jmhIterationTime = Duration.ofMillis(jmhIterationMillis);
    this.jmhForks = jmhForks;
    this.rounds = rounds;
    this.loopWarmup = Duration.ofMillis(loopWarmupMillis);
    this.loopMeasure = Duration.ofMillis(loopMeasureMillis);
    this.handoffWarmup = handoffWarmup;
    this.handoffRounds = handoffRounds;
    this.sleeperWarmup = sleeperWarmup;
    this.lockHandoffWarmup = lockHandoffWarmup;
    this.sleeperRounds = sleeperRounds;
    this.footprintWaiters = footprintWaiters;
    this.kills = kills;
  }

  /** Seconds one JMH run (one benchmark method, one parameter set) is expected to take. */
  double jmhSeconds() {
    double perFork =
        jmhWarmupIterations * jmhWarmupTime.toMillis() / 1e3
            + jmhIterations * jmhIterationTime.toMillis() / 1e3
            + 2.0; // JVM start, setup and teardown
    return jmhForks * perFork;
  }

  String argument() {
    return "--" + name().toLowerCase(java.util.Locale.ROOT);
  }
}
