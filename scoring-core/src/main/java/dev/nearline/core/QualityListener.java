package dev.nearline.core;

/**
 * Receives the {@link QualityEvent}s of a {@link QualityMonitor}: one when a metric of a model version crosses
 * its alert threshold over the last labelled records, and none again for that version and metric until it has
 * come back.
 *
 * <p>Called on the thread that gave the label ({@link QualityMonitor#feedback}), after the monitor has released
 * its locks. Be fast, never throw (the monitor catches and logs what you throw, once), and never call back into
 * the scorer. Without a listener, the monitor logs each event at WARN.
 */
@FunctionalInterface
public interface QualityListener {

    /** A metric crossed its threshold. */
    void onQualityAlert(QualityEvent event);
}
