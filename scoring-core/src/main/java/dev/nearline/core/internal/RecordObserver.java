package dev.nearline.core.internal;

import dev.nearline.api.Tensors;

/**
 * Sees each scored record's preprocessed tensors and final model outputs (for model monitoring). Runs on
 * the scoring thread: must be fast, thread-safe and never throw.
 */
@FunctionalInterface
public interface RecordObserver {
    /** Observes nothing. */
    RecordObserver NONE = (inputs, outputs) -> { };

    /** Called after a record was scored successfully. */
    void observe(Tensors inputs, Tensors outputs);
}
