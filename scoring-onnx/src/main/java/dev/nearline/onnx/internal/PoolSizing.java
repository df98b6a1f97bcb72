package dev.nearline.onnx.internal;

import ai.onnxruntime.OrtEnvironment;
import dev.nearline.api.DataType;
import org.jspecify.annotations.Nullable;

/**
 * How much native memory a model keeps for reuse: which record shapes get a {@link SlotPool}, how many
 * slots (or batch leases) it keeps, and the shapes of the outputs it pins. Bounds every model's pools by
 * {@value #POOL_BYTES} bytes whatever the records' shapes. Stateless.
 */
final class PoolSizing {
    /** Upper bound on the native memory held by one model's slot pool. */
    static final long POOL_BYTES = 64L << 20;
    /**
     * Largest slot (inputs plus pinned outputs) worth pooling; records larger than this take the per-call
     * path, so one large record never pins that much native memory for the model's life.
     */
    static final long MAX_SLOT_BYTES = POOL_BYTES / 4;
    /** Most slots or leases kept, whatever their size. */
    private static final int MAX_CAPACITY = 256;

    private PoolSizing() {
    }

    /**
     * Slots (or batch leases) to keep: up to 256, within {@link #POOL_BYTES}. Slots are created only when
     * needed, so the cap matters only with many callers: a caller descheduled mid-call keeps its slot, so
     * a cap near the core count sent half the calls of 64 callers down the allocating path (measured: 324k
     * against 745k records/s on the 30-feature model with 64 callers on 2 cores).
     */
    static int capacity(long bytesPerSlot) {
        return (int) Math.max(1, Math.min(MAX_CAPACITY, POOL_BYTES / Math.max(1, bytesPerSlot)));
    }

    /**
     * The pool for the input shapes the signature fixes (a dynamic first axis taken as 1), of any size
     * since the model chose them; null when the signature does not fix every input's shape.
     */
    static @Nullable SlotPool forSignature(OrtEnvironment env, OrtSignature sig) {
        long[][] shapes = fixedInputShapes(sig);
        // the model fixes these shapes, so any size is worth pooling (one slot at least)
        return shapes == null ? null : newPool(env, sig, shapes, Long.MAX_VALUE);
    }

    /** The pool for records of {@code inputShapes}, which a record chose: null beyond {@link #MAX_SLOT_BYTES}. */
    static @Nullable SlotPool forRecord(OrtEnvironment env, OrtSignature sig, long[][] inputShapes) {
        return newPool(env, sig, inputShapes, MAX_SLOT_BYTES);
    }

    /** Input shapes fixed by the signature (a dynamic first axis taken as 1), or null. */
    static long @Nullable [][] fixedInputShapes(OrtSignature sig) {
        long[][] shapes = new long[sig.inputSpecs.length][];
        for (int i = 0; i < sig.inputSpecs.length; i++) {
            long[] s = sig.inputSpecs[i].shape();
            if (s == null || s.length == 0) {
                return null;
            }
            if (s[0] == -1) {
                s[0] = 1;
            }
            for (long d : s) {
                if (d <= 0) {
                    return null;
                }
            }
            shapes[i] = s;
        }
        return shapes;
    }

    /**
     * A pool for records of {@code inputShapes}, or null when they hold too many elements for one buffer or a
     * slot (inputs plus pinned outputs) would take more than {@code maxSlotBytes}.
     */
    private static @Nullable SlotPool newPool(OrtEnvironment env, OrtSignature sig, long[][] inputShapes,
            long maxSlotBytes) {
        DataType[] inputTypes = new DataType[sig.inputSpecs.length];
        long bytes = 0;
        for (int i = 0; i < sig.inputSpecs.length; i++) {
            inputTypes[i] = sig.inputSpecs[i].type();
            long count = Shapes.elements(inputShapes[i]);
            if (count < 0) {
                return null;
            }
            bytes += count * inputTypes[i].byteSize();
        }
        long[][] outputShapes = outputShapes(sig, inputShapes);
        DataType[] pinnedTypes = null;
        if (outputShapes != null) {
            pinnedTypes = new DataType[sig.outputNames.length];
            for (int k = 0; k < sig.outputNames.length; k++) {
                pinnedTypes[k] = sig.outputType(k);
                bytes += Shapes.elements(outputShapes[k]) * pinnedTypes[k].byteSize(); // >= 0: checked when predicted
            }
        }
        if (bytes > maxSlotBytes) {
            return null;
        }
        return new SlotPool(env, sig.inputNames, inputTypes, inputShapes, sig.outputNames, pinnedTypes, outputShapes,
                capacity(bytes));
    }

    /**
     * Output shapes for pooled inputs when every output is a fixed-width tensor whose declared
     * dimensions are fixed apart from a dynamic first axis, which then equals the inputs' first
     * dimension; null otherwise. The first run confirms them before any output is pinned.
     */
    private static long @Nullable [][] outputShapes(OrtSignature sig, long[][] inputShapes) {
        long batch = -1;
        for (int i = 0; i < sig.inputSpecs.length; i++) {
            long[] declared = sig.inputSpecs[i].shape();
            if (declared != null && declared.length > 0 && declared[0] == -1) {
                if (batch != -1 && batch != inputShapes[i][0]) {
                    return null;
                }
                batch = inputShapes[i][0];
            }
        }
        long[][] shapes = sig.tensorOutputShapes();
        if (shapes == null) {
            return null;
        }
        for (long[] s : shapes) {
            if (s[0] == -1) {
                if (batch == -1) {
                    return null;
                }
                s[0] = batch;
            }
            for (long d : s) {
                if (d <= 0) {
                    return null;
                }
            }
            if (Shapes.elements(s) < 0) {
                return null; // more elements than one buffer holds: ONNX Runtime allocates, and fails, per call
            }
        }
        return shapes;
    }
}
