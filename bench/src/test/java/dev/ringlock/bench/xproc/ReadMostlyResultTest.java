package dev.ringlock.bench.xproc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The read-mostly loop's figure, computed the same way for the Java children and the C anchor. */
class ReadMostlyResultTest {
  @Test
  void nanosPerOpIsTheMeasuredTimeOverTheMeanOperationsOfOneProcess() {
    // 1 s, 4 M and 6 M operations: one process made 5 M on average, so 200 ns each
    Harness.ReadMostlyResult result =
        Harness.ReadMostlyResult.of(1_000_000_000L, List.of(4_000_000L, 6_000_000L), null);
    assertEquals(200.0, result.nanosPerOp(), 1e-9);
    assertEquals(5_000_000.0, result.opsPerSecondPerProcess(), 1e-6);
    assertEquals(List.of(4_000_000L, 6_000_000L), result.measuredOps());
  }

  @Test
  void theCAnchorsResultLineGivesItsFigureAndEachWorkersOperations() {
    Harness.ReadMostlyResult result =
        Harness.ReadMostlyResult.parse(
            ResultLine.fields(
                "RESULT rwlock_loop default ns_per_op=88.25 ops=16275214 total_ops=21000000"
                    + " writes=1000 reads=20999000 counter=1000 torn=0 counter_ok=1"
                    + " per_process=8508767,7766447"));
    assertEquals(88.25, result.nanosPerOp(), 1e-9);
    assertEquals(List.of(8_508_767L, 7_766_447L), result.measuredOps());
    assertTrue(result.queued().isEmpty(), "C workers do not count queued operations");
  }

  @Test
  void aLoopThatMeasuredNothingIsRefused() {
    IllegalStateException refused =
        assertThrows(
            IllegalStateException.class,
            () -> Harness.ReadMostlyResult.of(1_000_000L, List.of(0L, 0L), null));
    assertTrue(refused.getMessage().contains("no operation was measured"), refused.getMessage());
  }

  @Test
  void queuedSharesAreOfTheReadsAndOfTheWritesSeparatelyAndTheMeanWaitOfAllQueued() {
    // 1000 operations: 50 writes of which 10 queued, 950 reads of which 19 queued
    // that waited 29 ms in all
    Harness.Waits waits = new Harness.Waits(1000, 50, 19, 10, 29_000_000, 5_000_000);
    assertEquals(0.02, waits.queuedReadShare(), 1e-12);
    assertEquals(0.2, waits.queuedWriteShare(), 1e-12);
    assertEquals(1_000_000.0, waits.queuedMeanNanos(), 1e-6);
    Harness.Waits none = new Harness.Waits(10, 0, 0, 0, 0, 0);
    assertEquals(0.0, none.queuedWriteShare());
    assertEquals(0.0, none.queuedMeanNanos());
  }
}
