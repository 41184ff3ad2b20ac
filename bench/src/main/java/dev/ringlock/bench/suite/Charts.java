package dev.ringlock.bench.suite;

import dev.ringlock.bench.suite.Results.Estimate;
import dev.ringlock.bench.suite.Results.Row;
import dev.ringlock.bench.suite.Results.Table;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries.CategorySeriesRenderStyle;
import org.knowm.xchart.style.Styler;

/**
 * The run's PNG charts, drawn with XChart: per table with peers, a bar chart of the ratios ringlock
 * / peer with their error bars; per table with latency percentiles, a line per row over mean, p50,
 * p99 and p99.9 on a logarithmic axis (only the percentiles where they measure something other than
 * the score, e.g. the contended loops' acquire latency beside their ns/op).
 */
final class Charts {
  private static final int WIDTH = 1000;
  private static final int HEIGHT = 560;

  private Charts() {}

  /** Writes the charts into {@code folder}; returns their file names by table id. */
  static Map<String, List<String>> write(Path folder, Results results) throws IOException {
    Map<String, List<String>> files = new LinkedHashMap<>();
    for (Table table : results.tables()) {
      List<String> names = new ArrayList<>();
      if (!table.ringlockRows().isEmpty() && !table.peerRows().isEmpty()) {
        names.add(save(folder, "ratios-" + table.id, ratioChart(table)));
      }
      if (table.hasLatency()) {
        names.add(save(folder, "latency-" + table.id, latencyChart(table)));
      }
      files.put(table.id, names);
    }
    return files;
  }

  private static CategoryChart ratioChart(Table table) {
    CategoryChart chart =
        new CategoryChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title(table.title)
            .xAxisTitle("peer")
            .yAxisTitle(
                "ringlock / peer ("
                    + table.unit
                    + (table.higherIsBetter ? ", higher is better)" : ", lower is better)"))
            .build();
    style(chart);
    List<String> peers = table.peerRows().stream().map(r -> r.label).toList();
    Map<String, List<Estimate>> series = new LinkedHashMap<>();
    double smallest = Double.MAX_VALUE;
    double largest = 0;
    for (Row ringlock : table.ringlockRows()) {
      List<Estimate> ratios =
          table.peerRows().stream().map(p -> Estimate.ratio(ringlock, p)).toList();
      series.put(ringlock.label, ratios);
      for (Estimate e : ratios) {
        smallest = Math.min(smallest, e.value());
        largest = Math.max(largest, e.value());
      }
    }
    // Ratios over orders of magnitude (0.02 and 50): a log axis, without error bars (XChart
    // 3.8.8 draws them wrongly on a log axis; the report's tables give the errors).
    boolean log = largest / smallest > 20;
    if (log) {
      chart.getStyler().setYAxisLogarithmic(true);
      chart.getStyler().setYAxisMin(Math.pow(10, Math.floor(Math.log10(smallest * 0.1)))); // bars
      chart.getStyler().setYAxisMax(Math.pow(10, Math.ceil(Math.log10(largest * 2))));
      chart.setYAxisTitle(yTitleLog(table));
    }
    series.forEach(
        (label, ratios) ->
            chart.addSeries(
                label,
                peers,
                ratios.stream().map(Estimate::value).toList(),
                ratios.stream()
                    .map(e -> log || !Double.isFinite(e.error()) ? 0.0 : e.error())
                    .toList()));
    return chart;
  }

  private static String yTitleLog(Table table) {
    return "ringlock / peer, log scale, errors in report.md ("
        + table.unit
        + (table.higherIsBetter ? ", higher is better)" : ", lower is better)");
  }

  private static CategoryChart latencyChart(Table table) {
    boolean separate = table.hasSeparateLatency();
    CategoryChart chart =
        new CategoryChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title(table.title + ": " + (separate ? table.latencyName + " latency" : "latency"))
            .xAxisTitle("statistic")
            .yAxisTitle((separate ? table.latencyUnit : table.unit) + " (log scale)")
            .build();
    style(chart);
    chart.getStyler().setDefaultSeriesRenderStyle(CategorySeriesRenderStyle.Line);
    chart.getStyler().setYAxisLogarithmic(true);
    for (Row row : table.rows.values()) {
      Map<String, Double> percentiles = row.percentiles();
      if (percentiles.isEmpty()) {
        continue;
      }
      List<String> x = new ArrayList<>();
      List<Double> y = new ArrayList<>();
      if (!separate && !percentiles.containsKey(table.scoreName)) { // not one of them already
        x.add(table.scoreName);
        y.add(row.score());
      }
      percentiles.forEach(
          (key, value) -> {
            if (Double.isFinite(value) && value > 0) {
              x.add(key);
              y.add(value);
            }
          });
      chart.addSeries(row.label, x, y);
    }
    return chart;
  }

  private static void style(CategoryChart chart) {
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
    chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
    chart.getStyler().setXAxisLabelRotation(15);
  }

  private static String save(Path folder, String name, CategoryChart chart) throws IOException {
    BitmapEncoder.saveBitmap(
        chart, folder.resolve(name).toString(), BitmapEncoder.BitmapFormat.PNG);
    return name + ".png";
  }
}
