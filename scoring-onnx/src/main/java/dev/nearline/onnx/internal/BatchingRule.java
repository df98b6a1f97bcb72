package dev.nearline.onnx.internal;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.SequenceInfo;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.ValueInfo;
import dev.nearline.api.Batching;
import dev.nearline.api.TensorSpec;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * Which axis {@code predictBatch} joins records along, from the builder's {@link Batching} and the model's
 * signature, and whether a declared axis fits the model at all. Stateless.
 */
public final class BatchingRule {
    private BatchingRule() {
    }

    /**
     * The axis to join records along, or -1 to run them one at a time: the declared axis; for undeclared
     * batching, axis 0 when every input's first axis is dynamic; -1 for {@link Batching#none()} or a model
     * whose records cannot run.
     *
     * @throws BatchingMismatchException when a declared axis does not fit the model, naming the input or output
     */
    public static int axis(Batching declared, OrtSignature sig) {
        String problem = problem(declared, sig);
        if (problem != null) {
            throw new BatchingMismatchException("model '" + sig.model + "': batching along axis " + declared.axis()
                    + " does not fit the model: " + problem + "; declare no batching (Batching.none(), \"none\") "
                    + "or leave batching undeclared");
        }
        if (!sig.runnable()) {
            return -1;
        }
        if (!declared.isDeclared()) {
            return allInputsDynamicFirst(sig.inputSpecs) ? 0 : -1;
        }
        return declared.isBatchable() ? declared.axis() : -1;
    }

    /**
     * Why {@code batching} cannot hold for the model, or null. A declared axis must exist and be dynamic (-1)
     * in every input and every tensor output whose shape the model declares (unknown shapes are checked on
     * each batch); a ZipMap output ({@code sequence<map>}, one map per row) allows only axis 0; a map or a
     * sequence of tensors, which cannot be split per record, allows none.
     */
    private static @Nullable String problem(Batching batching, OrtSignature sig) {
        if (!batching.isBatchable()) {
            return null;
        }
        int axis = batching.axis();
        for (TensorSpec s : sig.inputSpecs) {
            String p = axisProblem("input", s.name(), s.shape(), axis);
            if (p != null) {
                return p;
            }
        }
        for (NodeInfo node : sig.sessionOutputs.values()) {
            ValueInfo info = node.getInfo();
            String output = node.getName();
            String p = null;
            if (info instanceof TensorInfo) {
                long[] shape = ((TensorInfo) info).getShape();
                if (OrtTypes.dataType((TensorInfo) info) != null) { // else never returned
                    p = axisProblem("output", output, shape.length == 0 ? null : shape, axis);
                }
            } else if (info instanceof SequenceInfo && ((SequenceInfo) info).isSequenceOfMaps()) {
                if (axis != 0) {
                    p = "output '" + output + "' is " + OrtTypes.describe(info)
                            + ", one map per row of axis 0, so it cannot be split along axis " + axis;
                }
            } else {
                p = "output '" + output + "' is " + OrtTypes.describe(info) + ", which cannot be split per record";
            }
            if (p != null) {
                return p;
            }
        }
        return null;
    }

    private static @Nullable String axisProblem(String what, String name, long @Nullable [] shape, int axis) {
        if (shape == null) {
            return null;
        }
        if (shape.length <= axis) {
            return what + " '" + name + "' " + Arrays.toString(shape) + " has no axis " + axis;
        }
        if (shape[axis] != -1) {
            return what + " '" + name + "' " + Arrays.toString(shape) + " has a fixed size of " + shape[axis]
                    + " on axis " + axis + ", so records cannot be concatenated along it";
        }
        return null;
    }

    /** The rule for undeclared batching: every input declares a dynamic first axis. */
    private static boolean allInputsDynamicFirst(TensorSpec[] inputs) {
        for (TensorSpec s : inputs) {
            long[] shape = s.shape();
            if (shape == null || shape.length == 0 || shape[0] != -1) {
                return false;
            }
        }
        return true;
    }
}
