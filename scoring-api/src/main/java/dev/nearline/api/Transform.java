package dev.nearline.api;

/**
 * A tensor-to-tensor step between models (reshape, cast, feature crosses). It receives every tensor
 * produced so far (preprocessor outputs and earlier model outputs) and returns new tensors, which are
 * added under their names for later steps. Implementations must be thread-safe. A transform sees model
 * outputs rather than raw records, so the engine reports an exception from it as
 * {@link ScoringException.Kind#INTERNAL} (a bug to fix), unless it throws a {@link ScoringException} itself.
 */
@FunctionalInterface
public interface Transform {
    /** The tensors this step adds, computed from {@code tensors}. */
    Tensors transform(Tensors tensors);
}
