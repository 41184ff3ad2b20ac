package dev.ringlock.bench.xproc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class LatencyReservoirTest {
  @Test
  void keepsEveryLatencyInOrderUntilItIsFull() {
    LatencyReservoir reservoir = new LatencyReservoir(1_000, 42);
    for (long latency = 1; latency <= 100; latency++) {
      reservoir.offer(latency);
    }
    LatencyReservoir.Sample sample = reservoir.sample();
    assertEquals(100, sample.timed());
    assertArrayEquals(java.util.stream.LongStream.rangeClosed(1, 100).toArray(), sample.kept());
  }

  @Test
  void keepsAUniformSampleOfAStreamFarLongerThanItsCapacity() {
    int capacity = 1_000;
    int offered = 200_000;
    LatencyReservoir reservoir = new LatencyReservoir(capacity, 7);
    for (long latency = 0; latency < offered; latency++) {
      reservoir.offer(latency); // the value is its position in the stream
    }
    LatencyReservoir.Sample sample = reservoir.sample();
    assertEquals(offered, sample.timed());
    assertEquals(capacity, sample.kept().length);
    assertEquals(capacity, Arrays.stream(sample.kept()).distinct().count(), "kept one twice");
    // Ten equal stretches of the stream should each hold about a tenth of the kept ones: chi
    // square with 9 degrees of freedom, 27.9 is p = 0.001. Keeping the first or the last ones,
    // or favouring either end, lands far above.
    int[] perTenth = new int[10];
    for (long position : sample.kept()) {
      perTenth[(int) (position * 10 / offered)]++;
    }
    double expected = capacity / 10.0;
    double chiSquare = 0;
    for (int count : perTenth) {
      chiSquare += (count - expected) * (count - expected) / expected;
    }
    assertTrue(chiSquare < 27.9, "not uniform over the stream: " + Arrays.toString(perTenth));
  }

  @Test
  void mergeWeighsEachProcessByWhatItTimedNotByWhatItKept() {
    long[] busy = new long[1_000];
    Arrays.fill(busy, 1);
    long[] starved = new long[1_000];
    Arrays.fill(starved, 2);
    long[] merged =
        LatencyReservoir.merge(
            List.of(
                new LatencyReservoir.Sample(100_000, busy), // kept 1 in 100
                new LatencyReservoir.Sample(1_000, starved))); // kept them all
    assertEquals(1_000, Arrays.stream(merged).filter(latency -> latency == 1).count());
    assertEquals(10, Arrays.stream(merged).filter(latency -> latency == 2).count());
  }

  @Test
  void mergeTakesEverySampleWhenNoReservoirOverflowed() {
    long[] merged =
        LatencyReservoir.merge(
            List.of(
                new LatencyReservoir.Sample(3, new long[] {5, 6, 7}),
                new LatencyReservoir.Sample(0, new long[0]),
                new LatencyReservoir.Sample(2, new long[] {8, 9})));
    Arrays.sort(merged);
    assertArrayEquals(new long[] {5, 6, 7, 8, 9}, merged);
  }

  @Test
  void mergeRefusesWhenNoProcessTimedAnything() {
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> LatencyReservoir.merge(List.of(new LatencyReservoir.Sample(0, new long[0]))));
    assertTrue(e.getMessage().contains("no process timed"), e.getMessage());
  }

  @Test
  void parsesOneSamplePerWorkerFromAResultLine() {
    List<LatencyReservoir.Sample> samples =
        LatencyReservoir.parse(
            ResultLine.fields(
                "RESULT mutex_loop robust ns_per_cs=40 timed=3,70000 kept=3,2 samples=1,2,3,40,50"));
    assertEquals(2, samples.size());
    assertEquals(3, samples.get(0).timed());
    assertArrayEquals(new long[] {1, 2, 3}, samples.get(0).kept());
    assertEquals(70_000, samples.get(1).timed());
    assertArrayEquals(new long[] {40, 50}, samples.get(1).kept());
  }

  @Test
  void aJavaChildsFieldsParseBackToItsSample() {
    LatencyReservoir reservoir = new LatencyReservoir(2, 1);
    for (long latency : new long[] {10, 20, 30}) {
      reservoir.offer(latency);
    }
    LatencyReservoir.Sample sample = reservoir.sample();
    List<LatencyReservoir.Sample> parsed =
        LatencyReservoir.parse(ResultLine.fields("RESULT loop " + sample.resultFields()));
    assertEquals(1, parsed.size());
    assertEquals(3, parsed.getFirst().timed());
    assertArrayEquals(sample.kept(), parsed.getFirst().kept());
  }

  @Test
  void aResultLineWhoseCountsDoNotAddUpIsRefused() {
    assertThrows(
        IllegalStateException.class,
        () -> LatencyReservoir.parse(ResultLine.fields("RESULT x timed=3,4 kept=3 samples=1,2,3")));
    assertThrows(
        IllegalStateException.class,
        () -> LatencyReservoir.parse(ResultLine.fields("RESULT x timed=3 kept=3 samples=1,2")));
    assertThrows(
        IllegalArgumentException.class,
        () -> LatencyReservoir.parse(ResultLine.fields("RESULT x timed=1 kept=2 samples=1,2")));
  }

  @Test
  void aCapacityBelowOneIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new LatencyReservoir(0, 1));
  }
}
