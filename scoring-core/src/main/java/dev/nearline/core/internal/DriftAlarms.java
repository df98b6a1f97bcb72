package dev.nearline.core.internal;

import dev.nearline.core.DriftEvent;
import dev.nearline.core.DriftListener;
import dev.nearline.core.DriftMonitor;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When a drift monitor speaks up, and to whom: compares each column's PSI with the threshold, raises one
 * event per upward crossing (re-armed once the PSI has fallen back to the threshold or below), and hands
 * the events to the listener, guarded, or logs them at WARN without one.
 *
 * <p>{@link #layout} and {@link #check} are called under the monitor's lock (they share the per-column
 * alarm state); {@link #publish} after it is released, from any thread.
 */
final class DriftAlarms {
    /** The monitor's logger: the name users configure. */
    private static final Logger log = LoggerFactory.getLogger(DriftMonitor.class);

    private final double threshold;
    private final @Nullable DriftListener listener;
    private final AtomicBoolean warnedListener = new AtomicBoolean();
    // Guarded by the monitor's lock.
    private List<String> names = List.of();
    private boolean[] alarmed = new boolean[0];

    DriftAlarms(double threshold, @Nullable DriftListener listener) {
        this.threshold = threshold;
        this.listener = listener;
    }

    /** Sets the columns, all quiet. */
    void layout(List<String> columnNames) {
        names = columnNames;
        alarmed = new boolean[columnNames.size()];
    }

    /** Compares each column's PSI with the threshold; the events of upward crossings, or null. */
    DriftEvent @Nullable [] check(DriftWindow w) {
        if (!w.isFull()) {
            // A part-filled window is too small a sample: it would raise false alarms.
            return null;
        }
        DriftEvent[] events = null;
        int k = 0;
        for (int c = 0; c < alarmed.length; c++) {
            double psi = w.psi(c);
            if (psi > threshold) {
                if (!alarmed[c]) {
                    alarmed[c] = true;
                    if (events == null) {
                        events = new DriftEvent[alarmed.length];
                    }
                    events[k++] = new DriftEvent(names.get(c), psi, threshold, w.size());
                }
            } else if (psi <= threshold) {
                alarmed[c] = false;
            }
        }
        return events;
    }

    /** Hands events from {@link #check} (null-terminated) to the listener; what it throws is logged once. */
    void publish(DriftEvent[] events) {
        for (DriftEvent e : events) {
            if (e == null) {
                break;
            }
            if (listener == null) {
                log.warn("drift: PSI of '{}' is {} over the last {} records, above the threshold {}", e.name(),
                        String.format(Locale.ROOT, "%.4f", e.psi()), e.windowCount(), e.threshold());
                continue;
            }
            try {
                listener.onDrift(e);
            } catch (RuntimeException | Error t) {
                if (warnedListener.compareAndSet(false, true)) {
                    log.warn("drift listener {} threw (logged once): {}", listener, t.toString(), t);
                }
            }
        }
    }
}
