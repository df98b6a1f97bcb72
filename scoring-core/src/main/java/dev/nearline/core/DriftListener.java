package dev.nearline.core;

/**
 * Receives the {@link DriftEvent}s of a {@link DriftMonitor}: one when the population stability index of a
 * feature or of the score rises above the threshold, and none again for that name until it has fallen back
 * to the threshold or below.
 *
 * <p>Called on a scoring thread, after the monitor has released its lock, at most once per name and
 * check. Be fast, never throw (the monitor catches and logs what you throw, once), and never call back
 * into the scorer. Without a listener, the monitor logs each event at WARN.
 */
@FunctionalInterface
public interface DriftListener {

    /** A feature or the score has drifted. */
    void onDrift(DriftEvent event);
}
