package dev.nearline.benchmarks;

import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringListener;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.core.ManagedScorer;
import dev.nearline.core.MetricsRecorder;
import dev.nearline.core.MetricsSnapshot;
import dev.nearline.core.Pipeline;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/**
 * The latency of a micro-batched record, which {@code BatchingBenchmark.asyncWindow64} does not show
 * (its sample time is the time between two completions). One thread keeps 64 {@code scoreAsync} records
 * in flight for the given seconds with micro-batching on (up to 32 records per call) and a
 * {@link MetricsRecorder} timing every record, then prints records per second, each record's latency
 * from submission to completion (p50, p99) and the batched model call's time (p50, p99), all measured
after a 2 s warm-up. The issue's
 * goal: a record's p99 at most {@code maxQueueDelay} plus twice the batched model time.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.nearline.benchmarks.BatchLatencyCheck mlp 10 0
 * </pre>
 *
 * Arguments: model ({@code tiny} or {@code mlp}), seconds (default 10), maxQueueDelay in microseconds
 * (default 0).
 */
public final class BatchLatencyCheck {
    private static final int WINDOW = 64;

    private BatchLatencyCheck() {
    }

    /** Runs the check; see the class documentation. */
    public static void main(String[] args) throws Exception {
        BenchModel m = BenchModel.of(args.length > 0 ? args[0] : "mlp");
        long seconds = args.length > 1 ? Long.parseLong(args[1]) : 10;
        Duration delay = Duration.ofNanos(1000 * (args.length > 2 ? Long.parseLong(args[2]) : 0));
        Path dir = TempFiles.tempDir("nearline-batch-latency-");
        float[][] records = new float[WINDOW][];
        for (int i = 0; i < WINDOW; i++) {
            records[i] = m.record(i); // different records: an undeclared model batches once a batch proved it
        }
        long[] shape = m.recordShape();
        Swappable metrics = new Swappable();
        try (ManagedScorer<float[], Float> scorer = Pipeline
                .builder((float[] r) -> Tensors.of(BenchModel.INPUT, Tensor.ofFloats(r, shape)))
                .name(m.label).model(NearlinePipeline.onnxModel(m.write(dir)))
                .batching(NearlinePipeline.MAX_BATCH, delay).listener(metrics).asyncQueueCapacity(4 * WINDOW)
                .build(out -> out.get(0).floatAt(0))) {
            run(scorer, records, 2_000_000_000L); // warm-up, into a recorder that is then dropped
            MetricsRecorder measured = new MetricsRecorder(1);
            metrics.delegate = measured;
            long n = run(scorer, records, seconds * 1_000_000_000L);
            MetricsSnapshot after = measured.snapshot();
            MetricsSnapshot.Distribution total = after.total();
            MetricsSnapshot.Distribution batch = after.steps().get("model-1");
            System.out.printf(Locale.ROOT, "model %s, maxQueueDelay %d us, window %d, %d s: %,.0f records/s%n",
                    m.label, delay.toNanos() / 1000, WINDOW, seconds, n / (double) seconds);
            System.out.printf(Locale.ROOT, "record latency (submission to completion): p50 %.1f us, "
                    + "p99 %.1f us, p99.9 %.1f us%n", total.p50() / 1e3, total.p99() / 1e3, total.p999() / 1e3);
            System.out.printf(Locale.ROOT, "model call: p50 %.1f us, p99 %.1f us; batch size mean %.1f, p50 %d%n",
                    batch.p50() / 1e3, batch.p99() / 1e3, after.batchSizes().get("model-1").mean(),
                    after.batchSizes().get("model-1").p50());
            double goal = delay.toNanos() + 2.0 * batch.p50();
            System.out.printf(Locale.ROOT, "goal: p99 %.1f us <= maxQueueDelay + 2 x model call p50 = %.1f us: %s%n",
                    total.p99() / 1e3, goal / 1e3, total.p99() <= goal ? "met" : "missed");
            System.out.printf(Locale.ROOT, "(%d records timed)%n", total.count());
        } finally {
            TempFiles.deleteTree(dir);
        }
    }

    /** Passes events to a recorder that can be replaced, so that the warm-up is not measured. */
    private static final class Swappable implements ScoringListener {
        volatile MetricsRecorder delegate = new MetricsRecorder(1);

        @Override
        public void recordScored(String pipeline, long queueNanos, long inputNanos, long inferNanos, long outputNanos) {
            delegate.recordScored(pipeline, queueNanos, inputNanos, inferNanos, outputNanos);
        }

        @Override
        public void recordFailed(String pipeline, ScoringException.Kind kind, long totalNanos) {
            delegate.recordFailed(pipeline, kind, totalNanos);
        }

        @Override
        public void stepCompleted(String pipeline, String step, int batchSize, long nanos) {
            delegate.stepCompleted(pipeline, step, batchSize, nanos);
        }
    }

    /** Keeps {@value #WINDOW} records in flight for {@code nanos}; returns the records completed. */
    private static long run(ManagedScorer<float[], Float> scorer, float[][] records, long nanos) {
        CompletableFuture<?>[] inFlight = new CompletableFuture<?>[WINDOW];
        for (int i = 0; i < WINDOW; i++) {
            inFlight[i] = scorer.scoreAsync(records[i]);
        }
        long end = System.nanoTime() + nanos;
        long done = 0;
        int next = 0;
        while (System.nanoTime() - end < 0) {
            inFlight[next].join();
            done++;
            inFlight[next] = scorer.scoreAsync(records[next]);
            next = (next + 1) % WINDOW;
        }
        for (CompletableFuture<?> f : inFlight) {
            f.join();
        }
        return done;
    }
}
