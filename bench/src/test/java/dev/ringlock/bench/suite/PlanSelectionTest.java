package dev.ringlock.bench.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** --only REGEX: which steps of the plan run. */
class PlanSelectionTest {
  private static final List<String> TITLES =
      List.of(
          "JMH MutexUncontendedBenchmark.ringlockLock",
          "JMH ReadWriteMutexBenchmark.ringlockUncontendedRead",
          "2 processes on one read-write lock, 95 % reads: pthread_rwlock, shared (C), round 2",
          "Owner-death takeover (ms after SIGKILL of the holder, 10 kills): ringlock Mutex");

  @Test
  void withoutOnlyEveryStepRuns() {
    assertEquals(TITLES, BenchmarkSuite.selected(TITLES, null, Function.identity()));
  }

  @Test
  void onlyKeepsTheStepsWhoseTitleItFindsInPlanOrder() {
    assertEquals(
        List.of(TITLES.get(1), TITLES.get(2)),
        BenchmarkSuite.selected(
            TITLES,
            Pattern.compile("ReadWriteMutexBenchmark|read-write lock"),
            Function.identity()));
  }

  @Test
  void onlyThatMatchesNothingKeepsNothing() {
    assertEquals(
        List.of(),
        BenchmarkSuite.selected(TITLES, Pattern.compile("no such"), Function.identity()));
  }
}
