package dev.nearline.core;

import java.util.Objects;

/**
 * The population stability index of one feature, or of the score, rose above the threshold. Carries no
 * feature values, so it is safe to log.
 *
 * @param name        the feature's name, or {@code score}
 * @param psi         the index over the current window, against the reference
 * @param threshold   the threshold it crossed
 * @param windowCount records in the window the index was computed over
 */
public record DriftEvent(String name, double psi, double threshold, long windowCount) {

    /** Checks the name. */
    public DriftEvent {
        Objects.requireNonNull(name, "name");
    }
}
