package dev.nearline.api;

/**
 * Turns the tensors of the last pipeline step into the result a caller gets. Implementations must be
 * thread-safe; an exception thrown here is reported as {@link ScoringException.Kind#INTERNAL} unless
 * it is a {@link ScoringException}.
 *
 * @param <O> the result type; never null
 */
@FunctionalInterface
public interface Postprocessor<O> {
    /** The result for one record's {@code outputs}. */
    O postprocess(Tensors outputs);
}
