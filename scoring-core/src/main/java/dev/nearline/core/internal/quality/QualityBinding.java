package dev.nearline.core.internal.quality;

import dev.nearline.core.QualityMonitor;

/**
 * Implemented by a {@code ScoringListener} that also exports model quality (the Micrometer listener): the
 * pipeline builder hands it the pipeline's quality monitor once the scorer is built.
 */
public interface QualityBinding {

    /** Exports {@code monitor}'s metrics next to the listener's own; called once, by the pipeline builder. */
    void bindQuality(QualityMonitor monitor);
}
