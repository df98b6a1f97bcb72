package dev.nearline.core;

import dev.nearline.api.Tensors;

/**
 * Watches the distribution of model inputs (per feature) and outputs (the score) over a sliding window
 * and compares it with a reference distribution (population stability index). Thread-safe.
 */
public final class DriftMonitor {

    private DriftMonitor() {
    }

    /**
     * Observes one scored record: its preprocessed tensors and the last step's outputs. Fast, thread-safe,
     * never throws.
     */
    public void observe(Tensors inputs, Tensors outputs) {
        // filled in by the monitoring work
    }
}
