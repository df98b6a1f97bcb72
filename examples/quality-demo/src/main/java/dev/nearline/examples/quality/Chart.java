package dev.nearline.examples.quality;

import dev.nearline.examples.quality.QualityDemo.Point;
import dev.nearline.examples.quality.QualityDemo.Result;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The demo's chart (XChart, rendered headless to a PNG) and its series as CSV. */
final class Chart {

    private Chart() {
    }

    /** Writes the AUC-over-time chart of {@code r} to {@code png}; returns it. */
    static Path write(Result r, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(1000).height(520)
                .title("Live AUC over the last 2,000 labels (labels arrive 2,000 transactions late)")
                .xAxisTitle("transactions scored").yAxisTitle("AUC").build();
        Styler s = chart.getStyler();
        s.setLegendPosition(Styler.LegendPosition.InsideSW);
        s.setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setYAxisMin(0.4);
        chart.getStyler().setYAxisMax(1.0);
        chart.getStyler().setXAxisDecimalPattern("#,###");
        series(chart, r, "champion v1 (all records)", p -> p.version() == 1, Point::championAuc, new Color(0x1f77b4), false);
        series(chart, r, "champion v2 = promoted challenger", p -> p.version() == 2, Point::championAuc,
                new Color(0x2ca02c), false);
        series(chart, r, "challenger (its 50% sample)", p -> p.version() == 1, Point::challengerAuc, new Color(0xff7f0e),
                true);
        series(chart, r, "champion v1 on the same sample", p -> p.version() == 1, Point::championSampledAuc,
                new Color(0x9ecae1), true);
        chart.addAnnotation(new AnnotationLine(QualityDemo.ALERT_AUC, false, false));
        chart.addAnnotation(new AnnotationLine(r.changeAt(), true, false));
        chart.addAnnotation(new AnnotationLine(r.promoteAt(), true, false));
        chart.addAnnotation(new AnnotationText("alert: AUC < 0.80", r.points().get(0).records() + r.changeAt() / 8.0,
                QualityDemo.ALERT_AUC - 0.015, false));
        chart.addAnnotation(new AnnotationText("fraud pattern changes", r.changeAt() + r.changeAt() / 5.0, 0.98, false));
        chart.addAnnotation(new AnnotationText("challenger promoted", r.promoteAt() + r.changeAt() / 6.0, 0.98, false));
        chart.getStyler().setAnnotationLineColor(Color.GRAY);
        chart.getStyler().setAnnotationTextFontColor(Color.DARK_GRAY);
        chart.getStyler().setAnnotationLineStroke(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                new float[] {4f, 4f}, 0f));
        Files.createDirectories(png.toAbsolutePath().getParent());
        String base = png.toString().endsWith(".png") ? png.toString().substring(0, png.toString().length() - 4)
                : png.toString();
        BitmapEncoder.saveBitmap(chart, base, BitmapEncoder.BitmapFormat.PNG);
        return Path.of(base + ".png");
    }

    private static void series(XYChart chart, Result r, String name, Predicate<Point> which,
                               ToDoubleFunction<Point> value, Color color, boolean dashed) {
        List<Double> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        for (Point p : r.points()) {
            double v = value.applyAsDouble(p);
            // The first few hundred labels make a noisy window: start once a quarter of it is there.
            if (which.test(p) && !Double.isNaN(v) && p.records() >= QualityDemo.LABEL_DELAY + QualityDemo.WINDOW / 4) {
                x.add((double) p.records());
                y.add(v);
            }
        }
        if (x.isEmpty()) {
            return;
        }
        XYSeries series = chart.addSeries(name, x, y);
        series.setMarker(SeriesMarkers.NONE);
        series.setLineColor(color);
        series.setLineStyle(dashed ? new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f,
                new float[] {6f, 3f}, 0f) : new BasicStroke(2.2f));
    }

    /** Writes the series as CSV: records, version, champion AUC, its error bound, challenger AUC, champion AUC on the sample, agreement. */
    static void writeCsv(Result r, Path csv) throws IOException {
        StringBuilder b = new StringBuilder("records,version,champion_auc,champion_auc_bound,challenger_auc,"
                + "champion_sampled_auc,agreement\n");
        for (Point p : r.points()) {
            b.append(String.format(Locale.ROOT, "%d,%d,%.4f,%.4f,%.4f,%.4f,%.4f%n", p.records(), p.version(),
                    p.championAuc(), p.championBound(), p.challengerAuc(), p.championSampledAuc(), p.agreement()));
        }
        Files.writeString(csv, b.toString());
    }
}
