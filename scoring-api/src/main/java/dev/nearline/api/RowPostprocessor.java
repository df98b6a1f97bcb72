package dev.nearline.api;

/**
 * A {@link Postprocessor} that can also read one record's result from its row of a batch's outputs in place,
 * without a {@link Tensors} per record: the engine uses it for {@code scoreAll}, micro-batches and a synchronous
 * {@code score} (a row of one) when every stage supports rows.
 *
 * @param <O> result type
 */
public interface RowPostprocessor<O> extends Postprocessor<O> {

    /**
     * The result of the record in row {@code row} of {@code batchOutputs}, whose tensors have one row per record
     * of the batch on axis 0; the same result {@link #postprocess} gives for that record's own outputs.
     */
    O postprocessRow(Tensors batchOutputs, int row);
}
