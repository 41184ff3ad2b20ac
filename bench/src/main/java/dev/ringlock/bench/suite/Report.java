package dev.ringlock.bench.suite;

import dev.ringlock.bench.suite.Results.Estimate;
import dev.ringlock.bench.suite.Results.Row;
import dev.ringlock.bench.suite.Results.Table;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** Writes report.md, results.json and the charts of one run. */
final class Report {
  private final SuiteMode mode;
  private final Results results;
  private final List<Goal.Outcome> outcomes;
  private final Environment before;
  private final Environment after;
  private final Duration duration;
  private final Map<String, String> failures;
  private final List<String> skipped;
  private final String date; // of the start
  private final Pattern only; // the run's --only, or null: every step ran

  Report(
      SuiteMode mode,
      Pattern only,
      Results results,
      List<Goal> goals,
      Environment before,
      Environment after,
      Instant start,
      Duration duration,
      Map<String, String> failures,
      List<String> skipped) {
    this.mode = mode;
    this.only = only;
    this.results = results;
    this.outcomes = goals.stream().map(g -> g.evaluate(results)).toList();
    this.before = before;
    this.after = after;
    this.date =
        start
            .atZone(java.time.ZoneId.systemDefault())
            .format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
    this.duration = duration;
    this.failures = failures;
    this.skipped = skipped;
  }

  void write(Path folder, List<String> jmhJson, List<String> harnessJson) throws IOException {
    Map<String, List<String>> charts = Charts.write(folder, results);
    Files.writeString(folder.resolve("report.md"), markdown(charts));
    Files.writeString(folder.resolve("results.json"), json(jmhJson, harnessJson));
  }

  void printGoals(PrintStream out) {
    for (Goal.Outcome outcome : outcomes) {
      out.printf(
          "  %-6s %-80s %s (goal %s)%n",
          outcome.verdict(), outcome.goal().text(), value(outcome), outcome.goal().boundText());
    }
  }

  private static String value(Goal.Outcome outcome) {
    return outcome.estimate().map(e -> estimate(e) + outcome.goal().unit()).orElse("–");
  }

  private static String estimate(Estimate e) {
    return Double.isFinite(e.error())
        ? Goal.format(e.value()) + " ± " + Goal.format(e.error())
        : Goal.format(e.value());
  }

  // ---- report.md ----

  private String markdown(Map<String, List<String>> charts) {
    StringBuilder md = new StringBuilder();
    md.append("# ringlock benchmark suite: ")
        .append(before.hostname())
        .append(", ")
        .append(date, 0, 10)
        .append("\n\n");
    md.append(
            "Command: `java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar"
                + " dev.ringlock.bench.suite.BenchmarkSuite ")
        .append(mode.argument())
        .append(only == null ? "" : " --only '" + only.pattern() + "'")
        .append("` (")
        .append(mode.name().toLowerCase(java.util.Locale.ROOT))
        .append(" mode: JMH ")
        .append(mode.jmhWarmupIterations)
        .append(" × ")
        .append(mode.jmhWarmupTime.toMillis())
        .append(" ms warm-up, ")
        .append(mode.jmhIterations)
        .append(" × ")
        .append(mode.jmhIterationTime.toMillis())
        .append(" ms measured, ")
        .append(mode.jmhForks)
        .append(mode.jmhForks == 1 ? " fork" : " forks")
        .append("; cross-process measurements ")
        .append(mode.rounds)
        .append(mode.rounds == 1 ? " round" : " rounds, interleaved")
        .append(").\n\n");
    md.append("Started ")
        .append(date)
        .append(", took ")
        .append(Progress.format(duration.toSeconds()))
        .append(". Machine: ")
        .append(before.cpus())
        .append(" CPUs, ")
        .append(before.memoryMiB() / 1024)
        .append(" GiB, Linux ")
        .append(before.kernel())
        .append(", ")
        .append(before.jdk())
        .append(". Load average ")
        .append(before.loadAverage())
        .append(" at the start, ")
        .append(after.loadAverage())
        .append(" at the end. Backend AUTO picked: ")
        .append(before.autoBackend())
        .append(" (the ringlock rows without \"(syscalls)\" ran on it).\n\n");
    md.append(
        "Errors: a JMH score's error is its 99.9 % confidence half-width; a cross-process"
            + " score is the median over rounds and its error half their spread (– with one"
            + " round). A ratio's error is propagated from both relative errors. Ratios are"
            + " ringlock / peer: for times (ns, µs, ms) below 1 means ringlock is faster, for"
            + " throughputs (/s) above 1 does. Compare ratios within one run only.\n\n");
    for (String line : skipped) {
      md.append("**Skipped:** ").append(line).append("\n\n");
    }
    if (!failures.isEmpty()) {
      md.append("## Failed steps\n\n");
      failures.forEach(
          (step, error) -> md.append("- ").append(step).append(": `").append(error).append("`\n"));
      md.append('\n');
    }

    md.append("## Goals\n\n| goal | measured | bound | verdict |\n|---|---|---|---|\n");
    for (Goal.Outcome outcome : outcomes) {
      String verdict = outcome.verdict();
      if (outcome.measured()
          && Double.isFinite(outcome.estimate().orElseThrow().error())
          && !outcome.clearOfError()) {
        verdict += " (within the error)";
      }
      md.append("| ")
          .append(outcome.goal().text())
          .append(" | ")
          .append(value(outcome))
          .append(" | ")
          .append(outcome.goal().boundText())
          .append(" | **")
          .append(verdict)
          .append("** |\n");
    }
    md.append('\n');
    List<Goal.Outcome> failed = outcomes.stream().filter(o -> o.measured() && !o.passed()).toList();
    if (!failed.isEmpty()) {
      md.append("### Why the failed goals fail\n\n");
      for (Goal.Outcome outcome : failed) {
        md.append("- **")
            .append(outcome.goal().text())
            .append("** (")
            .append(value(outcome))
            .append("): ")
            .append(outcome.goal().whenFailed())
            .append(evidence(outcome.goal()))
            .append('\n');
      }
      md.append('\n');
    }

    for (Table table : results.tables()) {
      md.append("## ").append(table.title).append("\n\n").append(table.description).append("\n\n");
      md.append(tableMarkdown(table)).append('\n');
      for (String note : table.notes) {
        md.append(note).append("\n\n");
      }
      for (String chart : charts.getOrDefault(table.id, List.of())) {
        md.append("![").append(chart).append("](").append(chart).append(")\n\n");
      }
    }
    return md.toString();
  }

  /** Measured evidence for a failed goal: allocation per operation, where JMH's gc gave it. */
  private String evidence(Goal goal) {
    StringBuilder text = new StringBuilder();
    for (String[] ref : new String[][] {goal.numerator(), goal.denominator()}) {
      if (ref == null) {
        continue;
      }
      results
          .find(ref[0], ref[1])
          .ifPresent(
              row ->
                  row.extras.forEach(
                      (key, value) ->
                          text.append(" Measured: ")
                              .append(row.label)
                              .append(" ")
                              .append(Goal.format(value))
                              .append(' ')
                              .append(key)
                              .append('.')));
    }
    return text.toString();
  }

  static String tableMarkdown(Table table) {
    List<Row> peers = table.peerRows();
    boolean latency = table.hasLatency();
    List<String> percentileKeys = new ArrayList<>();
    if (latency) {
      table.rows.values().stream()
          .filter(r -> !r.figures.isEmpty())
          .findFirst()
          .ifPresent(r -> percentileKeys.addAll(r.percentiles().keySet()));
    }
    boolean extras = table.rows.values().stream().anyMatch(r -> !r.extras.isEmpty());
    StringBuilder md =
        new StringBuilder("| | ")
            .append(table.unit)
            .append(latency && !table.hasSeparateLatency() ? " (" + table.scoreName + ")" : "");
    StringBuilder rule = new StringBuilder("|---|---");
    for (String key : percentileKeys) {
      md.append(" | ").append(table.percentileHeading(key));
      rule.append("|---");
    }
    if (extras) {
      md.append(" | B/op (gc)");
      rule.append("|---");
    }
    for (Row peer : peers) {
      md.append(" | ringlock / ").append(peer.label);
      rule.append("|---");
    }
    md.append(" |\n").append(rule).append("|\n");
    for (Row row : table.rows.values()) {
      if (row.figures.isEmpty()) {
        continue;
      }
      md.append("| ")
          .append(row.ringlock ? "**" + row.label + "**" : row.label)
          .append(" | ")
          .append(estimate(new Estimate(row.score(), row.error())));
      Map<String, Double> percentiles = row.percentiles();
      for (String key : percentileKeys) {
        md.append(" | ").append(Goal.format(percentiles.getOrDefault(key, Double.NaN)));
      }
      if (extras) {
        md.append(" | ")
            .append(row.extras.values().stream().findFirst().map(Goal::format).orElse("–"));
      }
      for (Row peer : peers) {
        md.append(" | ").append(row.ringlock ? estimate(Estimate.ratio(row, peer)) : "");
      }
      md.append(" |\n");
    }
    return md.toString();
  }

  // ---- results.json ----

  private String json(List<String> jmhJson, List<String> harnessJson) {
    Map<String, Object> suite = new LinkedHashMap<>();
    suite.put("date", date);
    suite.put("mode", mode.name().toLowerCase(java.util.Locale.ROOT));
    suite.put("duration_s", duration.toSeconds());
    suite.put("hostname", before.hostname());
    suite.put("kernel", before.kernel());
    suite.put("cpus", before.cpus());
    suite.put("memory_mib", before.memoryMiB());
    suite.put("jdk", before.jdk());
    suite.put("load_average_start", before.loadAverage());
    suite.put("load_average_end", after.loadAverage());
    suite.put("auto_backend", before.autoBackend());
    suite.put("skipped", skipped);
    suite.put("failures", failures);

    List<Object> tables = new ArrayList<>();
    for (Table table : results.tables()) {
      List<Object> rows = new ArrayList<>();
      for (Row row : table.rows.values()) {
        if (row.figures.isEmpty()) {
          continue;
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("label", row.label);
        r.put("ringlock", row.ringlock);
        r.put("score", row.score());
        r.put("error", row.error());
        r.put("figures", row.figures.stream().map(f -> f.score()).toList());
        r.put("percentiles", row.percentiles());
        r.put("extras", row.extras);
        if (row.ringlock) {
          Map<String, Object> ratios = new LinkedHashMap<>();
          for (Row peer : table.peerRows()) {
            Estimate e = Estimate.ratio(row, peer);
            ratios.put(peer.label, Map.of("value", e.value(), "error", e.error()));
          }
          r.put("ratios", ratios);
        }
        rows.add(r);
      }
      Map<String, Object> t = new LinkedHashMap<>();
      t.put("id", table.id);
      t.put("title", table.title);
      t.put("unit", table.unit);
      t.put("higher_is_better", table.higherIsBetter);
      if (table.hasSeparateLatency()) {
        t.put("percentiles_of", table.latencyName);
        t.put("percentile_unit", table.latencyUnit);
      }
      t.put("rows", rows);
      t.put("notes", table.notes);
      tables.add(t);
    }
    List<Object> goals = new ArrayList<>();
    for (Goal.Outcome outcome : outcomes) {
      Map<String, Object> g = new LinkedHashMap<>();
      g.put("goal", outcome.goal().text());
      g.put("bound", outcome.goal().boundText());
      g.put("value", outcome.estimate().map(Estimate::value).orElse(null));
      g.put("error", outcome.estimate().map(Estimate::error).orElse(null));
      g.put("verdict", outcome.verdict());
      goals.add(g);
    }
    Map<String, Object> all = new LinkedHashMap<>();
    all.put("suite", suite);
    all.put("goals", goals);
    all.put("tables", tables);
    all.put("harness", harnessJson.stream().map(dev.ringlock.bench.cli.Json.Raw::new).toList());
    all.put("jmh", new dev.ringlock.bench.cli.Json.Raw(Json.concatArrays(jmhJson)));
    return Json.object(all) + "\n";
  }
}
