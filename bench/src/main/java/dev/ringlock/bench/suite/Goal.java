package dev.ringlock.bench.suite;

import dev.ringlock.bench.suite.Results.Estimate;
import dev.ringlock.bench.suite.Results.Row;
import java.util.Optional;

/**
 * One of the project's performance goals: a ratio of two rows (or one row's score) against a bound.
 *
 * @param numerator table id and row label
 * @param denominator table id and row label, or null when the goal bounds the numerator itself
 * @param strict the bound itself fails ({@code <} rather than {@code <=})
 * @param whenFailed what the report says when the goal fails: the known reasons
 */
record Goal(
    String text,
    String[] numerator,
    String[] denominator,
    boolean atLeast,
    double bound,
    boolean strict,
    String unit,
    String whenFailed) {

  /** The goal's outcome in one run. */
  record Outcome(Goal goal, Optional<Estimate> estimate) {
    boolean measured() {
      return estimate.isPresent();
    }

    boolean passed() {
      double value = estimate.orElseThrow().value();
      if (goal.atLeast) {
        return goal.strict ? value > goal.bound : value >= goal.bound;
      }
      return goal.strict ? value < goal.bound : value <= goal.bound;
    }

    /** Whether the bound lies outside value ± error (so the error cannot flip the verdict). */
    boolean clearOfError() {
      Estimate e = estimate.orElseThrow();
      return Math.abs(e.value() - goal.bound) > e.error();
    }

    String verdict() {
      return measured() ? (passed() ? "PASS" : "FAIL") : "not measured";
    }
  }

  Outcome evaluate(Results results) {
    Optional<Row> top = results.find(numerator[0], numerator[1]);
    if (denominator == null) {
      return new Outcome(this, top.map(r -> new Estimate(r.score(), r.error())));
    }
    Optional<Row> bottom = results.find(denominator[0], denominator[1]);
    return new Outcome(
        this,
        top.isPresent() && bottom.isPresent()
            ? Optional.of(Estimate.ratio(top.get(), bottom.get()))
            : Optional.empty());
  }

  String boundText() {
    return (atLeast ? (strict ? "> " : "≥ ") : (strict ? "< " : "≤ ")) + format(bound) + unit;
  }

  static String format(double value) {
    if (!Double.isFinite(value)) {
      return "–";
    }
    double magnitude = Math.abs(value);
    if (magnitude >= 100) {
      return String.format("%,.0f", value);
    }
    if (magnitude >= 10) {
      return String.format("%.1f", value);
    }
    if (magnitude >= 0.1) {
      return String.format("%.2f", value);
    }
    return String.format("%.3g", value);
  }
}
