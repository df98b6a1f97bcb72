package dev.nearline.core.micrometer;

import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * A {@link ScoringListener} that records into a Micrometer {@link MeterRegistry}, so a host can export
 * Prometheus (or any Micrometer backend) metrics. Names follow NVIDIA Triton's split of time and failure
 * counts, so Triton dashboards carry over (Prometheus names in brackets):
 *
 * <ul>
 *   <li>{@code nearline.request.success} [{@code nearline_request_success_total}] and
 *       {@code nearline.request.failure} with tag {@code reason} = the error kind
 *       [{@code nearline_request_failure_total}];
 *   <li>timers {@code nearline.queue.duration}, {@code nearline.compute.input.duration},
 *       {@code nearline.compute.infer.duration}, {@code nearline.compute.output.duration}
 *       [{@code ..._seconds}];
 *   <li>{@code nearline.step.duration} (timer) and {@code nearline.batch.size} (summary) with tag
 *       {@code step};
 *   <li>gauges {@code nearline.inflight} and {@code nearline.queue.depth} registered when the scorer is built.
 * </ul>
 *
 * Every meter carries the tag {@code pipeline}. Thread-safe.
 */
public final class MicrometerListener implements ScoringListener {
    private final MeterRegistry registry;
    private final String pipeline;
    private final Counter success;
    private final Map<ScoringException.Kind, Counter> failures = new EnumMap<>(ScoringException.Kind.class);
    private final Timer queue;
    private final Timer input;
    private final Timer infer;
    private final Timer output;
    private final Map<String, Timer> steps = new ConcurrentHashMap<>();
    private final Map<String, DistributionSummary> batchSizes = new ConcurrentHashMap<>();

    /** A listener for the pipeline named {@code pipeline}, registering its meters in {@code registry}. */
    public MicrometerListener(MeterRegistry registry, String pipeline) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.pipeline = Objects.requireNonNull(pipeline, "pipeline");
        this.success = Counter.builder("nearline.request.success").tag("pipeline", pipeline)
                .description("records scored").register(registry);
        for (ScoringException.Kind k : ScoringException.Kind.values()) {
            failures.put(k, Counter.builder("nearline.request.failure").tag("pipeline", pipeline)
                    .tag("reason", k.name()).description("records that failed, by reason").register(registry));
        }
        this.queue = timer("nearline.queue.duration", "time waiting for an async thread or a batch");
        this.input = timer("nearline.compute.input.duration", "preprocessing and input checks");
        this.infer = timer("nearline.compute.infer.duration", "model steps");
        this.output = timer("nearline.compute.output.duration", "postprocessing");
    }

    /**
     * Registers the in-flight and queue-depth gauges of the scorer this listener was built into; called by the
     * engine. One listener serves one scorer: the gauges hold on to it for the registry's lifetime.
     */
    @Override
    public void gauges(IntSupplier inFlight, IntSupplier queueDepth) {
        Gauge.builder("nearline.inflight", inFlight::getAsInt).tag("pipeline", pipeline).strongReference(true)
                .description("records being scored").register(registry);
        Gauge.builder("nearline.queue.depth", queueDepth::getAsInt).tag("pipeline", pipeline).strongReference(true)
                .description("records waiting for a thread or a batch").register(registry);
    }

    @Override
    public void recordScored(String pipeline, long queueNanos, long inputNanos, long inferNanos, long outputNanos) {
        success.increment();
        if (queueNanos < 0) {
            return; // not timed
        }
        queue.record(queueNanos, TimeUnit.NANOSECONDS);
        input.record(inputNanos, TimeUnit.NANOSECONDS);
        infer.record(inferNanos, TimeUnit.NANOSECONDS);
        output.record(outputNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void recordFailed(String pipeline, ScoringException.Kind kind, long totalNanos) {
        failures.get(kind).increment();
    }

    @Override
    public void stepCompleted(String pipeline, String step, int batchSize, long nanos) {
        Timer timer = steps.computeIfAbsent(step, s -> Timer.builder("nearline.step.duration")
                .tag("pipeline", this.pipeline).tag("step", s).description("duration of one model call")
                .register(registry));
        if (nanos >= 0) {
            timer.record(nanos, TimeUnit.NANOSECONDS);
        }
        batchSizes.computeIfAbsent(step, s -> DistributionSummary.builder("nearline.batch.size")
                .tag("pipeline", this.pipeline).tag("step", s).description("records per model call")
                .register(registry)).record(batchSize);
    }

    private Timer timer(String name, String description) {
        return Timer.builder(name).tag("pipeline", pipeline).description(description).register(registry);
    }
}
