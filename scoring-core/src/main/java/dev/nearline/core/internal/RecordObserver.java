package dev.nearline.core.internal;

import dev.nearline.api.Tensors;

/**
 * Sees each scored record's preprocessed tensors and final model outputs (for model monitoring). Runs on
 * the scoring thread: must be fast, thread-safe and never throw.
 */
@FunctionalInterface
public interface RecordObserver {
    /** Observes nothing (a class, not a lambda: see {@link dev.nearline.api.internal.SystemTicker}). */
    RecordObserver NONE = new None();

    /** The class of {@link #NONE}. */
    final class None implements RecordObserver {
        private None() {
        }

        @Override
        public void observe(Object record, Tensors inputs, Tensors outputs, Object result) {
            // nothing
        }
    }

    /**
     * Called after a record was scored successfully, with the record as the caller gave it, its preprocessed
     * tensors, the last step's outputs and the postprocessed result.
     */
    void observe(Object record, Tensors inputs, Tensors outputs, Object result);

    /** Both observers, this one first. */
    default RecordObserver andThen(RecordObserver next) {
        return this == NONE ? next : next == NONE ? this : (record, inputs, outputs, result) -> {
            observe(record, inputs, outputs, result);
            next.observe(record, inputs, outputs, result);
        };
    }
}
