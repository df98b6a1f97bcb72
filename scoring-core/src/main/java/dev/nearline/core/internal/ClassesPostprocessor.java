package dev.nearline.core.internal;

import dev.nearline.api.DataType;
import dev.nearline.api.Postprocessor;
import dev.nearline.api.RowPostprocessor;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.api.spi.PostprocessorProvider;
import dev.nearline.api.spi.Settings;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Built-in postprocessor {@code classes}: class probabilities (or scores) of one record from a
 * {@code [1, classes]} or {@code [classes]} output, named by configured labels, by the
 * {@code <output>.keys} tensor that the ONNX backend adds for scikit-learn ZipMap outputs, or by index.
 * Returns {@code {"label": "b", "probability": 0.7, "top": [...], "probabilities": {...}}} where
 * {@code top} holds the {@code topK} best classes (when set) and {@code probabilities} every class in
 * model order (unless disabled). Thread-safe.
 */
public final class ClassesPostprocessor implements RowPostprocessor<Object> {
    /** Upper bound of {@code topK}. */
    static final int MAX_TOP_K = 100_000;
    private final @Nullable String output;
    private final @Nullable List<String> labels;
    private final int topK;
    private final boolean probabilities;

    private ClassesPostprocessor(@Nullable String output, @Nullable List<String> labels, int topK, boolean probabilities) {
        this.output = output;
        this.labels = labels;
        this.topK = topK;
        this.probabilities = probabilities;
    }

    static ClassesPostprocessor create(Settings s) {
        String output = s.string("output", null);
        List<String> labels = s.has("labels") ? s.strings("labels") : null;
        s.strings("labels", List.of());
        if (labels != null && new java.util.HashSet<>(labels).size() != labels.size()) {
            throw s.error("labels", "labels must be unique, got " + labels);
        }
        int topK = Ranges.integer(s, "topK", 0, 0, MAX_TOP_K);
        return new ClassesPostprocessor(output, labels, topK, s.bool("probabilities", true));
    }

    @Override
    public Object postprocess(Tensors outputs) {
        String name = output;
        if (name == null) {
            name = firstFloatOutput(outputs);
        }
        Tensor probs = outputs.require(name);
        if (probs.rank() == 2 && probs.dim(0) == 0) {
            // The rows come from the record (a tensors record may have none): retrying it cannot help.
            throw ScoringException.invalidInput("the model returned no rows for the record (output '" + name + "' "
                    + probs + "); a record needs exactly one row to be classified");
        }
        if (probs.rank() > 2 || (probs.rank() == 2 && probs.dim(0) != 1)) {
            throw new IllegalArgumentException("output '" + name + "' should hold one record's classes as [1, classes] "
                    + "or [classes], got " + probs);
        }
        return classify(outputs, name, probs, 0, probs.size());
    }

    /** As {@link #postprocess}, for the record in row {@code row} of a batch's outputs ({@code [rows, classes]}). */
    @Override
    public Object postprocessRow(Tensors batchOutputs, int row) {
        String name = output != null ? output : firstFloatOutput(batchOutputs);
        Tensor probs = batchOutputs.require(name);
        if (probs.rank() > 2 || probs.rank() == 0) {
            throw new IllegalArgumentException("output '" + name + "' should hold one record's classes as [1, classes] "
                    + "or [classes], got " + probs + " for the batch");
        }
        int n = probs.rank() == 2 ? (int) probs.dim(1) : 1;
        return classify(batchOutputs, name, probs, row * n, n);
    }

    /** The result for the {@code n} class probabilities at {@code offset} of {@code probs}. */
    private Object classify(Tensors outputs, String name, Tensor probs, int offset, int n) {
        if (n == 0) {
            throw new IllegalArgumentException("output '" + name + "' has no classes");
        }
        String[] names = labels(outputs, name, n);
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (probs.doubleAt(offset + i) > probs.doubleAt(offset + best)) {
                best = i;
            }
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("label", names[best]);
        result.put("probability", probs.doubleAt(offset + best));
        if (topK > 0) {
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            java.util.Arrays.sort(order, (a, b) -> Double.compare(probs.doubleAt(offset + b), probs.doubleAt(offset + a)));
            List<Map<String, Object>> top = new ArrayList<>();
            for (int k = 0; k < Math.min(topK, n); k++) {
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("label", names[order[k]]);
                entry.put("probability", probs.doubleAt(offset + order[k]));
                top.add(entry);
            }
            result.put("top", top);
        }
        if (probabilities) {
            Map<String, Object> all = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                all.put(names[i], probs.doubleAt(offset + i));
            }
            result.put("probabilities", all);
        }
        return result;
    }

    private String[] labels(Tensors outputs, String name, int n) {
        String[] names = new String[n];
        if (labels != null) {
            if (labels.size() != n) {
                throw new IllegalArgumentException("configured " + labels.size() + " labels but output '" + name + "' has "
                        + n + " classes");
            }
            return labels.toArray(names);
        }
        Tensor keys = outputs.get(name + ".keys");
        if (keys != null && keys.size() != n) {
            throw new IllegalArgumentException("output '" + name + "' has " + n + " classes but '" + name + ".keys' has "
                    + keys.size() + " keys");
        }
        for (int i = 0; i < n; i++) {
            if (keys != null) {
                names[i] = keys.type() == DataType.BYTES ? keys.stringAt(i) : Long.toString(keys.longAt(i));
            } else {
                names[i] = Integer.toString(i);
            }
        }
        return names;
    }

    private static String firstFloatOutput(Tensors outputs) {
        for (int i = 0; i < outputs.size(); i++) {
            if (outputs.get(i).type().isFloatingPoint() && !outputs.name(i).endsWith(".keys")) {
                return outputs.name(i);
            }
        }
        throw new IllegalArgumentException("no floating-point output among " + outputs + "; set 'output'");
    }

    /** Registers {@code classes}. */
    public static final class Provider implements PostprocessorProvider {
        /** For ServiceLoader. */
        public Provider() {
        }

        @Override
        public String type() {
            return "classes";
        }

        @Override
        public Postprocessor<Object> create(Settings settings) {
            return ClassesPostprocessor.create(settings);
        }
    }
}
