package dev.nearline.core;

import dev.nearline.api.DataType;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.Preprocessor;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.core.testing.FakeTicker;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Records that carry their own prediction, a model that passes it through, and exact offline metrics. */
final class QualityFixtures {

    private QualityFixtures() {
    }

    /** A record: its id and the values the model returns for it (a score, or class probabilities). */
    record Rec(String id, float... values) {
    }

    /** {@link Rec#values()} as the FP32 {@code [1, n]} tensor "input". */
    static final Preprocessor<Rec> PRE = r -> Tensors.of("input", Tensor.ofFloats(r.values().clone(), 1, r.values().length));

    /** Returns its input as the output {@code output}, optionally transformed by {@link #transform}. */
    static class EchoModel extends FakeModel {
        final String output;
        final int width;

        EchoModel(String output, int width) {
            this.output = output;
            this.width = width;
        }

        /** The output values for the input values. */
        float[] transform(float[] in) {
            return in;
        }

        @Override
        public ModelSignature signature() {
            return new ModelSignature(List.of(TensorSpec.of("input", DataType.FP32, -1, width)),
                    List.of(TensorSpec.of(output, DataType.FP32, -1, width)));
        }

        @Override
        protected Tensors compute(Tensors inputs) {
            Tensor x = inputs.require("input");
            float[] in = x.toFloatArray();
            float[] out = in.length == width ? transform(in) : in;
            return Tensors.of(output, Tensor.ofFloats(out, x.shape()));
        }
    }

    static EchoModel echo() {
        return new EchoModel("score", 1);
    }

    /** A scorer of {@code model} with {@code quality} watching, time from {@code ticker}. */
    static ManagedScorer<Rec, Float> scorer(QualityMonitor quality, FakeTicker ticker, FakeModel model) {
        return Pipeline.builder(PRE).name("q").ticker(ticker).model("m", model).quality(quality, Rec::id)
                .build(out -> out.get(0).floatAt(0));
    }

    // ------------------------------------------------------------------ exact offline metrics

    /** AUC by sorting all scores: each (positive, negative) pair counts 1 when ordered right, 1/2 when tied. */
    static double exactAuc(double[] p, double[] y) {
        Integer[] order = new Integer[p.length];
        for (int i = 0; i < p.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(p[a], p[b]));
        double pos = 0;
        double neg = 0;
        double sum = 0; // over positives: negatives strictly below + half the tied negatives
        int i = 0;
        double negBelow = 0;
        while (i < order.length) {
            int j = i;
            double tiedPos = 0;
            double tiedNeg = 0;
            while (j < order.length && p[order[j]] == p[order[i]]) {
                if (y[order[j]] == 1) {
                    tiedPos++;
                } else {
                    tiedNeg++;
                }
                j++;
            }
            sum += tiedPos * (negBelow + tiedNeg / 2);
            negBelow += tiedNeg;
            pos += tiedPos;
            neg += tiedNeg;
            i = j;
        }
        return sum / (pos * neg);
    }

    static double clip(double p) {
        return Math.min(Math.max(p, 1e-15), 1 - 1e-15);
    }

    static double logLoss(double[] p, double[] y) {
        double s = 0;
        for (int i = 0; i < p.length; i++) {
            s += y[i] == 1 ? -Math.log(clip(p[i])) : -Math.log(1 - clip(p[i]));
        }
        return s / p.length;
    }

    static double brier(double[] p, double[] y) {
        double s = 0;
        for (int i = 0; i < p.length; i++) {
            s += (p[i] - y[i]) * (p[i] - y[i]);
        }
        return s / p.length;
    }

    /** {precision, recall, accuracy} at {@code threshold}. */
    static double[] confusion(double[] p, double[] y, double threshold) {
        double tp = 0;
        double fp = 0;
        double fn = 0;
        double tn = 0;
        for (int i = 0; i < p.length; i++) {
            boolean d = p[i] >= threshold;
            if (y[i] == 1) {
                if (d) {
                    tp++;
                } else {
                    fn++;
                }
            } else if (d) {
                fp++;
            } else {
                tn++;
            }
        }
        return new double[] {tp / (tp + fp), tp / (tp + fn), (tp + tn) / p.length};
    }

    /** Per calibration bin [i/10, (i+1)/10): {count, mean predicted, observed rate}. */
    static double[][] calibration(double[] p, double[] y) {
        double[][] out = new double[10][3];
        for (int i = 0; i < p.length; i++) {
            int b = Math.min(9, (int) (p[i] * 10));
            out[b][0]++;
            out[b][1] += p[i];
            out[b][2] += y[i];
        }
        for (double[] b : out) {
            if (b[0] > 0) {
                b[1] /= b[0];
                b[2] /= b[0];
            }
        }
        return out;
    }

    /** The last {@code n} elements. */
    static double[] last(List<Double> values, int n) {
        List<Double> tail = values.subList(Math.max(0, values.size() - n), values.size());
        return tail.stream().mapToDouble(Double::doubleValue).toArray();
    }

    static List<Double> list() {
        return new ArrayList<>();
    }

    /** Polls {@code condition} until it holds, failing after {@code timeout}: for work done on other threads. */
    static void await(String what, java.util.function.BooleanSupplier condition, java.time.Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            }
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
    }
}
