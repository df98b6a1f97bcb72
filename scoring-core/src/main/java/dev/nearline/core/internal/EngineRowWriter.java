package dev.nearline.core.internal;

import dev.nearline.api.DataType;
import dev.nearline.api.RowWriter;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import org.jspecify.annotations.Nullable;

/**
 * The writer a {@link dev.nearline.api.RowPreprocessor} sees: names inputs as the pipeline names its tensors
 * (through the step's bindings), checks whole tensors against the model's inputs with the engine's usual
 * message, and notes which inputs a record wrote, so that a record that leaves one out fails as it would on
 * the per-record path. Reused for every row of one batch; not thread-safe.
 */
final class EngineRowWriter implements RowWriter {
    private final RowPlan plan;
    private RowWriter target;
    private long written;
    /** The last name {@link #input} looked up (a stage passes the same string for every record) and its index. */
    private @Nullable String lastName;
    private int lastInput = -1;

    EngineRowWriter(RowPlan plan) {
        this.plan = plan;
    }

    /** Points this writer at the next row; forgets what the previous record wrote. */
    EngineRowWriter at(RowWriter row) {
        this.target = row;
        this.written = 0;
        return this;
    }

    /**
     * @throws ScoringException INVALID_INPUT when the record did not write some input, worded as the engine's
     *     input check words it
     */
    void checkComplete() {
        if ((written & plan.allInputs) == plan.allInputs) {
            return;
        }
        for (int i = 0; i < plan.specs.length; i++) {
            if (i < 64 && (written & (1L << i)) == 0) {
                throw ScoringException.invalidInput("step '" + plan.step.name() + "' needs tensor '" + plan.sources[i]
                        + "' for input '" + plan.specs[i].name() + "', but the record did not produce it");
            }
        }
    }

    @Override
    public int input(String tensor) {
        if (tensor == null || tensor != lastName) { // NOPMD: identity, the common case; RowPlan compares names
            lastInput = plan.input(tensor);
            lastName = tensor;
        }
        return lastInput;
    }

    @Override
    public DataType type(int input) {
        return plan.specs[input].type();
    }

    @Override
    public int width(int input) {
        return plan.widths[input];
    }

    @Override
    public void setDouble(int input, int index, double value) {
        written |= 1L << input;
        target.setDouble(input, index, value);
    }

    @Override
    public void setFloat(int input, int index, float value) {
        written |= 1L << input;
        target.setFloat(input, index, value);
    }

    @Override
    public void setLong(int input, int index, long value) {
        written |= 1L << input;
        target.setLong(input, index, value);
    }

    @Override
    public void setFloats(int input, float[] values) {
        written |= 1L << input;
        target.setFloats(input, values);
    }

    @Override
    public void setDoubles(int input, double[] values) {
        written |= 1L << input;
        target.setDoubles(input, values);
    }

    @Override
    public void set(String tensor, Tensor value) {
        int input = plan.input(tensor);
        if (input < 0) {
            if (plan.loneInput) {
                throw NotARow.INSTANCE; // a lone tensor may feed the lone input whatever its name: the record decides
            }
            return; // the model does not read it, as on the per-record path
        }
        TensorSpec spec = plan.specs[input];
        String mismatch = spec.mismatch(value);
        if (mismatch != null) {
            throw ScoringException.invalidInput("step '" + plan.step.name() + "' input " + mismatch);
        }
        if (value.size() != plan.widths[input]) {
            throw NotARow.INSTANCE; // fits the input, but not as one row: the record takes the per-record path
        }
        written |= 1L << input;
        DataType type = spec.type();
        for (int j = 0, n = value.size(); j < n; j++) {
            if (type == DataType.FP32) {
                target.setFloat(input, j, value.floatAt(j));
            } else if (type.isFloatingPoint()) {
                target.setDouble(input, j, value.doubleAt(j));
            } else {
                target.setLong(input, j, value.longAt(j));
            }
        }
    }

    /** A record whose tensors fit the model but not one row of the batch (several rows, say). */
    static final class NotARow extends RuntimeException {
        private static final long serialVersionUID = 1L;
        static final NotARow INSTANCE = new NotARow();

        private NotARow() {
            super("not one row", null, false, false);
        }
    }
}
