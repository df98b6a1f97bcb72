package dev.nearline.core.internal.quality;

import dev.nearline.api.DataType;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.core.QualityMonitor.Task;
import org.jspecify.annotations.Nullable;

/**
 * Reads a prediction from the last step's outputs with the conventions of the built-in postprocessors: for a
 * binary classifier or a regression one number, by default the last element of the first output (as
 * {@code score}); for a multi-class classifier the class probabilities of one record, by default from the first
 * floating-point output that is not a {@code .keys} tensor (as {@code classes}). Unreadable predictions give
 * {@code NaN} or {@code null}, never an exception. Thread-safe.
 */
public final class PredictionReader {
    private final Task task;
    private final @Nullable String output;
    private final int index;

    /** A reader of {@code output} (null: the default) element {@code index} (-1: the last). */
    public PredictionReader(Task task, @Nullable String output, int index) {
        this.task = task;
        this.output = output;
        this.index = index;
    }

    /**
     * The prediction of a binary classifier (a probability in [0, 1]) or a regression (a finite number), or NaN
     * when there is none.
     */
    public float scalar(Tensors outputs) {
        Tensor t = output == null ? (outputs.isEmpty() ? null : outputs.get(0)) : outputs.get(output);
        if (t == null || t.type() == DataType.BYTES || t.size() == 0) {
            return Float.NaN;
        }
        int i = index < 0 ? t.size() - 1 : index;
        if (i >= t.size()) {
            return Float.NaN;
        }
        float v = t.floatAt(i);
        if (!Float.isFinite(v) || (task == Task.BINARY && (v < 0 || v > 1))) {
            return Float.NaN;
        }
        return v;
    }

    /** The class probabilities of a multi-class classifier (finite, at least two), or null when there are none. */
    public float @Nullable [] vector(Tensors outputs) {
        Tensor t = output == null ? firstFloat(outputs) : outputs.get(output);
        if (t == null || !t.type().isFloatingPoint() || t.rank() > 2 || (t.rank() == 2 && t.dim(0) != 1)
                || t.size() < 2) {
            return null;
        }
        float[] v = new float[t.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = t.floatAt(i);
            if (!Float.isFinite(v[i])) {
                return null;
            }
        }
        return v;
    }

    /** What the reader expects, for the one warning about unreadable predictions. */
    String expectation() {
        String where = output == null ? "the first output" : "output '" + output + "'";
        switch (task) {
            case BINARY:
                return "a probability in [0, 1] at element " + (index < 0 ? "-1 (the last)" : index) + " of " + where;
            case MULTICLASS:
                return "finite class probabilities of one record ([1, classes] or [classes]) in "
                        + (output == null ? "the first floating-point output" : where);
            default:
                return "a finite number at element " + (index < 0 ? "-1 (the last)" : index) + " of " + where;
        }
    }

    private static @Nullable Tensor firstFloat(Tensors outputs) {
        for (int i = 0; i < outputs.size(); i++) {
            if (outputs.get(i).type().isFloatingPoint() && !outputs.name(i).endsWith(".keys")) {
                return outputs.get(i);
            }
        }
        return null;
    }
}
