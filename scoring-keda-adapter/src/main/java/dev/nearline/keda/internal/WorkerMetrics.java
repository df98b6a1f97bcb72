package dev.nearline.keda.internal;

import dev.nearline.keda.internal.Settlement.Action;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The worker's Micrometer meters. In Prometheus text they read {@code nearline_worker_messages_received_total},
 * {@code nearline_worker_messages_settled_total{outcome,kind}}, {@code nearline_worker_replies_total{result}},
 * {@code nearline_worker_lock_renewals_total{result}}, {@code nearline_worker_settle_failures_total{action}},
 * {@code nearline_worker_transport_timeouts_total{call}}, {@code nearline_worker_receive_failures_total},
 * {@code nearline_worker_scored_total{kind}}, {@code nearline_worker_score_seconds},
 * {@code nearline_worker_batch_size}, {@code nearline_worker_end_to_end_seconds}, {@code nearline_worker_inflight}
 * and {@code nearline_worker_ready}. Thread-safe.
 */
public final class WorkerMetrics {
    private final MeterRegistry registry;
    private final Counter received;
    private final Counter receiveFailures;
    private final Counter repliesSent;
    private final Counter repliesFailed;
    private final Counter renewed;
    private final Counter renewFailed;
    private final Timer score;
    private final Timer endToEnd;
    private final DistributionSummary batchSize;
    private final Map<String, Counter> settled = new ConcurrentHashMap<>();
    private final Map<String, Counter> settleFailures = new ConcurrentHashMap<>();
    private final Map<String, Counter> scored = new ConcurrentHashMap<>();
    private final Map<String, Counter> timeouts = new ConcurrentHashMap<>();

    /**
     * Registers the meters in {@code registry}; {@code inFlight} feeds the in-flight gauge and {@code ready}
     * the readiness gauge (1 ready, 0 not).
     */
    public WorkerMetrics(MeterRegistry registry, Supplier<Number> inFlight, BooleanSupplier ready) {
        this.registry = registry;
        received = Counter.builder("nearline.worker.messages.received")
                .description("request messages received with a lock").register(registry);
        receiveFailures = Counter.builder("nearline.worker.receive.failures")
                .description("receive calls that failed (broker unreachable)").register(registry);
        repliesSent = Counter.builder("nearline.worker.replies").tag("result", "sent")
                .description("replies sent to the requests' ReplyTo").register(registry);
        repliesFailed = Counter.builder("nearline.worker.replies").tag("result", "failed")
                .description("replies sent to the requests' ReplyTo").register(registry);
        renewed = Counter.builder("nearline.worker.lock.renewals").tag("result", "renewed")
                .description("message lock renewals while a record was being scored").register(registry);
        renewFailed = Counter.builder("nearline.worker.lock.renewals").tag("result", "failed")
                .description("message lock renewals while a record was being scored").register(registry);
        score = Timer.builder("nearline.worker.score")
                .description("time in the scorer per call (one batch, or one record without batching)")
                .publishPercentileHistogram().register(registry);
        endToEnd = Timer.builder("nearline.worker.end.to.end")
                .description("from receive to settled, per message").publishPercentileHistogram().register(registry);
        batchSize = DistributionSummary.builder("nearline.worker.batch.size")
                .description("messages per receive call").register(registry);
        Gauge.builder("nearline.worker.inflight", inFlight).description("messages received and not yet settled")
                .register(registry);
        Gauge.builder("nearline.worker.ready", () -> ready.getAsBoolean() ? 1 : 0)
                .description("1 while the worker is ready (what /health/ready answers), else 0").register(registry);
    }

    /** The registry the meters live in. */
    public MeterRegistry registry() {
        return registry;
    }

    void received(int n) {
        received.increment(n);
        batchSize.record(n);
    }

    void receiveFailed() {
        receiveFailures.increment();
    }

    void reply(boolean ok) {
        (ok ? repliesSent : repliesFailed).increment();
    }

    void renewal(boolean ok) {
        (ok ? renewed : renewFailed).increment();
    }

    void scored(String kind, int n) {
        scored.computeIfAbsent(kind, k -> Counter.builder("nearline.worker.scored").tag("kind", k)
                .description("records scored, by outcome kind (OK or the failure kind)").register(registry)).increment(n);
    }

    void scoreNanos(long nanos) {
        score.record(nanos, TimeUnit.NANOSECONDS);
    }

    void settled(Action action, String kind, long endToEndNanos) {
        String outcome = action.name().toLowerCase(Locale.ROOT);
        settled.computeIfAbsent(outcome + "/" + kind, k -> Counter.builder("nearline.worker.messages.settled")
                .tag("outcome", outcome).tag("kind", kind)
                .description("request messages settled, by action and outcome kind").register(registry)).increment();
        endToEnd.record(Duration.ofNanos(endToEndNanos));
    }

    void timedOut(String call) {
        timeouts.computeIfAbsent(call, k -> Counter.builder("nearline.worker.transport.timeouts").tag("call", k)
                .description("transport calls the worker stopped waiting for; a reply or settlement that timed out "
                        + "frees its slot and leaves the message to the broker's redelivery").register(registry)).increment();
    }

    void settleFailed(Action action) {
        String a = action.name().toLowerCase(Locale.ROOT);
        settleFailures.computeIfAbsent(a, k -> Counter.builder("nearline.worker.settle.failures").tag("action", k)
                .description("settlements the broker refused (lock lost); the message is redelivered")
                .register(registry)).increment();
    }
}
