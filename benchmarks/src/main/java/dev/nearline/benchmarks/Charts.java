package dev.nearline.benchmarks;

import dev.nearline.benchmarks.Report.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * The charts of {@code benchmarks/run.sh}, drawn with XChart from the results {@link Report} reads, as PNG
 * files: {@code overhead.png} (latency percentiles per contender, one panel per model), {@code batching.png}
 * (records/s with micro-batching off and on), {@code scoreall.png} ({@code scoreAll} per record against single
 * calls and the hand-written floors) and {@code coldstart.png} (first score per configuration; where the time to
 * it goes). A chart whose results are missing is not drawn. Headless: needs no display.
 */
final class Charts {
    private static final int WIDTH = 640;
    private static final int HEIGHT = 420;
    private static final List<String> MODELS = List.of("tiny", "mlp");

    private Charts() {
    }

    /** Draws every chart the results allow into {@code dir}; returns the file names written, in order. */
    static List<String> write(Path dir, List<Result> results, List<Map<String, String>> cold,
                              List<Map<String, String>> phases) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Files.createDirectories(dir);
        List<String> written = new ArrayList<>();
        save(dir, "overhead.png", overhead(results), written);
        save(dir, "batching.png", batching(results), written);
        save(dir, "scoreall.png", scoreAll(results), written);
        List<CategoryChart> coldCharts = new ArrayList<>();
        CategoryChart firstScore = firstScore(cold);
        if (firstScore != null) {
            coldCharts.add(firstScore);
        }
        CategoryChart phaseChart = phases(phases);
        if (phaseChart != null) {
            coldCharts.add(phaseChart);
        }
        save(dir, "coldstart.png", coldCharts, written);
        return written;
    }

    private static void save(Path dir, String name, List<CategoryChart> panels, List<String> written) throws IOException {
        if (panels.isEmpty()) {
            return;
        }
        Path file = dir.resolve(name);
        BitmapEncoder.saveBitmap(panels, 1, panels.size(), file.toString(), BitmapEncoder.BitmapFormat.PNG);
        written.add(name);
    }

    /** OverheadBenchmark: p50, p90, p99 per contender, µs per record. */
    static List<CategoryChart> overhead(List<Result> rs) {
        List<CategoryChart> panels = new ArrayList<>();
        for (String model : MODELS) {
            List<String> contenders = new ArrayList<>();
            for (String c : List.of("rawOrtPinned", "rawOrt", "nearline", "nearlineObserved", "djl")) {
                if (Report.find(rs, model, c, "sample") != null) {
                    contenders.add(c);
                }
            }
            if (contenders.isEmpty()) {
                continue;
            }
            CategoryChart chart = chart(model + ": latency per record, one caller (OverheadBenchmark)", "µs");
            chart.getStyler().setXAxisLabelRotation(20);
            for (String[] pct : new String[][] {{"p50", "50.0"}, {"p90", "90.0"}, {"p99", "99.0"}}) {
                List<Double> v = new ArrayList<>();
                for (String c : contenders) {
                    v.add(orZero(Report.p(rs, model, c, pct[1])));
                }
                chart.addSeries(pct[0], contenders, v);
            }
            panels.add(chart);
        }
        return panels;
    }

    /** BatchingBenchmark: records/s with batching off and on, per way of calling. */
    static List<CategoryChart> batching(List<Result> rs) {
        List<CategoryChart> panels = new ArrayList<>();
        for (String model : MODELS) {
            List<String> what = new ArrayList<>();
            List<Double> off = new ArrayList<>();
            List<Double> on = new ArrayList<>();
            for (String[] row : Report.BATCHING_ROWS) {
                double a = Report.perSecond(rs, model, row[0], "off");
                double b = Report.perSecond(rs, model, row[0], "on");
                if (!Double.isNaN(a) && !Double.isNaN(b)) {
                    what.add(row[1].replace("`", ""));
                    off.add(a);
                    on.add(b);
                }
            }
            if (what.isEmpty()) {
                continue;
            }
            CategoryChart chart = chart(model + ": micro-batching off and on (BatchingBenchmark)", "records/s");
            chart.addSeries("batching off", what, off);
            chart.addSeries("batching on", what, on);
            panels.add(chart);
        }
        return panels;
    }

    /** BatchingBenchmark: ns per record of single calls, scoreAll(32) and the hand-written batch floors. */
    static List<CategoryChart> scoreAll(List<Result> rs) {
        List<CategoryChart> panels = new ArrayList<>();
        String[][] bars = {{"score1", "score"}, {"scoreAll32", "scoreAll(32)"},
            {"rawOrtBatch32", "raw ORT batch,\nnew tensors"}, {"rawOrtPinnedBatch32", "raw ORT batch,\nreused (floor)"}};
        for (String model : MODELS) {
            List<String> names = new ArrayList<>();
            List<Double> v = new ArrayList<>();
            for (String[] b : bars) {
                double ns = Report.nanosPerRecord(rs, model, b[0]);
                if (!Double.isNaN(ns)) {
                    names.add(b[1].replace("\n", " "));
                    v.add(ns);
                }
            }
            if (names.size() < 2) {
                continue;
            }
            CategoryChart chart = chart(model + ": time per record, batches of 32 (BatchingBenchmark)", "ns per record");
            chart.getStyler().setLabelsVisible(true);
            chart.getStyler().setDecimalPattern("#,##0");
            chart.getStyler().setXAxisLabelRotation(20);
            chart.getStyler().setLegendVisible(false);
            chart.addSeries("ns per record", names, v);
            panels.add(chart);
        }
        return panels;
    }

    /** ColdStart: median first score per configuration, raw ONNX Runtime against Nearline (code and file). */
    static CategoryChart firstScore(List<Map<String, String>> cold) {
        List<String[]> configs = Report.coldConfigs(cold);
        if (configs.isEmpty()) {
            return null;
        }
        List<String> names = new ArrayList<>();
        for (String[] c : configs) {
            names.add((c[1].equals("cache") ? "natives cached" : "natives from jar") + (c[2].equals("yes") ? " + AppCDS" : ""));
        }
        CategoryChart chart = chart(configs.get(0)[0] + ": JVM start to first score (ColdStart, medians)", "ms");
        for (String mode : List.of("raw", "nearline", "file")) {
            List<Double> v = new ArrayList<>();
            boolean any = false;
            for (String[] c : configs) {
                double m = Report.coldMedian(cold, mode, c, "first_score_ms");
                any |= !Double.isNaN(m);
                v.add(orZero(m));
            }
            if (any) {
                chart.addSeries(mode.equals("raw") ? "raw ONNX Runtime" : mode.equals("nearline") ? "Nearline, code"
                        : "Nearline, pipeline file", names, v);
            }
        }
        return chart;
    }

    /** ColdStartPhases: the steps to the first score, stacked, per preset (the first configuration measured). */
    static CategoryChart phases(List<Map<String, String>> runs) {
        if (runs.isEmpty()) {
            return null;
        }
        Map<String, String> first = runs.get(0);
        List<Map<String, String>> config = new ArrayList<>();
        for (Map<String, String> r : runs) {
            if (first.get("natives").equals(r.get("natives")) && first.getOrDefault("appcds", "no").equals(r.getOrDefault("appcds", "no"))) {
                config.add(r);
            }
        }
        List<String> modes = new ArrayList<>();
        for (String mode : List.of("raw", "nearline", "file")) {
            if (!Report.ofMode(config, mode).isEmpty()) {
                modes.add(mode);
            }
        }
        CategoryChart chart = chart("where the time to the first score goes (ColdStartPhases, medians)", "ms");
        chart.getStyler().setStacked(true);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setLegendLayout(Styler.LegendLayout.Vertical);
        for (String[] row : Report.PHASE_ROWS) {
            List<Double> v = new ArrayList<>();
            boolean any = false;
            for (String mode : modes) {
                double m = Report.phase(config, mode, row);
                any |= !Double.isNaN(m) && m > 0;
                v.add(orZero(m));
            }
            if (any) {
                chart.addSeries(row[1].equals("main") ? "JVM start" : shortLabel(row), modes, v);
            }
        }
        return chart;
    }

    private static String shortLabel(String[] row) {
        String label = row[0];
        int paren = label.indexOf(" (`");
        String s = (paren > 0 ? label.substring(0, paren) : label).replace("`", "");
        int colon = s.indexOf(':');
        return colon > 0 && s.length() > 28 ? s.substring(0, colon) : s;
    }

    private static CategoryChart chart(String title, String yTitle) {
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title).yAxisTitle(yTitle).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        chart.getStyler().setToolTipsEnabled(false);
        return chart;
    }

    private static double orZero(double v) {
        return Double.isNaN(v) ? 0 : v;
    }
}
