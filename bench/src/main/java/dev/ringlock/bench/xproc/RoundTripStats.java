package dev.ringlock.bench.xproc;

import java.util.Arrays;
import java.util.Map;

/**
 * Round-trip statistics in nanoseconds, computed as futex_pingpong.c computes them (percentiles by
 * nearest rank), printed and parsed as {@code mean_ns= p50_ns= p99_ns= p999_ns=} fields.
 */
public record RoundTripStats(double meanNs, long p50Ns, long p99Ns, long p999Ns) {
  public static RoundTripStats of(long[] samples) {
    long[] sorted = samples.clone();
    Arrays.sort(sorted);
    double sum = 0;
    for (long sample : sorted) {
      sum += sample;
    }
    return new RoundTripStats(
        sum / sorted.length,
        percentile(sorted, 0.50),
        percentile(sorted, 0.99),
        percentile(sorted, 0.999));
  }

  /** The smallest sample with at least {@code fraction} of the samples at or below it. */
  private static long percentile(long[] sorted, double fraction) {
    int rank = (int) Math.ceil(fraction * sorted.length);
    return sorted[Math.max(rank, 1) - 1];
  }

  static RoundTripStats parse(Map<String, String> fields) {
    return new RoundTripStats(
        Double.parseDouble(ResultLine.field(fields, "mean_ns")),
        Long.parseLong(ResultLine.field(fields, "p50_ns")),
        Long.parseLong(ResultLine.field(fields, "p99_ns")),
        Long.parseLong(ResultLine.field(fields, "p999_ns")));
  }

  public String resultFields() {
    return String.format(
        "mean_ns=%.0f p50_ns=%d p99_ns=%d p999_ns=%d", meanNs, p50Ns, p99Ns, p999Ns);
  }
}
