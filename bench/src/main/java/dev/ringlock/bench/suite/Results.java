package dev.ringlock.bench.suite;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/*
 * Overview
 *
 * What one run of the suite measured, by table and row. A table compares ringlock's rows with
 * the peers' rows in one unit; each row holds one figure per measurement (a JMH run gives one
 * figure with its own error; a harness variant gives one figure per round). A row's score is
 * the JMH score, or the median of the rounds; its error is JMH's 99.9 % confidence half-width,
 * or half the spread (max - min) of the rounds, or NaN when a single round says nothing about
 * it. Ratios are ringlock / peer, their error propagated from both relative errors.
 */
final class Results {
  /** One figure: a score, its error (NaN if unknown), and latency percentiles if any. */
  record Figure(double score, double error, Map<String, Double> percentiles) {}

  /** A row of a table. */
  static final class Row {
    final String label;
    final boolean ringlock;
    final List<Figure> figures = new ArrayList<>();
    final Map<String, Double> extras = new LinkedHashMap<>(); // e.g. "gc.alloc.rate.norm"

    Row(String label, boolean ringlock) {
      this.label = label;
      this.ringlock = ringlock;
    }

    double score() {
      return figures.size() == 1 ? figures.getFirst().score() : median(scores());
    }

    double error() {
      if (figures.size() == 1) {
        return figures.getFirst().error();
      }
      double[] scores = scores();
      return (Arrays.stream(scores).max().orElseThrow() - Arrays.stream(scores).min().orElseThrow())
          / 2;
    }

    /** The median of each percentile over the figures, in the first figure's order. */
    Map<String, Double> percentiles() {
      Map<String, Double> medians = new LinkedHashMap<>();
      if (figures.isEmpty()) {
        return medians;
      }
      for (String key : figures.getFirst().percentiles().keySet()) {
        medians.put(
            key,
            median(
                figures.stream()
                    .mapToDouble(f -> f.percentiles().getOrDefault(key, Double.NaN))
                    .toArray()));
      }
      return medians;
    }

    private double[] scores() {
      return figures.stream().mapToDouble(Figure::score).toArray();
    }
  }

  /** A table: rows in one unit, and whether higher is better in it. */
  static final class Table {
    final String id;
    final String title;
    final String unit;
    final boolean higherIsBetter;
    final String description;
    final Map<String, Row> rows = new LinkedHashMap<>();
    final List<String> notes = new ArrayList<>();
    String scoreName = "mean"; // what the score column is, in latency tables
    // Set where the percentiles are not the score's spread but another measure in their own
    // unit (the contended loops: ns/op, and the acquire latency in µs); null in latency tables.
    String latencyName;
    String latencyUnit;

    Table(String id, String title, String unit, boolean higherIsBetter, String description) {
      this.id = id;
      this.title = title;
      this.unit = unit;
      this.higherIsBetter = higherIsBetter;
      this.description = description;
    }

    Row row(String label, boolean ringlock) {
      return rows.computeIfAbsent(label, unused -> new Row(label, ringlock));
    }

    List<Row> ringlockRows() {
      return rows.values().stream().filter(r -> r.ringlock && !r.figures.isEmpty()).toList();
    }

    List<Row> peerRows() {
      return rows.values().stream().filter(r -> !r.ringlock && !r.figures.isEmpty()).toList();
    }

    boolean hasLatency() {
      return rows.values().stream().anyMatch(r -> !r.percentiles().isEmpty());
    }

    /** Whether the percentiles are a latency of their own beside the score (latencyName). */
    boolean hasSeparateLatency() {
      return latencyName != null;
    }

    /** The heading of percentile column {@code key}. */
    String percentileHeading(String key) {
      return hasSeparateLatency() ? latencyName + " " + key + " (" + latencyUnit + ")" : key;
    }
  }

  /** A value with its error. */
  record Estimate(double value, double error) {
    static Estimate ratio(Row numerator, Row denominator) {
      double value = numerator.score() / denominator.score();
      double relative =
          Math.hypot(
              numerator.error() / numerator.score(), denominator.error() / denominator.score());
      return new Estimate(value, value * relative);
    }
  }

  private final Map<String, Table> tables = new LinkedHashMap<>();

  Table table(String id, String title, String unit, boolean higherIsBetter, String description) {
    return tables.computeIfAbsent(
        id, unused -> new Table(id, title, unit, higherIsBetter, description));
  }

  /** The row {@code label} of a table, or its first row if {@code label} is null. */
  Optional<Row> find(String tableId, String label) {
    return Optional.ofNullable(tables.get(tableId))
        .flatMap(
            t ->
                label == null
                    ? t.rows.values().stream().findFirst()
                    : Optional.ofNullable(t.rows.get(label)))
        .filter(r -> !r.figures.isEmpty());
  }

  List<Table> tables() {
    return tables.values().stream().filter(t -> !t.rows.isEmpty()).toList();
  }

  static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int middle = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  }
}
