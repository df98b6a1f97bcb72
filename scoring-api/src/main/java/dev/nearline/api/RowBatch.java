package dev.nearline.api;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * One model call over rows written in place: the engine fills row {@code i} of the model's (reusable) batch
 * input buffers with record {@code i} through a {@link RowWriter}, runs the model once over the filled rows,
 * and reads row {@code i} of each output in place. A {@link Model} offers it with
 * {@link Model#newRowBatch(int)} when every input has a fixed size per record (numeric, only the batch axis
 * dynamic) and the model batches along axis 0. Used by one thread; {@link #close()} releases the buffers, after
 * which the outputs of {@link #run} must not be read.
 */
public interface RowBatch extends AutoCloseable {

    /** Rows this batch holds at most. */
    int capacity();

    /** The writer positioned at row {@code row} (0 to capacity - 1), that row cleared to zeros. */
    RowWriter row(int row);

    /**
     * Runs the model over rows 0 to {@code rows} - 1, within {@code timeout} (null: none). The outputs have
     * {@code rows} rows on axis 0 and stay valid until {@link #close()}.
     *
     * @throws ScoringException as {@link Model#predict} does
     */
    Tensors run(int rows, @Nullable Duration timeout);

    /** Releases the batch's buffers to the model. Idempotent. */
    @Override
    void close();
}
