package dev.nearline.core.internal;

import dev.nearline.api.Preprocessor;
import dev.nearline.api.Tensors;
import dev.nearline.api.Ticker;

/**
 * A built-in preprocessor whose work grows with the size of the record: the engine hands it the record's
 * deadline, and it checks the deadline as it goes (every so many fields or elements), so that a large record
 * cannot outlive its deadline in preprocessing. Thread-safe, like every preprocessor.
 *
 * @param <I> record type
 */
public interface BoundedPreprocessor<I> extends Preprocessor<I> {

    /** No deadline: the value of {@code deadline} when the record has none. */
    long NO_DEADLINE = Deadlines.NONE;

    /**
     * As {@link #preprocess(Object)}, failing with {@code DEADLINE_EXCEEDED} once {@code ticker.read() - deadline
     * >= 0}; {@code deadline} is {@link #NO_DEADLINE} when the record has none.
     */
    Tensors preprocess(I record, Ticker ticker, long deadline);
}
