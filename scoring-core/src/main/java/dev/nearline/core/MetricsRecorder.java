package dev.nearline.core;

import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringListener;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The built-in {@link ScoringListener}: latency histograms per phase and per model step (HdrHistogram,
 * microsecond resolution up to one hour), record counts, failures by kind, batch sizes, and the
 * in-flight and queue-depth gauges of the scorer it is attached to. {@link #snapshot()} reads it all at
 * once; histograms are cumulative since the recorder was created.
 *
 * <p>Thread-safe; recording is wait-free. One recorder per scorer: pass it to
 * {@link Pipeline.Builder#listener(ScoringListener)} or {@link Pipeline#load(java.nio.file.Path, ScoringListener)}.
 */
public final class MetricsRecorder implements ScoringListener {
    private static final long MAX_MICROS = TimeUnit.HOURS.toMicros(1);

    private final Phase queue = new Phase();
    private final Phase input = new Phase();
    private final Phase infer = new Phase();
    private final Phase output = new Phase();
    private final Phase total = new Phase();
    private final Map<String, Phase> steps = new ConcurrentHashMap<>();
    private final Map<String, Phase> batchSizes = new ConcurrentHashMap<>();
    private final LongAdder scored = new LongAdder();
    private final EnumMap<ScoringException.Kind, LongAdder> failures = new EnumMap<>(ScoringException.Kind.class);
    private volatile IntSupplier inFlight = () -> 0;
    private volatile IntSupplier queueDepth = () -> 0;

    /** An empty recorder. */
    public MetricsRecorder() {
        for (ScoringException.Kind k : ScoringException.Kind.values()) {
            failures.put(k, new LongAdder());
        }
    }

    /** Connects the gauges of the scorer this recorder listens to; called by the engine. */
    public void attach(IntSupplier inFlight, IntSupplier queueDepth) {
        this.inFlight = inFlight;
        this.queueDepth = queueDepth;
    }

    @Override
    public void recordScored(String pipeline, long queueNanos, long inputNanos, long inferNanos, long outputNanos) {
        scored.increment();
        queue.record(queueNanos);
        input.record(inputNanos);
        infer.record(inferNanos);
        output.record(outputNanos);
        total.record(queueNanos + inputNanos + inferNanos + outputNanos);
    }

    @Override
    public void recordFailed(String pipeline, ScoringException.Kind kind, long totalNanos) {
        failures.get(kind).increment();
    }

    @Override
    public void stepCompleted(String pipeline, String step, int batchSize, long nanos) {
        steps.computeIfAbsent(step, s -> new Phase()).record(nanos);
        batchSizes.computeIfAbsent(step, s -> new Phase()).recorder.recordValue(Math.max(1, batchSize));
    }

    /** Everything recorded so far, read at once. */
    public MetricsSnapshot snapshot() {
        Map<ScoringException.Kind, Long> failed = new EnumMap<>(ScoringException.Kind.class);
        failures.forEach((k, v) -> failed.put(k, v.sum()));
        Map<String, MetricsSnapshot.Distribution> stepLatency = new java.util.TreeMap<>();
        steps.forEach((k, v) -> stepLatency.put(k, v.latency()));
        Map<String, MetricsSnapshot.Distribution> batch = new java.util.TreeMap<>();
        batchSizes.forEach((k, v) -> batch.put(k, v.raw()));
        return new MetricsSnapshot(scored.sum(), failed, queue.latency(), input.latency(), infer.latency(),
                output.latency(), total.latency(), stepLatency, batch, inFlight.getAsInt(), queueDepth.getAsInt());
    }

    /** One cumulative histogram fed through a wait-free recorder. */
    private static final class Phase {
        final Recorder recorder = new Recorder(MAX_MICROS, 3);
        private final Histogram cumulative = new Histogram(MAX_MICROS, 3);
        private Histogram interval;

        void record(long nanos) {
            recorder.recordValue(Math.min(MAX_MICROS, Math.max(0, nanos / 1000)));
        }

        synchronized MetricsSnapshot.Distribution latency() {
            interval = recorder.getIntervalHistogram(interval);
            cumulative.add(interval);
            return MetricsSnapshot.Distribution.of(cumulative, 1000);
        }

        synchronized MetricsSnapshot.Distribution raw() {
            interval = recorder.getIntervalHistogram(interval);
            cumulative.add(interval);
            return MetricsSnapshot.Distribution.of(cumulative, 1);
        }
    }
}
