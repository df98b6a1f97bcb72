package dev.nearline.core.internal;

import dev.nearline.api.DataType;
import dev.nearline.api.Model;
import dev.nearline.api.Postprocessor;
import dev.nearline.api.Preprocessor;
import dev.nearline.api.RowPostprocessor;
import dev.nearline.api.RowPreprocessor;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Whether, and how, a pipeline's batches can run on rows written in place (the columnar path): a single model
 * step that batches along axis 0 (declared, or proven by the probe), whose inputs are numeric with a fixed size
 * per record, between a {@link RowPreprocessor} and a {@link RowPostprocessor}, with no record observer (a drift
 * or quality monitor keeps per-record tensors). When the preprocessor declares its layout, each of its tensors
 * must feed a model input with the same type and row shape (else every record would fail the input check, and
 * the per-record path gives that message). Immutable.
 */
final class RowPlan {
    final Step step;
    /** For each model input, its spec (one record's shape has axis 0 of size 1). */
    final TensorSpec[] specs;
    /** Elements per row of each model input. */
    final int[] widths;
    /** For each model input, the pipeline tensor that feeds it. */
    final String[] sources;
    /** The outputs the model declares: each must have one row per record. */
    final String[] declaredOutputs;
    /** Whether a lone tensor of another name may feed the model's lone input (no explicit binding). */
    final boolean loneInput;
    /** The bits of the inputs a complete record writes (of the first 64, which are the ones tracked). */
    final long allInputs;

    private RowPlan(Step step, TensorSpec[] specs, int[] widths, String[] sources) {
        this.step = step;
        this.specs = specs;
        this.widths = widths;
        this.sources = sources;
        this.declaredOutputs = Objects.requireNonNull(step.model()).signature().outputNames().toArray(new String[0]);
        this.loneInput = specs.length == 1 && !step.bindings().containsKey(specs[0].name());
        this.allInputs = specs.length >= 64 ? -1L : (1L << specs.length) - 1;
    }

    /**
     * Whether every declared output of {@code out} has {@code rows} rows on axis 0 (a model may add outputs it
     * could not declare, such as the class keys of a ZipMap, which are the same for every record).
     */
    boolean outputsHaveRows(Tensors out, int rows) {
        for (String name : declaredOutputs) {
            Tensor t = out.get(name);
            if (t != null && (t.rank() == 0 || t.dim(0) != rows)) {
                return false;
            }
        }
        return true;
    }

    /** The plan for this pipeline, or null when its batches must take the per-record path. */
    static @Nullable RowPlan of(Step[] steps, Preprocessor<?> pre, Postprocessor<?> post, boolean observed) {
        return steps.length == 1 && steps[0].batchSafe() ? plan(steps, pre, post, observed) : null;
    }

    /**
     * The plan for scoring one record alone on a row of one (see {@link RowOne}), or null: as {@link #of} without
     * the batching verdict, since a single row is no batch.
     */
    static @Nullable RowPlan forOne(Step[] steps, Preprocessor<?> pre, Postprocessor<?> post, boolean observed) {
        return plan(steps, pre, post, observed);
    }

    private static @Nullable RowPlan plan(Step[] steps, Preprocessor<?> pre, Postprocessor<?> post, boolean observed) {
        if (steps.length != 1 || !steps[0].isModel() || observed
                || !(pre instanceof RowPreprocessor) || !(post instanceof RowPostprocessor)) {
            return null;
        }
        Step step = steps[0];
        Model model = Objects.requireNonNull(step.model());
        if (model.batching().isBatchable() && model.batching().axis() != 0) {
            return null;
        }
        List<TensorSpec> inputs = model.signature().inputs();
        if (inputs.isEmpty() || inputs.size() > 64) {
            return null;
        }
        TensorSpec[] specs = inputs.toArray(new TensorSpec[0]);
        int[] widths = new int[specs.length];
        String[] sources = step.sources().toArray(new String[0]);
        for (int i = 0; i < specs.length; i++) {
            long[] shape = specs[i].shape();
            if (specs[i].type() == DataType.BYTES || shape == null || shape.length == 0 || shape[0] != -1) {
                return null;
            }
            long width = 1;
            for (int d = 1; d < shape.length; d++) {
                if (shape[d] < 1) {
                    return null;
                }
                width *= shape[d];
            }
            if (width > Integer.MAX_VALUE / 4096) {
                return null;
            }
            widths[i] = (int) width;
        }
        List<TensorSpec> layout = ((RowPreprocessor<?>) pre).rowLayout();
        if (layout != null) {
            if (specs.length == 1 && layout.size() == 1 && !step.bindings().containsKey(specs[0].name())
                    && !layout.get(0).name().equals(sources[0])) {
                sources[0] = layout.get(0).name(); // a lone tensor feeds a lone input whatever its name
            }
            if (!fits(layout, specs, sources)) {
                return null;
            }
        }
        return new RowPlan(step, specs, widths, sources);
    }

    /** Whether every model input is fed by a layout tensor of its type and row shape. */
    private static boolean fits(List<TensorSpec> layout, TensorSpec[] specs, String[] sources) {
        for (int i = 0; i < specs.length; i++) {
            TensorSpec produced = null;
            for (TensorSpec t : layout) {
                if (t.name().equals(sources[i])) {
                    produced = t;
                }
            }
            if (produced == null || produced.type() != specs[i].type() || produced.shape() == null) {
                return false;
            }
            long[] row = specs[i].shape().clone();
            row[0] = 1;
            if (!Arrays.equals(produced.shape(), row)) {
                return false;
            }
        }
        return true;
    }

    /** The model input fed by pipeline tensor {@code tensor}, or -1. */
    int input(String tensor) {
        for (int i = 0; i < sources.length; i++) {
            if (sources[i].equals(tensor)) {
                return i;
            }
        }
        return -1;
    }
}
