package dev.nearline.onnx.internal;

import ai.onnxruntime.OnnxTensor;
import dev.nearline.api.Tensors;
import java.nio.Buffer;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The ONNX Runtime tensors of one batched call: inputs (and, when outputs are pinned, outputs) over a
 * {@link BatchBuffers.Lease}'s direct buffers. A feed whose inputs are all numeric is kept by its lease
 * and reused by every later batch of the same row count: the batch is copied into {@link #inputViews}
 * and ONNX Runtime reads it in place, so a batch creates no native tensors. Not thread-safe: it belongs
 * to the thread holding its lease.
 */
public final class BatchFeed implements AutoCloseable {
    private final Map<String, OnnxTensor> inputs;
    private final @Nullable Map<String, OnnxTensor> outputs;
    private final @Nullable Buffer[] inputViews;
    private final @Nullable Buffer[] outputViews;
    private final boolean reusable;
    private boolean closed;
    /** The pinned outputs as tensors over {@link #outputViews}, made by the first batch that read them. */
    private @Nullable Tensors pinnedTensors;

    /**
     * A feed of {@code inputs}; {@code inputViews[i]} is the buffer under input {@code i}, or null for a
     * string input (whose values ONNX Runtime copied, so the feed cannot be reused). {@code outputs} and
     * {@code outputViews} are the pinned outputs, or null.
     */
    public BatchFeed(Map<String, OnnxTensor> inputs, @Nullable Buffer[] inputViews,
                     @Nullable Map<String, OnnxTensor> outputs, @Nullable Buffer @Nullable [] outputViews) {
        this.inputs = inputs;
        this.inputViews = inputViews;
        this.outputs = outputs;
        this.outputViews = outputViews == null ? new Buffer[0] : outputViews;
        boolean all = true;
        for (Buffer b : inputViews) {
            all &= b != null;
        }
        this.reusable = all;
    }

    /** The input tensors by name, in the model's input order. */
    public Map<String, OnnxTensor> inputs() {
        return inputs;
    }

    /** The pinned output tensors by name, or null when outputs are not pinned. */
    public @Nullable Map<String, OnnxTensor> outputs() {
        return outputs;
    }

    /** Whether outputs are pinned. */
    public boolean pinned() {
        return outputs != null;
    }

    /** The buffer under input {@code i}, or null for a string input. */
    public @Nullable Buffer inputView(int i) {
        return inputViews[i];
    }

    /** The buffer under pinned output {@code k}. */
    public Buffer outputView(int k) {
        Buffer b = outputViews[k];
        if (b == null) {
            throw new IllegalStateException("output " + k + " is not pinned");
        }
        return b;
    }

    /** The tensors over the pinned outputs kept by {@link #keepPinnedTensors}, or null. */
    public @Nullable Tensors pinnedTensors() {
        return pinnedTensors;
    }

    /**
     * Keeps {@code tensors}, views of this feed's pinned outputs, for every later batch over this feed: a view's
     * values are those of the last run.
     */
    public void keepPinnedTensors(Tensors tensors) {
        this.pinnedTensors = tensors;
    }

    /** Whether a later batch of the same size may reuse this feed (no string inputs). */
    public boolean reusable() {
        return reusable;
    }

    /** Closes every tensor. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (OnnxTensor t : inputs.values()) {
            t.close();
        }
        if (outputs != null) {
            for (OnnxTensor t : outputs.values()) {
                t.close();
            }
        }
    }
}
