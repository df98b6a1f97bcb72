package dev.nearline.onnx.internal;

import dev.nearline.api.Tensor;
import java.util.Arrays;

/**
 * Logs once per model that a declared batch axis did not hold for an output, which makes its batches run
 * one record at a time; silent for an undeclared axis, which the engine's probe handles. Thread-safe.
 */
final class NotSplitWarning {
    private final String model;
    private final boolean declared;
    private volatile boolean warned;

    NotSplitWarning(String model, boolean declared) {
        this.model = model;
        this.declared = declared;
    }

    /** Output {@code output}, {@code t}, was not {@code total} long along {@code axis}. */
    void warn(String output, Tensor t, int axis, long total) {
        if (declared && !warned) {
            warned = true;
            Log.LOG.warn("model '{}': output '{}' has shape {}, not {} along the declared batch axis {}; "
                    + "batches of this model run one record at a time", model, output, Arrays.toString(t.shape()),
                    total, axis);
        }
    }
}
