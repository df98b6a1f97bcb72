package dev.nearline.core;

/**
 * What {@link QualityMonitor#feedback} did with a label. Every label gets exactly one outcome and is counted
 * under it in {@link QualitySnapshot.Labels}; none of them is an error to the caller, so a host can settle the
 * feedback message whatever the outcome (a label that cannot be joined now never can be).
 */
public enum FeedbackOutcome {
    /** The label was joined with its prediction and counts in the quality metrics. */
    JOINED,
    /**
     * No prediction with this id is held: it was never scored (or not yet: labels do not wait for their
     * predictions), it had no readable prediction, or it was evicted to keep the store within its capacity.
     */
    UNKNOWN,
    /** The prediction was held longer than the time-to-live; the label is discarded. */
    EXPIRED,
    /** The prediction already has a label; the first label stands and this one is discarded. */
    DUPLICATE,
    /**
     * The label is not a label of this task: not 0 or 1 for a binary classifier, not a known class for a
     * multi-class one, not a finite number for a regression.
     */
    INVALID
}
