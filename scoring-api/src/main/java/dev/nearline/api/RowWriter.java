package dev.nearline.api;

/**
 * Writes one record's values straight into its row of a batch's input buffers (see {@link RowBatch}). A
 * {@link RowPreprocessor} gets a writer positioned at the record's row, with every element of that row set
 * to zero. Inputs are named as the pipeline names the tensors, and indexed by {@link #input(String)}; an
 * element index counts within the row (0 to {@link #width(int)} - 1, row-major within one record's shape).
 * Not thread-safe: it belongs to the thread filling the batch.
 */
public interface RowWriter {

    /** The index of the input fed by pipeline tensor {@code tensor}, or -1 when the model does not read it. */
    int input(String tensor);

    /** The element type of input {@code input}. */
    DataType type(int input);

    /** Elements per row of input {@code input}. */
    int width(int input);

    /** Sets element {@code index} of this row of a floating-point or integer input, converting as a cast does. */
    void setDouble(int input, int index, double value);

    /** As {@link #setDouble}, for a value already a float (no conversion for an FP32 input). */
    void setFloat(int input, int index, float value);

    /** As {@link #setDouble}, for an integer value (exact for integer inputs). */
    void setLong(int input, int index, long value);

    /** Sets this row of input {@code input} to {@code values} (exactly {@link #width(int)} of them), in one copy. */
    void setFloats(int input, float[] values);

    /** As {@link #setFloats}, from doubles (converted as {@link #setDouble} does). */
    void setDoubles(int input, double[] values);

    /**
     * Copies one record's tensor into this row of the input fed by {@code tensor}, checking it against the
     * model's input as the engine checks every input.
     *
     * @throws ScoringException INVALID_INPUT naming the step, the input and expected vs actual, as for any input
     */
    void set(String tensor, Tensor value);
}
