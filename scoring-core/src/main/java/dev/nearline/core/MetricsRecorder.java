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
import org.jspecify.annotations.Nullable;

/**
 * The built-in {@link ScoringListener}: latency histograms per phase and per model step (HdrHistogram,
 * microsecond resolution up to one hour), record counts, failures by kind, batch sizes, and the
 * in-flight and queue-depth gauges of the scorer it is attached to. {@link #snapshot()} reads it all at
 * once; histograms are cumulative since the recorder was created.
 *
 * <p>Counts (records scored, failures, batch sizes) are exact. Latencies are sampled: the scorer times
 * about one record in {@link #timingInterval()} (default {@value #DEFAULT_TIMING_INTERVAL}) on its
 * synchronous path, so that metrics cost a few percent even on a model call of a couple of microseconds,
 * and a latency distribution's {@code count} is the number of timed records. Use
 * {@link #MetricsRecorder(int)} with 1 to time every record.
 *
 * <p>Thread-safe; recording is wait-free. One recorder per scorer: pass it to
 * {@link Pipeline.Builder#listener(ScoringListener)} or {@link Pipeline#load(java.nio.file.Path, ScoringListener)}.
 */
public final class MetricsRecorder implements ScoringListener {
    /** The default {@link #timingInterval()}. */
    public static final int DEFAULT_TIMING_INTERVAL = 8;
    private static final long MAX_MICROS = TimeUnit.HOURS.toMicros(1);

    private final int timingInterval;

    private final Phase queue = new Phase();
    private final Phase input = new Phase();
    private final Phase infer = new Phase();
    private final Phase output = new Phase();
    private final Phase total = new Phase();
    private final Map<String, Step> stepsByName = new ConcurrentHashMap<>();
    /**
     * The step of the last event: pipelines have one or a few steps, so this saves most map lookups. A plain
     * field on purpose: a stale read only costs a lookup, {@link Step}'s final fields make it safe to share,
     * and a volatile write per event would bounce the line between cores in a multi-step pipeline.
     */
    private @Nullable Step lastStep;
    private final LongAdder scored = new LongAdder();
    private final EnumMap<ScoringException.Kind, LongAdder> failures = new EnumMap<>(ScoringException.Kind.class);
    private volatile IntSupplier inFlight = () -> 0;
    private volatile IntSupplier queueDepth = () -> 0;

    /** An empty recorder timing about one record in {@value #DEFAULT_TIMING_INTERVAL}. */
    public MetricsRecorder() {
        this(DEFAULT_TIMING_INTERVAL);
    }

    /**
     * An empty recorder timing about one record in {@code timingInterval} (1: every record).
     *
     * @throws IllegalArgumentException if {@code timingInterval} is less than 1
     */
    public MetricsRecorder(int timingInterval) {
        if (timingInterval < 1) {
            throw new IllegalArgumentException("timingInterval must be at least 1, got " + timingInterval);
        }
        this.timingInterval = timingInterval;
        for (ScoringException.Kind k : ScoringException.Kind.values()) {
            failures.put(k, new LongAdder());
        }
    }

    /** Keeps the gauges of the scorer this recorder listens to, for {@link #snapshot()}; called by the engine. */
    @Override
    public void gauges(IntSupplier inFlight, IntSupplier queueDepth) {
        this.inFlight = inFlight;
        this.queueDepth = queueDepth;
    }

    /** About one record in how many the scorer times. */
    @Override
    public int timingInterval() {
        return timingInterval;
    }

    @Override
    public void recordScored(String pipeline, long queueNanos, long inputNanos, long inferNanos, long outputNanos) {
        scored.increment();
        if (queueNanos < 0) {
            return; // not timed
        }
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
        Step s = lastStep;
        if (s == null || !s.name.equals(step)) {
            s = stepsByName.computeIfAbsent(step, Step::new);
            lastStep = s;
        }
        if (nanos >= 0) {
            s.latency.record(nanos);
        }
        if (batchSize <= 1) {
            s.singles.increment(); // most calls: a counter, added to the histogram when read
        } else {
            s.sizes.recorder.recordValue(batchSize);
        }
    }

    /** Everything recorded so far, read at once. */
    public MetricsSnapshot snapshot() {
        Map<ScoringException.Kind, Long> failed = new EnumMap<>(ScoringException.Kind.class);
        failures.forEach((k, v) -> failed.put(k, v.sum()));
        Map<String, MetricsSnapshot.Distribution> stepLatency = new java.util.TreeMap<>();
        Map<String, MetricsSnapshot.Distribution> batch = new java.util.TreeMap<>();
        stepsByName.forEach((k, v) -> {
            stepLatency.put(k, v.latency.latency());
            batch.put(k, v.sizes.raw(v.singles.sumThenReset()));
        });
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

        /** Latencies, recorded in microseconds, as nanoseconds. */
        MetricsSnapshot.Distribution latency() {
            return read(1000, 0);
        }

        /** The values themselves (not microseconds), after adding {@code ones} values of 1. */
        MetricsSnapshot.Distribution raw(long ones) {
            return read(1, ones);
        }

        private synchronized MetricsSnapshot.Distribution read(long scale, long ones) {
            interval = recorder.getIntervalHistogram(interval);
            cumulative.add(interval);
            if (ones > 0) {
                cumulative.recordValueWithCount(1, ones);
            }
            return MetricsSnapshot.Distribution.of(cumulative, scale);
        }
    }

    /** One model step's latency and batch sizes; calls of one record are counted apart, cheaply. */
    private static final class Step {
        final String name;
        final Phase latency = new Phase();
        final Phase sizes = new Phase();
        final LongAdder singles = new LongAdder();

        Step(String name) {
            this.name = name;
        }
    }
}
