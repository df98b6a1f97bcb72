package dev.nearline.keda;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nearline.api.Scorer;
import dev.nearline.api.Ticker;
import dev.nearline.api.internal.SetOnce;
import dev.nearline.keda.internal.WorkerEngine;
import dev.nearline.keda.internal.WorkerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A queue worker: receive loops take locked request messages from a {@link Transport} in batches,
 * score their records (one {@code scoreAll} call per receive batch, or {@code scoreAsync} per record),
 * send each reply to the request's ReplyTo with the request's MessageId as CorrelationId, and only then
 * settle the request: complete on success, dead-letter {@code INVALID_INPUT}, abandon retryable kinds
 * (on the last delivery, reply with the error and dead-letter). Processing is at-least-once: a request
 * whose lock is lost may be scored and answered twice, with the same reply MessageId.
 *
 * <p>Thread-safe. The worker owns the scorer and the transport (and the {@link Builder#payloadStore payload
 * store}, if any): {@link #shutdown()} closes them. Build
 * one with {@link #builder(Scorer, Transport)}, call {@link #start()}, and call {@link #shutdown()} on
 * SIGTERM ({@link WorkerMain} does).
 */
public final class QueueWorker {
    private final WorkerEngine engine;
    private final WorkerMetrics metrics;

    private QueueWorker(WorkerEngine engine, WorkerMetrics metrics) {
        this.engine = engine;
        this.metrics = metrics;
    }

    /**
     * A builder for a worker that scores with {@code scorer} (records are the requests' {@code record}
     * JSON values) and talks to the broker through {@code transport}.
     */
    public static Builder builder(Scorer<? super JsonNode, ?> scorer, Transport transport) {
        return new Builder(scorer, transport);
    }

    /**
     * Starts the receive loops (and the lock renewer when lock renewal is on).
     *
     * @throws IllegalStateException if called twice
     */
    public void start() {
        engine.start();
    }

    /**
     * Whether the worker can receive and settle: started, not shutting down, and the broker answers. The
     * worker probes the broker every second ({@link Transport#probe()}); a failed or late probe, a failed
     * receive, or a reply or settlement that timed out makes it unready until the broker answers again
     * (a probe succeeds, a receive returns messages, a call completes).
     */
    public boolean isReady() {
        return engine.isReady();
    }

    /**
     * Whether the process is healthy, judged by receive progress: false when no receive call returned within
     * the stall window (stall timeout + batch wait + backoff), counting a receive that returned no messages
     * only while the broker answers; or when a receive loop died or is stuck in one receive call. A worker
     * idle on an empty queue is live; one whose in-flight slots are all held so that it cannot receive, or
     * whose broker stays out of reach, is not.
     */
    public boolean isLive() {
        return engine.isLive();
    }

    /** Messages received and not yet settled or released (after a timed-out call). */
    public int inFlight() {
        return engine.inFlight();
    }

    /** The registry holding the worker's meters ({@code nearline.worker.*}). */
    public MeterRegistry meterRegistry() {
        return metrics.registry();
    }

    /**
     * The graceful stop that SIGTERM triggers, finished within the grace period: stops receiving, waits up
     * to the drain timeout for in-flight messages to be replied to and settled (transport calls still
     * pending then are given up), abandons the rest so that the broker redelivers them at once (within a
     * third of the time the grace period leaves after the drain), then closes the transport and the
     * scorer (within another third; a close that hangs is left behind). Idempotent and safe from any
     * thread; concurrent callers wait for the first call.
     */
    public ShutdownSummary shutdown() {
        WorkerEngine.Summary s = engine.shutdown();
        return new ShutdownSummary(s.drained(), s.abandoned(), s.took());
    }

    /**
     * What {@link #shutdown()} did.
     *
     * @param drained   messages settled while draining
     * @param abandoned messages abandoned because the drain timeout passed first
     * @param took      how long the shutdown took
     */
    public record ShutdownSummary(int drained, int abandoned, Duration took) {
    }

    /**
     * Options of a {@link QueueWorker}; each settable once. Not thread-safe; use once.
     */
    public static final class Builder {
        private final Scorer<? super JsonNode, ?> scorer;
        private final Transport transport;
        private @Nullable String name;
        private int concurrency = -1;
        private int maxBatchSize = -1;
        private @Nullable Duration batchWait;
        private int maxInFlight = -1;
        private @Nullable Boolean batching;
        private int maxDeliveryCount = -1;
        private @Nullable Duration lockRenewalMargin;
        private @Nullable Duration drainTimeout;
        private @Nullable Duration backoff;
        private @Nullable Duration stallTimeout;
        private @Nullable Duration lockDuration;
        private @Nullable Duration gracePeriod;
        private @Nullable MeterRegistry meterRegistry;
        private @Nullable InstantSource clock;
        private @Nullable Ticker ticker;
        private @Nullable BlobPayloadStore payloadStore;
        private boolean built;

        private Builder(Scorer<? super JsonNode, ?> scorer, Transport transport) {
            this.scorer = Objects.requireNonNull(scorer, "scorer");
            this.transport = Objects.requireNonNull(transport, "transport");
        }

        /** The worker's name, used in logs and thread names. Default {@code worker}. */
        public Builder name(String name) {
            this.name = SetOnce.check(this.name, Objects.requireNonNull(name, "name"), "name");
            return this;
        }

        /** Receive loops, each taking one batch at a time. Default 2. */
        public Builder concurrency(int loops) {
            this.concurrency = SetOnce.check(concurrency, -1, requireAtLeast(loops, 1, "concurrency"), "concurrency");
            return this;
        }

        /** Most messages one receive call takes (and one {@code scoreAll} call scores). Default 32. */
        public Builder maxBatchSize(int messages) {
            this.maxBatchSize = SetOnce.check(maxBatchSize, -1, requireAtLeast(messages, 1, "maxBatchSize"), "maxBatchSize");
            return this;
        }

        /** How long a receive call waits for its first message. Default 1 s. */
        public Builder batchWait(Duration wait) {
            this.batchWait = SetOnce.check(batchWait, requirePositive(wait, "batchWait"), "batchWait");
            return this;
        }

        /**
         * Most messages received and not yet settled, across all loops: bounds the locks a slow model can
         * hold. Default {@code 2 * concurrency * maxBatchSize}.
         */
        public Builder maxInFlight(int messages) {
            this.maxInFlight = SetOnce.check(maxInFlight, -1, requireAtLeast(messages, 1, "maxInFlight"), "maxInFlight");
            return this;
        }

        /**
         * Whether the records of one receive batch go to the scorer as one {@code scoreAll} call (true,
         * the default) or one {@code scoreAsync} call each (false, for pipelines whose engine batches
         * across calls).
         */
        public Builder batching(boolean on) {
            this.batching = SetOnce.check(batching, on, "batching");
            return this;
        }

        /**
         * The request entity's MaxDeliveryCount: on that delivery, a retryable failure is answered with an
         * error reply and dead-lettered instead of abandoned. Default 10, as on Azure Service Bus.
         */
        public Builder maxDeliveryCount(int count) {
            this.maxDeliveryCount = SetOnce.check(maxDeliveryCount, -1, requireAtLeast(count, 1, "maxDeliveryCount"),
                    "maxDeliveryCount");
            return this;
        }

        /**
         * Renew the lock of an in-flight message when it expires within this margin;
         * {@link Duration#ZERO} turns renewal off. Default 10 s.
         */
        public Builder lockRenewalMargin(Duration margin) {
            if (margin.isNegative()) {
                throw new IllegalArgumentException("lockRenewalMargin must not be negative, got " + margin);
            }
            this.lockRenewalMargin = SetOnce.check(lockRenewalMargin, margin, "lockRenewalMargin");
            return this;
        }

        /**
         * How long {@link QueueWorker#shutdown()} waits for in-flight messages. Default 20 s. Must be at
         * least 1 s shorter than the {@link #gracePeriod grace period}.
         */
        public Builder drainTimeout(Duration timeout) {
            if (timeout.isNegative()) {
                throw new IllegalArgumentException("drainTimeout must not be negative, got " + timeout);
            }
            this.drainTimeout = SetOnce.check(drainTimeout, timeout, "drainTimeout");
            return this;
        }

        /**
         * How long receiving pauses after an OVERLOADED or UNAVAILABLE outcome or a failed receive.
         * Default 1 s.
         */
        public Builder backoff(Duration pause) {
            this.backoff = SetOnce.check(backoff, requirePositive(pause, "backoff"), "backoff");
            return this;
        }

        /**
         * No receive progress for this long (plus one batch wait and one backoff, the longest a healthy
         * loop waits on its own) makes {@link QueueWorker#isLive()} false. Default 2 min.
         */
        public Builder stallTimeout(Duration timeout) {
            this.stallTimeout = SetOnce.check(stallTimeout, requirePositive(timeout, "stallTimeout"), "stallTimeout");
            return this;
        }

        /**
         * The request entity's lock duration (Service Bus: the queue's or subscription's LockDuration,
         * default 60 s). With the drain timeout it sets the bound on every reply, settle and lock-renewal
         * call: {@code max(1 s, min(lockDuration / 4, drainTimeout / 2))}. Default 60 s.
         */
        public Builder lockDuration(Duration duration) {
            this.lockDuration = SetOnce.check(lockDuration, requirePositive(duration, "lockDuration"), "lockDuration");
            return this;
        }

        /**
         * Time from SIGTERM to SIGKILL, the pod's {@code terminationGracePeriodSeconds}:
         * {@link QueueWorker#shutdown()} returns within it, after the drain timeout plus two thirds of
         * what is left. Default 30 s, the Kubernetes default.
         */
        public Builder gracePeriod(Duration period) {
            this.gracePeriod = SetOnce.check(gracePeriod, requirePositive(period, "gracePeriod"), "gracePeriod");
            return this;
        }

        /** Where the worker's meters go. Default: a new {@code SimpleMeterRegistry}. */
        public Builder meterRegistry(MeterRegistry registry) {
            this.meterRegistry = SetOnce.check(meterRegistry, Objects.requireNonNull(registry, "registry"),
                    "meterRegistry");
            return this;
        }

        /**
         * The claim-check store: requests may then carry their record by reference ({@code recordRef}), and a
         * reply body larger than the store's threshold goes by reference ({@code outputRef}); the request's
         * blob is deleted once the request is completed. The worker owns the store from then on. Default
         * none: requests by reference fail {@code INVALID_INPUT}.
         */
        public Builder payloadStore(BlobPayloadStore store) {
            this.payloadStore = SetOnce.check(payloadStore, Objects.requireNonNull(store, "store"), "payloadStore");
            return this;
        }

        /** Wall-clock time for deadlines and lock expiry (tests pass a fixed one). Default the system clock. */
        public Builder clock(InstantSource clock) {
            this.clock = SetOnce.check(this.clock, Objects.requireNonNull(clock, "clock"), "clock");
            return this;
        }

        /** Time for durations and timings. Default {@link Ticker#system()}. */
        public Builder ticker(Ticker ticker) {
            this.ticker = SetOnce.check(this.ticker, Objects.requireNonNull(ticker, "ticker"), "ticker");
            return this;
        }

        /**
         * Builds the worker; it does nothing until {@link QueueWorker#start()}.
         *
         * @throws IllegalStateException if called twice
         * @throws IllegalArgumentException if the grace period does not exceed the drain timeout by 1 s
         */
        public QueueWorker build() {
            SetOnce.checkNotBuilt(built);
            int loops = concurrency == -1 ? 2 : concurrency;
            int batch = maxBatchSize == -1 ? 32 : maxBatchSize;
            WorkerEngine.Options options = new WorkerEngine.Options(
                    name == null ? "worker" : name, loops, batch,
                    batchWait == null ? Duration.ofSeconds(1) : batchWait,
                    maxInFlight == -1 ? 2 * loops * batch : maxInFlight,
                    batching == null || batching,
                    maxDeliveryCount == -1 ? 10 : maxDeliveryCount,
                    lockRenewalMargin == null ? Duration.ofSeconds(10) : lockRenewalMargin,
                    drainTimeout == null ? Duration.ofSeconds(20) : drainTimeout,
                    backoff == null ? Duration.ofSeconds(1) : backoff,
                    stallTimeout == null ? Duration.ofMinutes(2) : stallTimeout,
                    lockDuration == null ? Duration.ofSeconds(60) : lockDuration,
                    gracePeriod == null ? Duration.ofSeconds(30) : gracePeriod);
            built = true;
            MeterRegistry registry = meterRegistry == null ? new SimpleMeterRegistry() : meterRegistry;
            WorkerEngine[] ref = new WorkerEngine[1];
            WorkerMetrics metrics = new WorkerMetrics(registry, () -> ref[0] == null ? 0 : ref[0].inFlight(),
                    () -> ref[0] != null && ref[0].isReady());
            ref[0] = new WorkerEngine(scorer, transport, payloadStore == null ? null : payloadStore.payloads(), options, metrics,
                    clock == null ? InstantSource.system() : clock, ticker == null ? Ticker.system() : ticker);
            return new QueueWorker(ref[0], metrics);
        }


        private static int requireAtLeast(int value, int min, String property) {
            if (value < min) {
                throw new IllegalArgumentException(property + " must be at least " + min + ", got " + value);
            }
            return value;
        }

        private static Duration requirePositive(Duration d, String property) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(property + " must be positive, got " + d);
            }
            return d;
        }
    }
}
