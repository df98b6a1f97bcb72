package dev.nearline.benchmarks;

import dev.nearline.api.Scorer;
import dev.nearline.core.Pipeline;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Many callers on one shared scorer, as a service uses it: 1, 2, 8 and 64 threads (the sibling methods
 * {@code callers01} … {@code callers64}) each scoring one record per call, back to back, on both
 * models. Throughput mode gives records per second (ops/µs × 10⁶), sample time the p99 a caller sees.
 *
 * <p>Why: a {@link Scorer} is meant to be shared by every thread of a process, so its per-record path
 * must not serialise callers or collapse when callers outnumber cores (this machine class has 2): past
 * the core count, records/s should stay flat while latency grows with the queue of runnable threads.
 * {@code benchmarks/README.md} records where it does not.
 *
 * <p>Two more axes, off the default run to keep it short: {@code style=async} scores through
 * {@link Scorer#scoreAsync} and waits for the future; {@code batching=auto|always} turns on the
 * micro-batcher (at most {@value NearlinePipeline#MAX_BATCH} records per call, no added delay) with
 * synchronous calls joining batches when the engine judges it pays ({@code auto}) or always.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar ConcurrencyBenchmark -rf json -rff concurrency.json
 * java -jar benchmarks/target/benchmarks.jar ConcurrencyBenchmark -p model=mlp -p style=sync,async \
 *     -p batching=off,auto,always
 * </pre>
 */
@BenchmarkMode({Mode.Throughput, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
@State(Scope.Benchmark)
public class ConcurrencyBenchmark {

    /** {@code tiny} or {@code mlp}; see {@link BenchModel}. */
    @Param({"tiny", "mlp"})
    public String model;

    /** {@code sync}: {@link Scorer#score}; {@code async}: {@link Scorer#scoreAsync} then {@code join}. */
    @Param({"sync"})
    public String style;

    /**
     * {@code off}: every record is its own model call. {@code auto} / {@code always}: micro-batching,
     * synchronous calls joining batches in {@code Pipeline.BatchMode.AUTO} / {@code ALWAYS}.
     */
    @Param({"off"})
    public String batching;

    float[][] records;
    float[] record;
    boolean async;
    Path dir;
    Scorer<float[], Float> scorer;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        Pipeline.BatchMode batchMode = switch (batching) {
            case "off" -> null;
            case "auto" -> Pipeline.BatchMode.AUTO;
            case "always" -> Pipeline.BatchMode.ALWAYS;
            default -> throw new IllegalArgumentException("batching must be off, auto or always, got " + batching);
        };
        if (!style.equals("sync") && !style.equals("async")) {
            throw new IllegalArgumentException("style must be sync or async, got " + style);
        }
        async = style.equals("async");
        BenchModel m = BenchModel.of(model);
        record = m.record();
        records = new float[64][];
        for (int i = 0; i < records.length; i++) {
            records[i] = m.record(i); // different records: an undeclared model batches once a batch proved it
        }
        dir = TempFiles.tempDir("nearline-concurrency-");
        scorer = NearlinePipeline.scorer(NearlinePipeline.onnxModel(m.write(dir)), m, batchMode);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        TempFiles.closeAll(scorer);
        TempFiles.deleteTree(dir);
    }

    @Benchmark
    @Threads(1)
    public Float callers01() {
        return score();
    }

    @Benchmark
    @Threads(2)
    public Float callers02() {
        return score();
    }

    @Benchmark
    @Threads(8)
    public Float callers08() {
        return score();
    }

    @Benchmark
    @Threads(64)
    public Float callers64() {
        return score();
    }

    private Float score() {
        float[] r = records[ThreadLocalRandom.current().nextInt(records.length)];
        return async ? scorer.scoreAsync(r).join() : scorer.score(r);
    }
}
