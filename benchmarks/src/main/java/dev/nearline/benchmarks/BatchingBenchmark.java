package dev.nearline.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.nearline.api.Outcome;
import dev.nearline.api.Scorer;
import dev.nearline.core.Pipeline;
import dev.nearline.core.Stages;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What batching buys, per record, on both models, with micro-batching {@code off} or {@code on}
 * (up to 32 records per model call, {@code maxQueueDelay} 0: a batch is what queued up during the
 * previous call):
 *
 * <ul>
 *   <li>{@code sync64}: 64 threads calling {@code score} back to back. With batching on, the engine
 *       decides per call (mode {@code AUTO}) whether joining a batch pays; it must never be slower than off.
 *   <li>{@code asyncWindow64}: one thread keeping 64 {@code scoreAsync} records in flight (each operation
 *       waits for the oldest and submits a new one). Off: the engine's async pool scores them one by one.
 *   <li>{@code scoreAll32} against {@code score1}: one {@code scoreAll} of 32 records (one model call over
 *       the batch) against single calls, per record ({@code @OperationsPerInvocation(32)}).
 *   <li>{@code rawOrtBatch32} and {@code rawOrtPinnedBatch32}: the floor for {@code scoreAll32}, the same 32
 *       records through a hand-written ONNX Runtime call (new tensors per call, or tensors created once
 *       and reused), per record. They do not depend on {@code batching}.
 * </ul>
 *
 * Throughput gives records per second (ops/µs × 10⁶); sample time gives the p99 of one operation (for
 * {@code asyncWindow64}, the time between two completions, not a record's latency).
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar BatchingBenchmark -rf json -rff batching.json
 * </pre>
 */
@BenchmarkMode({Mode.Throughput, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 4, time = 2)
@State(Scope.Benchmark)
public class BatchingBenchmark {
    private static final int WINDOW = 64;
    private static final int BATCH = 32;

    /** {@code tiny} or {@code mlp}; see {@link BenchModel}. */
    @Param({"tiny", "mlp"})
    public String model;

    /** {@code off}: no micro-batcher; {@code on}: micro-batching, synchronous calls in mode AUTO. */
    @Param({"off", "on"})
    public String batching;

    float[] record;
    List<float[]> batch;
    /** {@code WINDOW} different records: the batch, the async window and the synchronous callers take turns through them. */
    float[][] records;
    Path dir;
    Scorer<float[], Float> scorer;
    RawOrt raw;
    long[] batchShape;
    int outputs;
    String outputName;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        BenchModel m = BenchModel.of(model);
        record = m.record();
        batch = new ArrayList<>();
        records = new float[WINDOW][];
        for (int i = 0; i < WINDOW; i++) {
            records[i] = m.record(i);
        }
        for (int i = 0; i < BATCH; i++) {
            batch.add(records[i]);
        }
        dir = TempFiles.tempDir("nearline-batching-");
        // The ready-made float[] stages work row by row too, so scoreAll (and micro-batches) take the columnar path.
        Pipeline.Builder<float[]> builder = Pipeline
                .builder(Stages.floats(BenchModel.INPUT, m.features))
                .name(m.label)
                .model(NearlinePipeline.onnxModel(m.write(dir)))
                .asyncQueueCapacity(4 * WINDOW);
        if (batching.equals("on")) {
            builder.batching(BATCH, Duration.ZERO, Pipeline.BatchMode.AUTO);
        } else if (!batching.equals("off")) {
            throw new IllegalArgumentException("batching must be off or on, got " + batching);
        }
        scorer = builder.build(Stages.floatAt(m.output, 0));
        raw = new RawOrt(dir.resolve(m.fileName));

        batchShape = new long[] {BATCH, m.features};
        outputs = m.outputs;
        outputName = m.output;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        TempFiles.closeAll(scorer, raw);
        TempFiles.deleteTree(dir);
    }

    /** One thread's window of records in flight. */
    @State(Scope.Thread)
    public static class Window {
        final CompletableFuture<?>[] inFlight = new CompletableFuture<?>[WINDOW];
        int next;

        @Setup(Level.Iteration)
        public void fill(BatchingBenchmark b) {
            for (int i = 0; i < WINDOW; i++) {
                inFlight[i] = b.scorer.scoreAsync(b.records[i]);
            }
            next = 0;
        }

        @TearDown(Level.Iteration)
        public void drain() {
            for (CompletableFuture<?> f : inFlight) {
                f.join();
            }
        }
    }

    /** A thread's turn through the distinct records. */
    @State(Scope.Thread)
    public static class Cursor {
        int next;
    }

    @Benchmark
    @Threads(64)
    public Float sync64(Cursor c) {
        c.next = (c.next + 1) & (WINDOW - 1);
        return scorer.score(records[c.next]);
    }

    @Benchmark
    @Threads(1)
    public Object asyncWindow64(Window w) {
        Object done = w.inFlight[w.next].join();
        w.inFlight[w.next] = scorer.scoreAsync(records[w.next]);
        w.next = (w.next + 1) % WINDOW;
        return done;
    }

    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(BATCH)
    public List<Outcome<Float>> scoreAll32() {
        return scorer.scoreAll(batch);
    }

    /**
     * The thread's direct buffers for the raw batches: {@code in} for {@code rawOrtBatch32}, and input and
     * output tensors created once over {@code pinnedIn} and {@code pinnedOut} for {@code rawOrtPinnedBatch32}.
     */
    @State(Scope.Thread)
    public static class BatchBuffer {
        FloatBuffer in;
        FloatBuffer pinnedIn;
        FloatBuffer pinnedOut;
        OnnxTensor inTensor;
        OnnxTensor outTensor;
        Map<String, OnnxTensor> inputs;
        Map<String, OnnxTensor> outputs;
        float[] scores = new float[BATCH];

        @Setup(Level.Trial)
        public void setUp(BatchingBenchmark b) throws OrtException {
            in = RawOrt.directFloats(BATCH * b.record.length);
            pinnedIn = RawOrt.directFloats(BATCH * b.record.length);
            pinnedOut = RawOrt.directFloats(BATCH * b.outputs);
            inTensor = OnnxTensor.createTensor(b.raw.env, pinnedIn, b.batchShape);
            outTensor = OnnxTensor.createTensor(b.raw.env, pinnedOut, new long[] {BATCH, b.outputs});
            inputs = Map.of(BenchModel.INPUT, inTensor);
            outputs = Map.of(b.outputName, outTensor);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            inTensor.close();
            outTensor.close();
        }
    }

    /**
     * The floor for {@code scoreAll32}: a hand-written ONNX Runtime call over the same 32 records (copy
     * them into one direct buffer, one run, read each record's score), per record.
     */
    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(BATCH)
    public float[] rawOrtBatch32(BatchBuffer buf) throws OrtException {
        fill(buf.in, batch);
        try (OnnxTensor input = OnnxTensor.createTensor(raw.env, buf.in, batchShape);
             OrtSession.Result result = raw.session.run(Map.of(BenchModel.INPUT, input))) {
            FloatBuffer out = ((OnnxTensor) result.get(0)).getFloatBuffer();
            for (int i = 0; i < BATCH; i++) {
                buf.scores[i] = out.get(i * outputs);
            }
        }
        return buf.scores;
    }

    /**
     * The best a hand-written batch does: {@code rawOrtBatch32} with input and output tensors created once
     * and reused (ONNX Runtime writes the scores into the pinned output buffer), per record.
     */
    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(BATCH)
    public float[] rawOrtPinnedBatch32(BatchBuffer buf) throws OrtException {
        fill(buf.pinnedIn, batch);
        raw.session.run(buf.inputs, buf.outputs).close();
        for (int i = 0; i < BATCH; i++) {
            buf.scores[i] = buf.pinnedOut.get(i * outputs);
        }
        return buf.scores;
    }

    /** Copies {@code records} one after the other into {@code in}. */
    private static void fill(FloatBuffer in, List<float[]> records) {
        int at = 0;
        for (float[] r : records) {
            in.put(at, r);
            at += r.length;
        }
    }

    @Benchmark
    @Threads(1)
    public Float score1() {
        return scorer.score(record);
    }
}
