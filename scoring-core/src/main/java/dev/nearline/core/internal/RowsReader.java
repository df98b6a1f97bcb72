package dev.nearline.core.internal;

import dev.nearline.api.Tensors;
import org.jspecify.annotations.Nullable;

/**
 * A {@link dev.nearline.api.RowPostprocessor} that reads many rows of a batch's outputs in one pass, finding its
 * output once per batch rather than once per row (the ready-made {@code Stages.floatAt} does). The engine uses it
 * on the columnar path when no record of the batch has a deadline. When it throws, or leaves a row without a
 * result, the engine reads every row again one by one with {@code postprocessRow}, so that each record gets the
 * result or the error that path gives. Not part of the public API.
 */
public interface RowsReader {

    /**
     * Puts the result of row {@code r} of {@code batchOutputs} at {@code results[index[r]]}, for every
     * {@code r} below {@code rows}; each result equal to {@code postprocessRow(batchOutputs, r)}.
     */
    void postprocessRows(Tensors batchOutputs, int rows, int[] index, @Nullable Object[] results);
}
