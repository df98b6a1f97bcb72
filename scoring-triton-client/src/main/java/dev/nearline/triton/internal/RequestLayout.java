package dev.nearline.triton.internal;

import dev.nearline.api.DataType;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The inputs of one inference request: one record, or several records concatenated along the
 * first (batch) axis, in the order of the model's declared inputs. When the model has a batch axis
 * it remembers each record's row count, so that {@link ResponseAssembler} can check every output's
 * rows (for one record as for a batch) and split a batch's outputs back. Immutable once built.
 */
public final class RequestLayout {
    private final List<TensorSpec> inputs;
    private final List<TensorSpec> outputs;
    private final List<Tensors> records;
    private final long[][] inputShapes;
    private final int @Nullable [] rows;

    private RequestLayout(List<TensorSpec> inputs, List<TensorSpec> outputs, List<Tensors> records,
            long[][] inputShapes, int @Nullable [] rows) {
        this.inputs = inputs;
        this.outputs = outputs;
        this.records = records;
        this.inputShapes = inputShapes;
        this.rows = rows;
    }

    /**
     * One record of a model without a known batch axis: outputs are checked against the declared
     * shapes only. Every declared input must be present with the declared type and a fitting shape;
     * tensors the model does not declare are left out of the request.
     *
     * @throws ScoringException INVALID_INPUT naming the tensor when the record does not fit
     */
    public static RequestLayout single(ModelSignature signature, Tensors record) {
        return single(signature, record, false);
    }

    /**
     * One record; with {@code batchAxis}, the model's first axis is its batch axis, so every input must
     * have the same extent along it and every output must come back with that many rows.
     *
     * @throws ScoringException INVALID_INPUT naming the tensor when the record does not fit
     */
    public static RequestLayout single(ModelSignature signature, Tensors record, boolean batchAxis) {
        if (batchAxis) {
            return batch(signature, List.of(record));
        }
        List<TensorSpec> inputs = signature.inputs();
        long[][] shapes = new long[inputs.size()][];
        for (int i = 0; i < inputs.size(); i++) {
            shapes[i] = check(inputs.get(i), record, -1).shape();
        }
        return new RequestLayout(inputs, signature.outputs(), List.of(record), shapes, null);
    }

    /**
     * Several records in one request, concatenated along axis 0 of every input. Each record may
     * carry one or more rows; within a record every input must have the same row count, and across
     * records every input must agree on the other dimensions.
     *
     * @throws ScoringException INVALID_INPUT naming the record and tensor when they do not fit
     */
    public static RequestLayout batch(ModelSignature signature, List<Tensors> records) {
        if (records.isEmpty()) {
            throw new IllegalArgumentException("empty batch");
        }
        List<TensorSpec> inputs = signature.inputs();
        long[][] shapes = new long[inputs.size()][];
        int[] rows = new int[records.size()];
        for (int r = 0; r < records.size(); r++) {
            Tensors record = records.get(r);
            for (int i = 0; i < inputs.size(); i++) {
                TensorSpec spec = inputs.get(i);
                Tensor t = check(spec, record, records.size() == 1 ? -1 : r);
                String where = records.size() == 1 ? "" : "record " + r + ": ";
                if (t.rank() == 0) {
                    throw ScoringException.invalidInput(where + "input '" + spec.name()
                            + "' is a scalar; batching needs a first (batch) axis");
                }
                long n = t.dim(0);
                if (i == 0) {
                    rows[r] = (int) n;
                } else if (n != rows[r]) {
                    throw ScoringException.invalidInput(where + "input '" + spec.name() + "' has " + n
                            + " rows but input '" + inputs.get(0).name() + "' has " + rows[r]
                            + " (the batch axis is the first)");
                }
                if (r == 0) {
                    shapes[i] = t.shape();
                } else {
                    long[] s = t.shape();
                    if (s.length != shapes[i].length
                            || !Arrays.equals(s, 1, s.length, shapes[i], 1, shapes[i].length)) {
                        throw ScoringException.invalidInput("record " + r + ": input '" + spec.name() + "' has shape "
                                + Arrays.toString(s) + ", which cannot be batched with " + describeRow(shapes[i])
                                + " of record 0");
                    }
                    shapes[i][0] += s[0];
                    if (shapes[i][0] > Integer.MAX_VALUE) {
                        throw ScoringException.invalidInput("batch of input '" + spec.name() + "' has more than "
                                + Integer.MAX_VALUE + " rows");
                    }
                }
            }
        }
        return new RequestLayout(inputs, signature.outputs(), List.copyOf(records), shapes, rows);
    }

    private static Tensor check(TensorSpec spec, Tensors record, int index) {
        Tensor t = record.get(spec.name());
        String where = index < 0 ? "" : "record " + index + ": ";
        if (t == null) {
            throw ScoringException.invalidInput(where + "missing input '" + spec.name() + "' (have " + record.names() + ")");
        }
        String mismatch = spec.mismatch(t);
        if (mismatch != null) {
            throw ScoringException.invalidInput(where + "input " + mismatch);
        }
        return t;
    }

    private static String describeRow(long[] shape) {
        long[] s = shape.clone();
        s[0] = -1;
        return Arrays.toString(s).replace("-1", "n");
    }

    /** The declared inputs, in request order. */
    public List<TensorSpec> inputs() {
        return inputs;
    }

    /** The declared outputs, which the request asks for by name. */
    public List<TensorSpec> outputs() {
        return outputs;
    }

    /** The number of records (1 unless {@link #isBatch()}). */
    public int recordCount() {
        return records.size();
    }

    /**
     * Whether the model's first axis is its batch axis: each record's rows are known, every output must
     * have {@link #totalRows()} rows, and a batch's outputs are split by them.
     */
    public boolean hasBatchAxis() {
        return rows != null;
    }

    /** Rows of record {@code r} (its extent along axis 0). */
    public int rows(int r) {
        if (rows == null) {
            throw new IllegalStateException("no batch axis");
        }
        return rows[r];
    }

    /** Total rows of the request (over every record). */
    public long totalRows() {
        if (rows == null) {
            throw new IllegalStateException("no batch axis");
        }
        long n = 0;
        for (int r : rows) {
            n += r;
        }
        return n;
    }

    /** Shape of input {@code i} as sent (a copy). */
    public long[] inputShape(int i) {
        return inputShapes[i].clone();
    }

    /** Data type of input {@code i}. */
    public DataType inputType(int i) {
        return inputs.get(i).type();
    }

    /** Tensor of input {@code i} in record {@code r}. */
    public Tensor input(int r, int i) {
        return records.get(r).require(inputs.get(i).name());
    }

    /** Bytes of input {@code i} in the v2 binary layout, over all records. */
    public long inputByteSize(int i) {
        long n = 0;
        for (int r = 0; r < records.size(); r++) {
            n += input(r, i).byteSize();
        }
        return n;
    }

    /** Writes input {@code i} of every record, in order, in the v2 binary layout at {@code target}'s position. */
    public void writeInput(int i, ByteBuffer target) {
        for (int r = 0; r < records.size(); r++) {
            input(r, i).writeLittleEndian(target);
        }
    }
}
