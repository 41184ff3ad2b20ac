package dev.ringlock.bench.xproc;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/*
 * Overview
 *
 * The acquire latencies of a contended loop: a bounded, uniform sample per process, and the merge
 * of the processes' samples into one.
 *
 * A loop process times every SAMPLE_EVERY-th acquisition of its MEASURE phase (just before
 * lock() to holding the lock) and offers the time here. Timing every acquisition would cost two
 * clock reads per critical section and move the throughput figure; one in 64 costs well under a
 * nanosecond per section. The offered times go through Algorithm R (Vitter's reservoir): the
 * first CAPACITY are kept, and the t-th after them replaces a uniformly chosen slot with
 * probability CAPACITY / t, so whatever the length of the window, the kept ones are a uniform
 * sample of everything offered. The random numbers come from xorshift64 (13, 7, 17) seeded with
 * the pid, reduced to [0, t) by the high half of a 64 x 64-bit product (Lemire; its bias, at most
 * t / 2^64, is far below anything measured here). mutex_loop.c does exactly the same, step for
 * step, in its forked workers.
 *
 * Merging. Processes do not take the lock equally often (a barging lock lets one process take it
 * many times in a row while another waits), so the population is every timed acquisition of all
 * processes, and each process must weigh by how many it timed, not by how many it kept. The merge
 * takes from every process the same fraction of what it timed: the smallest kept / timed of all
 * (1 when no reservoir overflowed, and then everything is taken), each process's share drawn
 * without replacement from its kept samples (a partial Fisher-Yates shuffle, fixed seed, so a
 * merge is repeatable). The result is a uniform sample of all timed acquisitions; RoundTripStats
 * then gives the mean and the nearest-rank percentiles as for every other harness latency.
 *
 * On a RESULT line a process's sample travels as three fields: timed= (acquisitions offered),
 * kept= (samples kept) and samples= (the kept ones, comma-separated). mutex_loop.c, whose parent
 * reports for all its workers at once, gives one timed and one kept value per worker, comma-
 * separated, and the workers' samples one after the other.
 */
/** A uniform reservoir of acquire latencies in one process, and the merge over processes. */
final class LatencyReservoir {
  /** Samples kept per process, as in mutex_loop.c. */
  static final int CAPACITY = 20_000;

  /** Every how many-th acquisition of the MEASURE phase a loop times, as in mutex_loop.c. */
  static final int SAMPLE_EVERY = 64;

  private static final long MERGE_SEED = 0x5EED_0FAC_CE55L;

  private final long[] kept;
  private long timed; // offered so far
  private long random; // xorshift64 state, never 0

  /**
   * @param capacity how many samples to keep at most
   * @param seed seeds the replacement choices; any value (0 is mapped to a non-zero state)
   */
  LatencyReservoir(int capacity, long seed) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1, not " + capacity);
    }
    this.kept = new long[capacity];
    this.random = seed ^ 0x9E37_79B9_7F4A_7C15L; // the same mixing as mutex_loop.c
    if (random == 0) {
      random = 0x9E37_79B9_7F4A_7C15L;
    }
  }

  /** A reservoir of {@link #CAPACITY} seeded with this process's pid. */
  static LatencyReservoir forThisProcess() {
    return new LatencyReservoir(CAPACITY, ProcessHandle.current().pid());
  }

  /** Offers one latency (ns): Algorithm R. */
  void offer(long latency) {
    timed++;
    if (timed <= kept.length) {
      kept[(int) (timed - 1)] = latency;
      return;
    }
    long slot = Math.unsignedMultiplyHigh(nextRandom(), timed); // uniform in [0, timed)
    if (slot < kept.length) {
      kept[(int) slot] = latency;
    }
  }

  private long nextRandom() {
    long x = random;
    x ^= x << 13;
    x ^= x >>> 7;
    x ^= x << 17;
    random = x;
    return x;
  }

  /** What this reservoir holds now. */
  Sample sample() {
    return new Sample(timed, Arrays.copyOf(kept, (int) Math.min(timed, kept.length)));
  }

  /**
   * One process's sample.
   *
   * @param timed how many latencies the process offered
   * @param kept the ones it kept: all of them if {@code timed <= CAPACITY}, else a uniform sample
   */
  record Sample(long timed, long[] kept) {
    Sample {
      if (kept.length > timed) {
        throw new IllegalArgumentException(
            "a sample keeps " + kept.length + " latencies of only " + timed + " timed");
      }
    }

    /** {@code timed=T kept=K samples=a,b,...}: the fields of a RESULT line. */
    String resultFields() {
      return "timed=" + timed + " kept=" + kept.length + " samples=" + ResultLine.samples(kept, 0);
    }
  }

  /**
   * The samples on a RESULT line: one per process, one for a Java loop child, one per worker for
   * mutex_loop.c.
   *
   * @throws IllegalStateException if the fields are missing or do not add up
   */
  static List<Sample> parse(Map<String, String> fields) {
    long[] timed = numbers(ResultLine.field(fields, "timed"));
    long[] keptCounts = numbers(ResultLine.field(fields, "kept"));
    if (timed.length != keptCounts.length) {
      throw new IllegalStateException(
          "a result line gives " + timed.length + " timed= but " + keptCounts.length + " kept=");
    }
    if (Arrays.stream(keptCounts).anyMatch(count -> count < 0)) {
      throw new IllegalStateException(
          "a result line gives a negative kept=: " + fields.get("kept"));
    }
    long[] all = ResultLine.samples(fields, Math.toIntExact(Arrays.stream(keptCounts).sum()));
    List<Sample> samples = new ArrayList<>();
    int from = 0;
    for (int i = 0; i < timed.length; i++) {
      int to = from + (int) keptCounts[i];
      samples.add(new Sample(timed[i], Arrays.copyOfRange(all, from, to)));
      from = to;
    }
    return samples;
  }

  private static long[] numbers(String list) {
    return Arrays.stream(list.split(",")).mapToLong(Long::parseLong).toArray();
  }

  /**
   * A uniform sample of every latency the processes timed: the same fraction of each process's
   * timed acquisitions (see the overview).
   *
   * @throws IllegalStateException if no process timed anything
   */
  static long[] merge(List<Sample> samples) {
    double fraction = 1;
    for (Sample sample : samples) {
      if (sample.timed() > 0) {
        fraction = Math.min(fraction, (double) sample.kept().length / sample.timed());
      }
    }
    SplittableRandom random = new SplittableRandom(MERGE_SEED);
    long[] merged = new long[0];
    for (Sample sample : samples) {
      long[] kept = sample.kept().clone();
      int take = (int) Math.min(kept.length, Math.round(fraction * sample.timed()));
      for (int i = 0; i < take; i++) { // partial Fisher-Yates: kept[0..take) a uniform choice
        int j = i + random.nextInt(kept.length - i);
        long swap = kept[i];
        kept[i] = kept[j];
        kept[j] = swap;
      }
      int length = merged.length;
      merged = Arrays.copyOf(merged, length + take);
      System.arraycopy(kept, 0, merged, length, take);
    }
    if (merged.length == 0) {
      throw new IllegalStateException("no process timed an acquisition in the MEASURE phase");
    }
    return merged;
  }
}
