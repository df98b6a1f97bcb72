package dev.nearline.core.internal;

import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringListener;
import dev.nearline.api.Tensors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A user's {@link ScoringListener} (and drift observer) behind a guard: whatever it throws, an {@link Error}
 * included, is caught, counted and logged once at WARN (later failures at DEBUG), and never fails or delays
 * a record beyond the call itself. Thread-safe.
 */
final class GuardedListener implements ScoringListener {
    /** Created on first use: only a failing listener logs, and SLF4J's start-up shows in a cold start. */
    private static final class Log {
        static final Logger LOG = LoggerFactory.getLogger(GuardedListener.class);
    }

    private final String pipeline;
    private final ScoringListener delegate;
    private final RecordObserver observer;
    private final AtomicBoolean warned = new AtomicBoolean();
    private final AtomicLong failures = new AtomicLong();

    GuardedListener(String pipeline, ScoringListener delegate, RecordObserver observer) {
        this.pipeline = pipeline;
        this.delegate = delegate;
        this.observer = observer;
    }

    @Override
    public int timingInterval() {
        try {
            return Math.max(1, delegate.timingInterval());
        } catch (Throwable e) { // NOPMD: see class doc
            failed("timingInterval", e);
            return 1;
        }
    }

    @Override
    public void gauges(IntSupplier inFlight, IntSupplier queueDepth) {
        try {
            delegate.gauges(inFlight, queueDepth);
        } catch (Throwable e) { // NOPMD: see class doc
            failed("gauges", e);
        }
    }

    @Override
    public void recordScored(String p, long queueNanos, long inputNanos, long inferNanos, long outputNanos) {
        try {
            delegate.recordScored(p, queueNanos, inputNanos, inferNanos, outputNanos);
        } catch (Throwable e) { // NOPMD: see class doc
            failed("recordScored", e);
        }
    }

    @Override
    public void recordFailed(String p, ScoringException.Kind kind, long totalNanos) {
        try {
            delegate.recordFailed(p, kind, totalNanos);
        } catch (Throwable e) { // NOPMD: see class doc
            failed("recordFailed", e);
        }
    }

    @Override
    public void stepCompleted(String p, String step, int batchSize, long nanos) {
        try {
            delegate.stepCompleted(p, step, batchSize, nanos);
        } catch (Throwable e) { // NOPMD: see class doc
            failed("stepCompleted", e);
        }
    }

    /** Passes a scored record's tensors to the observer (the drift monitor), guarded like the events. */
    void observe(Object record, Tensors inputs, Tensors outputs, Object result) {
        try {
            observer.observe(record, inputs, outputs, result);
        } catch (Throwable e) { // NOPMD: see class doc
            failed("observe", e);
        }
    }

    /** How many listener or observer calls threw. */
    long failures() {
        return failures.get();
    }

    private void failed(String event, Throwable e) {
        failures.incrementAndGet();
        if (warned.compareAndSet(false, true)) {
            Log.LOG.warn("pipeline '{}': a listener threw from {}; the record is unaffected, and later listener failures "
                    + "are logged at DEBUG", pipeline, event, e);
        } else if (Log.LOG.isDebugEnabled()) {
            Log.LOG.debug("pipeline '{}': a listener threw from {}: {}", pipeline, event, e.toString());
        }
    }
}
