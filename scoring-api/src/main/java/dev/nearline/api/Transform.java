package dev.nearline.api;

/**
 * A tensor-to-tensor step between models (reshape, cast, feature crosses). It receives every tensor
 * produced so far (preprocessor outputs and earlier model outputs) and returns new tensors, which are
 * added under their names for later steps. Implementations must be thread-safe.
 */
@FunctionalInterface
public interface Transform {
    /** The tensors this step adds, computed from {@code tensors}. */
    Tensors transform(Tensors tensors);
}
