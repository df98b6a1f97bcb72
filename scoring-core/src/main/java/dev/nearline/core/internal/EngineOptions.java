package dev.nearline.core.internal;

import dev.nearline.api.ScoringListener;
import dev.nearline.api.Ticker;
import dev.nearline.core.DriftMonitor;
import dev.nearline.core.Pipeline;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Settings of an {@link Engine}, gathered by the public builders ({@code Pipeline.Builder}, the JSON loader),
 * which check their ranges; this record checks only what the engine cannot run without.
 *
 * @param name            the pipeline's name, in messages, logs, metrics and thread names
 * @param ticker          the time source of deadlines and timings
 * @param defaultTimeout  every record's deadline unless the call gives one, or null for none
 * @param closeGracePeriod how long {@code close()} waits for records in flight
 * @param asyncThreads    threads of the async pool
 * @param asyncQueueCapacity records the async pool may queue
 * @param maxInFlight     records in flight at most, or 0 for no bound
 * @param listener        timing and outcome events
 * @param batching        micro-batching, or null for none
 * @param warmupRecords   synthetic records per model at build
 * @param observer        sees each scored record (the drift monitor)
 * @param monitor         the drift monitor, or null
 */
public record EngineOptions(String name, Ticker ticker, @Nullable Duration defaultTimeout, Duration closeGracePeriod,
                            int asyncThreads, int asyncQueueCapacity, int maxInFlight, ScoringListener listener,
                            @Nullable Batching batching, int warmupRecords, RecordObserver observer,
                            @Nullable DriftMonitor monitor) {
    /** Validates. */
    public EngineOptions {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(ticker, "ticker");
        Objects.requireNonNull(closeGracePeriod, "closeGracePeriod");
        Objects.requireNonNull(listener, "listener");
        Objects.requireNonNull(observer, "observer");
        if (asyncThreads < 1) {
            throw new IllegalArgumentException("asyncThreads must be at least 1, got " + asyncThreads);
        }
        if (asyncQueueCapacity < 1) {
            throw new IllegalArgumentException("asyncQueueCapacity must be at least 1, got " + asyncQueueCapacity);
        }
    }

    /**
     * Micro-batching settings.
     *
     * @param maxBatchSize  records per model call at most
     * @param maxQueueDelay how long the first record of a batch waits for company at most
     * @param threads       dispatcher threads
     * @param sync          when synchronous {@code score} calls join batches
     */
    public record Batching(int maxBatchSize, Duration maxQueueDelay, int threads, Pipeline.BatchMode sync) {
        /** Validates. */
        public Batching {
            if (maxBatchSize < 1) {
                throw new IllegalArgumentException("maxBatchSize must be at least 1, got " + maxBatchSize);
            }
            if (maxQueueDelay.isNegative()) {
                throw new IllegalArgumentException("maxQueueDelay must not be negative, got " + maxQueueDelay);
            }
            if (threads < 1) {
                throw new IllegalArgumentException("batching threads must be at least 1, got " + threads);
            }
            Objects.requireNonNull(sync, "sync");
        }
    }
}
