package dev.nearline.core.internal;

import dev.nearline.api.Postprocessor;
import dev.nearline.api.RowPostprocessor;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.api.spi.PostprocessorProvider;
import dev.nearline.api.spi.Settings;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Built-in postprocessor {@code score}: one number from an output tensor (by default the last element
 * of the first output, which is the positive-class probability of a {@code [1, 2]} output and the
 * score of a {@code [1, 1]} output), with an optional threshold decision and labels. Returns an ordered
 * map {@code {"score": 0.93, "decision": true, "label": "fraud"}}. Thread-safe.
 */
public final class ScorePostprocessor implements RowPostprocessor<Object> {
    private final @Nullable String output;
    private final int index;
    private final double threshold;
    private final @Nullable List<String> labels;

    private ScorePostprocessor(@Nullable String output, int index, double threshold, @Nullable List<String> labels) {
        this.output = output;
        this.index = index;
        this.threshold = threshold;
        this.labels = labels;
    }

    static ScorePostprocessor create(Settings s) {
        String output = s.string("output", null);
        int index = s.integer("index", -1);
        if (index < -1) {
            throw s.error("index", "expected an element index >= 0, got " + index);
        }
        double threshold = s.number("threshold", Double.NaN);
        if (s.has("threshold") && Double.isInfinite(threshold)) {
            throw s.error("threshold", "expected a finite number, got " + threshold);
        }
        List<String> labels = s.has("labels") ? s.strings("labels") : null;
        if (labels != null && labels.size() != 2) {
            throw s.error("labels", "expected two labels [below threshold, at or above threshold], got " + labels.size());
        }
        if (labels != null && Double.isNaN(threshold)) {
            throw s.error("labels", "labels need a threshold");
        }
        s.strings("labels", List.of());
        return new ScorePostprocessor(output, index, threshold, labels);
    }

    @Override
    public Object postprocess(Tensors outputs) {
        Tensor t = output == null ? outputs.get(0) : outputs.require(output);
        if (t.size() == 0) {
            if (t.rank() > 0 && t.dim(0) == 0) {
                // The rows come from the record (a tensors record may have none): retrying it cannot help.
                throw ScoringException.invalidInput("the model returned no rows for the record (output "
                        + outputName(outputs) + " " + t + "); a record needs at least one row to be scored");
            }
            throw new IllegalArgumentException("output " + outputName(outputs) + " " + t + " is empty");
        }
        int i = index < 0 ? t.size() - 1 : index;
        if (i >= t.size()) {
            throw new IllegalArgumentException("index " + i + " is outside output " + outputName(outputs) + " " + t);
        }
        return result(t.doubleAt(i));
    }

    /** As {@link #postprocess}, for the record in row {@code row} of a batch's outputs. */
    @Override
    public Object postprocessRow(Tensors batchOutputs, int row) {
        Tensor t = output == null ? batchOutputs.get(0) : batchOutputs.require(output);
        int rowSize = t.size() / (int) t.dim(0);
        if (rowSize == 0) {
            throw new IllegalArgumentException("output " + outputName(batchOutputs) + " has no elements per row: " + t);
        }
        int i = index < 0 ? rowSize - 1 : index;
        if (i >= rowSize) {
            throw new IllegalArgumentException("index " + i + " is outside one row of output " + outputName(batchOutputs)
                    + " " + t);
        }
        return result(t.doubleAt(row * rowSize + i));
    }

    private Map<String, Object> result(double score) {
        Map<String, Object> result = new LinkedHashMap<>(4);
        result.put("score", score);
        if (!Double.isNaN(threshold)) {
            boolean decision = score >= threshold;
            result.put("decision", decision);
            if (labels != null) {
                result.put("label", labels.get(decision ? 1 : 0));
            }
        }
        return result;
    }

    private String outputName(Tensors outputs) {
        return "'" + (output != null ? output : outputs.name(0)) + "'";
    }

    /** Registers {@code score}. */
    public static final class Provider implements PostprocessorProvider {
        /** For ServiceLoader. */
        public Provider() {
        }

        @Override
        public String type() {
            return "score";
        }

        @Override
        public Postprocessor<Object> create(Settings settings) {
            return ScorePostprocessor.create(settings);
        }
    }
}
