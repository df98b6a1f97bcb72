package dev.nearline.api;

/**
 * Turns one record into the named tensors the first model step reads. Implementations must be
 * thread-safe: one instance serves every thread of a scorer.
 *
 * <p>Throw {@link ScoringException} of kind {@link ScoringException.Kind#INVALID_INPUT} for a bad
 * record, naming the field and what was expected; the engine reports any other runtime exception as
 * {@code INVALID_INPUT} too, with the exception's message.
 *
 * @param <I> the record type
 */
@FunctionalInterface
public interface Preprocessor<I> {
    /** The tensors for {@code record}. */
    Tensors preprocess(I record);
}
