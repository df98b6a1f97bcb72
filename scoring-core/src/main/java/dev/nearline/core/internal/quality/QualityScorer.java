package dev.nearline.core.internal.quality;

import dev.nearline.api.Model;
import dev.nearline.api.Outcome;
import dev.nearline.core.DriftMonitor;
import dev.nearline.core.ManagedScorer;
import dev.nearline.core.QualityMonitor;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A scorer with a quality monitor: the engine does the scoring (its observer feeds the monitor); this layer
 * starts a new model version when {@link #swapModel} replaces a model, and on {@link #close()} closes the
 * challenger after the engine. Thread-safe.
 *
 * @param <I> record type
 * @param <O> result type
 */
public final class QualityScorer<I, O> implements ManagedScorer<I, O> {
    private final ManagedScorer<I, O> engine;
    private final QualityMonitor monitor;
    private final Tracker tracker;
    private final Duration closeGracePeriod;
    /** The model each model step runs now, to tell a real swap from a swap to the same model. */
    private final Map<String, Model> models;

    /**
     * Wraps {@code engine}, whose observer feeds {@code tracker} (the tracker of {@code monitor}); {@code models}
     * maps each model step to its model.
     */
    public QualityScorer(ManagedScorer<I, O> engine, QualityMonitor monitor, Tracker tracker,
                         Map<String, Model> models, Duration closeGracePeriod) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.monitor = Objects.requireNonNull(monitor, "monitor");
        this.tracker = Objects.requireNonNull(tracker, "tracker");
        this.models = new HashMap<>(models);
        this.closeGracePeriod = closeGracePeriod;
    }

    @Override
    public O score(I record) {
        return engine.score(record);
    }

    @Override
    public O score(I record, Duration timeout) {
        return engine.score(record, timeout);
    }

    @Override
    public CompletableFuture<O> scoreAsync(I record) {
        return engine.scoreAsync(record);
    }

    @Override
    public CompletableFuture<O> scoreAsync(I record, Duration timeout) {
        return engine.scoreAsync(record, timeout);
    }

    @Override
    public List<Outcome<O>> scoreAll(List<? extends I> records) {
        return engine.scoreAll(records);
    }

    @Override
    public List<Outcome<O>> scoreAll(List<? extends I> records, Duration timeout) {
        return engine.scoreAll(records, timeout);
    }

    @Override
    public String name() {
        return engine.name();
    }

    @Override
    public int inFlight() {
        return engine.inFlight();
    }

    @Override
    public int queueDepth() {
        return engine.queueDepth();
    }

    @Override
    public Optional<DriftMonitor> monitor() {
        return engine.monitor();
    }

    @Override
    public Optional<QualityMonitor> quality() {
        return Optional.of(monitor);
    }

    /**
     * Swaps as the engine does, then starts a new model version unless the step already ran
     * {@code replacement}. Records in flight during the swap may count for either version: the engine does not
     * tell the observer which version scored a record.
     */
    @Override
    public void swapModel(String step, Model replacement) {
        synchronized (models) {
            engine.swapModel(step, replacement);
            Model before = models.put(step, replacement);
            if (before != replacement) {
                tracker.newVersion();
            }
        }
    }

    /** Closes the engine (see {@link ManagedScorer}), then the challenger. Labels are still taken afterwards. */
    @Override
    public void close() {
        try {
            engine.close();
        } finally {
            tracker.close(closeGracePeriod);
        }
    }

    @Override
    public String toString() {
        return engine.toString();
    }
}
