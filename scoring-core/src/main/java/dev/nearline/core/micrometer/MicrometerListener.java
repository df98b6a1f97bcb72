package dev.nearline.core.micrometer;

import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringListener;
import dev.nearline.core.QualityMonitor;
import dev.nearline.core.internal.quality.QualityBinding;
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
import org.jspecify.annotations.Nullable;

/**
 * A {@link ScoringListener} that records into a Micrometer {@link MeterRegistry}, so a host can export
 * Prometheus (or any Micrometer backend) metrics. Time is split as NVIDIA Triton splits it (queue, compute input,
 * compute infer, compute output), but the names, units and types are Nearline's: a Triton dashboard needs its
 * queries rewritten, as the metrics reference in the project README shows (Prometheus names in brackets):
 *
 * <ul>
 *   <li>{@code nearline.request.success} [{@code nearline_request_success_total}] and
 *       {@code nearline.request.failure} with tag {@code reason} = the error kind
 *       [{@code nearline_request_failure_total}];
 *   <li>timers {@code nearline.queue.duration}, {@code nearline.compute.input.duration},
 *       {@code nearline.compute.infer.duration}, {@code nearline.compute.output.duration}
 *       [{@code ..._seconds_count}, {@code _sum}, {@code _max}; with {@linkplain #MicrometerListener(MeterRegistry,
 *       String, boolean) percentile histograms} also {@code _bucket}];
 *   <li>{@code nearline.step.duration} (timer) and {@code nearline.batch.size} (summary) with tag
 *       {@code step};
 *   <li>gauges {@code nearline.inflight} and {@code nearline.queue.depth} registered when the scorer is built.
 * </ul>
 *
 * <p>When the pipeline has a {@link QualityMonitor}, its metrics too, read from one monitor snapshot at most a
 * second old:
 *
 * <ul>
 *   <li>function counters {@code nearline.quality.predictions} with tag {@code state} ({@code tracked},
 *       {@code untracked}, {@code replaced}, {@code evicted}, {@code expired}), {@code nearline.quality.labels}
 *       with tag {@code outcome} ({@code joined}, {@code unknown}, {@code expired}, {@code duplicate},
 *       {@code invalid}), {@code nearline.quality.labels.out.of.order}, and the gauge
 *       {@code nearline.quality.pending};
 *   <li>per model version, gauges with tags {@code version}, {@code window} ({@code records}: the last labelled
 *       records; {@code period}: the last period of time) and {@code model} ({@code champion}; with a challenger
 *       also {@code champion_sampled} and {@code challenger}, on the same sampled records):
 *       {@code nearline.quality.labelled} (pairs in the window) and the metrics of the task among
 *       {@code nearline.quality.auc}, {@code .auc.error.bound}, {@code .log.loss}, {@code .brier},
 *       {@code .precision}, {@code .recall}, {@code .accuracy}, {@code .mae}, {@code .rmse} ({@code NaN} while
 *       undefined);
 *   <li>with a challenger: function counters {@code nearline.challenger.records} with tag {@code outcome}
 *       ({@code sampled}, {@code scored}, {@code dropped}, {@code failed}) and per version the gauges
 *       {@code nearline.challenger.agreement}, {@code nearline.challenger.score.difference.mean} and
 *       {@code nearline.challenger.score.difference} with tag {@code quantile} (0.05, 0.5, 0.95).
 * </ul>
 *
 * Every meter carries the tag {@code pipeline}. Thread-safe.
 */
public final class MicrometerListener implements ScoringListener, QualityBinding {
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
    private final boolean histograms;
    private volatile @Nullable QualityMeters quality;

    /**
     * A listener for the pipeline named {@code pipeline}, registering its meters in {@code registry}; timers publish
     * no percentile histograms.
     */
    public MicrometerListener(MeterRegistry registry, String pipeline) {
        this(registry, pipeline, false);
    }

    /**
     * A listener for the pipeline named {@code pipeline}, registering its meters in {@code registry}. With
     * {@code percentileHistograms} the timers ({@code nearline.queue.duration}, the {@code nearline.compute.*}
     * timers and {@code nearline.step.duration}) also publish histogram buckets, so a backend can compute
     * percentiles across instances (Prometheus: {@code histogram_quantile} over {@code _bucket}); that adds about
     * 70 series per timer and a little work per record, so it is off by default.
     */
    public MicrometerListener(MeterRegistry registry, String pipeline, boolean percentileHistograms) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.pipeline = Objects.requireNonNull(pipeline, "pipeline");
        this.histograms = percentileHistograms;
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

    /**
     * Registers the meters of the pipeline's quality monitor (listed in the class documentation); called by the
     * pipeline builder when the scorer is built. One listener serves one scorer.
     */
    @Override
    public void bindQuality(QualityMonitor monitor) {
        Objects.requireNonNull(monitor, "monitor");
        synchronized (this) {
            if (quality != null) {
                throw new IllegalStateException("this listener already exports a quality monitor; use one per scorer");
            }
            quality = new QualityMeters(registry, pipeline, monitor);
        }
    }

    @Override
    public void recordScored(String pipeline, long queueNanos, long inputNanos, long inferNanos, long outputNanos) {
        QualityMeters q = quality;
        if (q != null) {
            q.checkVersion(); // a new model version gets its gauges from the first record it scores
        }
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
                .publishPercentileHistogram(histograms).register(registry));
        if (nanos >= 0) {
            timer.record(nanos, TimeUnit.NANOSECONDS);
        }
        batchSizes.computeIfAbsent(step, s -> DistributionSummary.builder("nearline.batch.size")
                .tag("pipeline", this.pipeline).tag("step", s).description("records per model call")
                .register(registry)).record(batchSize);
    }

    private Timer timer(String name, String description) {
        return Timer.builder(name).tag("pipeline", pipeline).description(description)
                .publishPercentileHistogram(histograms).register(registry);
    }
}
