package dev.ringlock.bench.suite;

import java.time.Duration;

/**
 * "[i/N] step, elapsed, about T left": the time left is the estimate of the steps not yet run,
 * scaled by how long the finished steps took against their own estimates.
 */
final class Progress {
  private final double[] estimates;
  private final long start = System.nanoTime();
  private double estimatedDone;

  Progress(double[] estimates) {
    this.estimates = estimates.clone();
  }

  double totalEstimate() {
    double total = 0;
    for (double estimate : estimates) {
      total += estimate;
    }
    return total;
  }

  String before(int index, String title) {
    double remaining = 0;
    for (int i = index; i < estimates.length; i++) {
      remaining += estimates[i];
    }
    double elapsed = elapsedSeconds();
    double pace = estimatedDone > 0 ? Math.clamp(elapsed / estimatedDone, 0.25, 4.0) : 1.0;
    return String.format(
        "[%d/%d] %s  (elapsed %s, about %s left)",
        index + 1, estimates.length, title, format(elapsed), format(remaining * pace));
  }

  void after(int index) {
    estimatedDone += estimates[index];
  }

  String done() {
    return "all " + estimates.length + " steps done in " + format(elapsedSeconds());
  }

  private double elapsedSeconds() {
    return (System.nanoTime() - start) / 1e9;
  }

  static String format(double seconds) {
    Duration d = Duration.ofSeconds(Math.round(seconds));
    return d.toMinutes() > 0
        ? String.format("%dm%02ds", d.toMinutes(), d.toSecondsPart())
        : d.toSeconds() + "s";
  }
}
