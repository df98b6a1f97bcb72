package dev.nearline.benchmarks.capacity;

import dev.nearline.benchmarks.capacity.KedaScalingSimulator.Result;
import dev.nearline.benchmarks.capacity.KedaScalingSimulator.Sample;
import dev.nearline.benchmarks.capacity.KedaScalingSimulator.Settings;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;
import java.util.function.ToDoubleFunction;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Runs {@link KedaScalingSimulator} on three traffic traces (scale from zero, a 10× burst, a daily curve)
 * for the ScaledObject settings of {@code examples/keda-worker/k8s} and the alternatives the guide compares,
 * and writes one PNG per trace (replicas, queue length, p99 wait over time, one line per setting) and a
 * Markdown table of the totals.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.nearline.benchmarks.capacity.CapacityCharts \
 *     examples/keda-worker/docs POD_RATE POD_READY_SECONDS POD_LATENCY_MS [MESSAGE_COUNT]
 * </pre>
 * {@code MESSAGE_COUNT} is the recommended line's {@code messageCount} (the manifests' value); without it,
 * rate × latency.
 * {@code POD_RATE} (messages/s per pod), {@code POD_READY_SECONDS} and {@code POD_LATENCY_MS} (receive to
 * settled, per message) come from the worker's measurement
 * ({@code WorkerCapacityIT}); see the guide for the values used.
 */
public final class CapacityCharts {
    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd)};

    private CapacityCharts() {
    }

    /** {@code args}: output folder, messages/s per pod, seconds from replica added to pod serving. */
    public static void main(String[] args) throws IOException {
        if (args.length != 4 && args.length != 5) {
            System.err.println("usage: CapacityCharts OUTPUT_DIR POD_RATE POD_READY_SECONDS POD_LATENCY_MS [MESSAGE_COUNT]");
            System.exit(2);
            return;
        }
        Path out = Files.createDirectories(Path.of(args[0]));
        double rate = Double.parseDouble(args[1]);
        int ready = Integer.parseInt(args[2]);
        double latency = Double.parseDouble(args[3]) / 1000;
        int messageCount = args.length == 5 ? Integer.parseInt(args[4]) : recommendedMessageCount(rate, latency);
        Map<String, Settings> variants = variants(rate, ready, latency, messageCount);
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT,
                "pod rate %.0f messages/s, pod ready %d s after it is added, %.0f ms per message in a pod%n%n"
                        + "| trace | settings | p99 wait | max queue | max replicas | pod-hours |%n|---|---|---:|---:|---:|---:|%n",
                rate, ready, latency * 1000));
        for (Trace trace : traces(rate)) {
            Map<String, Result> results = new LinkedHashMap<>();
            for (var v : variants.entrySet()) {
                Result r = new KedaScalingSimulator(v.getValue()).run(trace.arrivals, trace.seconds, trace.window);
                results.put(v.getKey(), r);
                table.append(String.format(Locale.ROOT, "| %s | %s | %s | %.0f | %d | %.1f |%n", trace.title, v.getKey(),
                        seconds(r.waitP99Seconds()), r.maxQueue(), r.maxReplicas(), r.podSeconds() / 3600));
            }
            chart(trace, results, out.resolve("capacity-" + trace.name + ".png"));
        }
        Files.writeString(out.resolve("capacity-table.md"), table);
        System.out.print(table);
    }

    /**
     * The settings compared: the guide's recommendation (in {@code k8s/}), a queue target of one receive round
     * per pod, and KEDA's and the HPA's defaults. The recommendation: {@code messageCount} = the messages one
     * pod holds when it runs at its measured rate (rate × latency, Little's law), so that N busy pods read
     * as N × messageCount and the HPA neither starves them nor adds idle ones.
     */
    static Map<String, Settings> variants(double rate, int ready, double latency, int messageCount) {
        Map<String, Settings> v = new LinkedHashMap<>();
        v.put("recommended, k8s/ (" + messageCount + ", poll 10 s, window 120 s)",
                new Settings(messageCount, 0, 10, 300, 0, 20, 15, 0.1, 0, 120, ready, rate, latency));
        v.put("one receive round per pod (64, poll 10 s, window 120 s)",
                new Settings(64, 0, 10, 300, 0, 20, 15, 0.1, 0, 120, ready, rate, latency));
        v.put("KEDA/HPA defaults (5, poll 30 s, window 300 s)",
                new Settings(5, 0, 30, 300, 0, 20, 15, 0.1, 0, 300, ready, rate, latency));
        return v;
    }

    /** The messages one pod holds at {@code rate} messages/s with {@code latency} seconds each, at least 1. */
    static int recommendedMessageCount(double rate, double latency) {
        return Math.max(1, (int) Math.round(rate * latency));
    }

    /** A traffic trace: arrivals per second as a function of the second. */
    record Trace(String name, String title, DoubleUnaryOperator arrivals, int seconds, int window) {
    }

    static List<Trace> traces(double podRate) {
        double base = Math.round(podRate * 0.4);
        List<Trace> traces = new ArrayList<>();
        // idle, then 1.5 pods' worth for 10 minutes, then idle again: activation and cooldown to zero
        double load = Math.round(podRate * 1.5);
        traces.add(new Trace("from-zero", String.format(Locale.ROOT, "from zero: 0 → %.0f/s for 10 min → 0", load),
                t -> t >= 60 && t < 660 ? load : 0, 1_500, 5));
        // a steady base, then 10x for 5 minutes
        traces.add(new Trace("burst", String.format(Locale.ROOT, "10× burst: %.0f/s, %.0f/s for 5 min", base, base * 10),
                t -> t >= 600 && t < 900 ? base * 10 : base, 1_800, 5));
        // a day: from 5 % of the peak at night to a peak of 6 pods' worth in the afternoon
        double peak = podRate * 6;
        traces.add(new Trace("daily", String.format(Locale.ROOT, "daily curve: %.0f/s at night to %.0f/s at 15:00",
                peak * 0.05, peak),
                t -> peak * (0.05 + 0.95 * Math.pow(Math.max(0, Math.sin(Math.PI * (t - 3 * 3600) / (24 * 3600.0))), 2)),
                86_400, 300));
        return traces;
    }

    private static String seconds(double s) {
        return s < 1 ? "< 1 s" : String.format(Locale.ROOT, "%.0f s", s);
    }

    private static void chart(Trace trace, Map<String, Result> results, Path file) throws IOException {
        boolean hours = trace.seconds > 7200;
        String x = hours ? "hour" : "second";
        double scale = hours ? 3600.0 : 1.0;
        List<XYChart> panels = new ArrayList<>();
        panels.add(panel(trace.title + ": replicas (most in each " + trace.window + " s)", x, "replicas", results, scale, Sample::replicas, true));
        panels.add(panel("messages waiting (most in each " + trace.window + " s)", x, "messages", results, scale, Sample::queue, false));
        panels.add(panel("p99 wait of the messages started in each " + trace.window + " s", x, "seconds", results, scale, Sample::waitP99Seconds, false));
        XYChart arrivals = panels.get(0);
        Result any = results.values().iterator().next();
        arrivals.setYAxisGroupTitle(1, "arrivals/s");
        var series = arrivals.addSeries("arrivals/s (right axis)", xs(any, scale), ys(any, Sample::arrivalRate));
        series.setYAxisGroup(1);
        series.setMarker(SeriesMarkers.NONE);
        series.setLineColor(Color.GRAY);
        int width = 1000;
        int height = 300;
        BufferedImage image = new BufferedImage(width, height * panels.size(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        for (int i = 0; i < panels.size(); i++) {
            g.drawImage(BitmapEncoder.getBufferedImage(panels.get(i)), 0, i * height, null);
        }
        g.dispose();
        ImageIO.write(image, "png", file.toFile());
    }

    private static XYChart panel(String title, String x, String y, Map<String, Result> results, double scale,
                                 ToDoubleFunction<Sample> value, boolean legend) {
        XYChart chart = new XYChartBuilder().width(1000).height(300).title(title).xAxisTitle(x).yAxisTitle(y).build();
        chart.getStyler().setLegendVisible(legend);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setPlotGridLinesVisible(true);
        int i = 0;
        for (var e : results.entrySet()) {
            var s = chart.addSeries(e.getKey(), xs(e.getValue(), scale), ys(e.getValue(), value));
            s.setMarker(SeriesMarkers.NONE);
            s.setLineColor(COLORS[i++ % COLORS.length]);
        }
        return chart;
    }

    private static double[] xs(Result r, double scale) {
        return r.samples().stream().mapToDouble(s -> s.second() / scale).toArray();
    }

    private static double[] ys(Result r, ToDoubleFunction<Sample> value) {
        return r.samples().stream().mapToDouble(value).toArray();
    }
}
