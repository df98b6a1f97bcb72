package dev.nearline.api;

import java.util.List;

/**
 * A {@link Preprocessor} that can also write a record straight into its row of a batch, without making a
 * {@link Tensors} for it: the engine uses it for {@code scoreAll}, micro-batches and a synchronous {@code score}
 * (a row of one) when every stage of the pipeline supports rows. A record it rejects fails alone, with the
 * message {@link #preprocess} gives. A preprocessor that checks a deadline as it parses (the built-in
 * {@code json-features}) is not given a row of one for a record with a deadline.
 *
 * @param <I> record type
 */
public interface RowPreprocessor<I> extends Preprocessor<I> {

    /**
     * The tensors every record becomes, with one record's type and shape (axis 0 of size 1), or null when that
     * depends on the record (the engine then checks each record's tensors as they are written).
     */
    @org.jspecify.annotations.Nullable List<TensorSpec> rowLayout();

    /**
     * Writes {@code record} into the row {@code row} points at: every element of every tensor it produces (the
     * row starts as zeros).
     *
     * @throws ScoringException INVALID_INPUT for a record it rejects, as {@link #preprocess} would
     */
    void preprocessRow(I record, RowWriter row);
}
