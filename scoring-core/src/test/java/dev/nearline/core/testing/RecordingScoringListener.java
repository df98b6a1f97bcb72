package dev.nearline.core.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringListener;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A {@link ScoringListener} that records every event as a line, so that a test asserts the exact ordered list
 * (the shape of OkHttp's {@code RecordingEventListener}): {@code "stepCompleted fraud 1"},
 * {@code "recordScored"}, {@code "recordFailed INVALID_INPUT"}. Durations are checked for sanity (timed events
 * non-negative, untimed ones exactly -1) and then left out of the line. Thread-safe; events of one record keep
 * their order, events of concurrent records interleave.
 */
public final class RecordingScoringListener implements ScoringListener {
    private final ConcurrentLinkedQueue<String> events = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> badDurations = new ConcurrentLinkedQueue<>();
    private final int timingInterval;

    /** Times every record. */
    public RecordingScoringListener() {
        this(1);
    }

    /** Asks the engine to time about one record in {@code timingInterval}. */
    public RecordingScoringListener(int timingInterval) {
        this.timingInterval = timingInterval;
    }

    @Override
    public int timingInterval() {
        return timingInterval;
    }

    @Override
    public void recordScored(String pipeline, long queueNanos, long inputNanos, long inferNanos, long outputNanos) {
        long[] d = {queueNanos, inputNanos, inferNanos, outputNanos};
        boolean untimed = queueNanos == -1 && inputNanos == -1 && inferNanos == -1 && outputNanos == -1;
        for (long v : d) {
            if (!untimed && v < 0) {
                badDurations.add("recordScored " + java.util.Arrays.toString(d));
            }
        }
        events.add("recordScored");
    }

    @Override
    public void recordFailed(String pipeline, ScoringException.Kind kind, long totalNanos) {
        if (totalNanos < -1) {
            badDurations.add("recordFailed " + totalNanos);
        }
        events.add("recordFailed " + kind);
    }

    @Override
    public void stepCompleted(String pipeline, String step, int batchSize, long nanos) {
        if (nanos < -1) {
            badDurations.add("stepCompleted " + nanos);
        }
        events.add("stepCompleted " + step + " " + batchSize);
    }

    /** The events so far, oldest first, and forgets them. */
    public List<String> take() {
        List<String> out = new ArrayList<>();
        for (String e; (e = events.poll()) != null; ) {
            out.add(e);
        }
        return out;
    }

    /** Asserts the events so far are exactly {@code expected}, in order, then forgets them. */
    public void assertEvents(String... expected) {
        assertThat(take()).containsExactly(expected);
        assertThat(badDurations).as("events with impossible durations").isEmpty();
    }
}
