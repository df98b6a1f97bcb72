package dev.nearline.benchmarks;

import ai.djl.inference.Predictor;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.TranslateException;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.nearline.api.Scorer;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * What Nearline adds to one record's scoring call, against the same model run by hand-written ONNX
 * Runtime code and by DJL. One record per call, the same record every call, one caller thread; all
 * four contenders run the same {@code .onnx} file with the same session settings ({@link Settings}),
 * and the trial fails at setup unless all four return the same score.
 *
 * <ul>
 *   <li>{@code rawOrtPinned}: the floor. Input and output tensors made once per thread over direct
 *       buffers and reused ({@code session.run(inputs, pinnedOutputs)}); per call only copy the
 *       record in, run, read the score.</li>
 *   <li>{@code rawOrt}: idiomatic ONNX Runtime Java. Per call: an input tensor over the thread's
 *       direct buffer, {@code run}, read the output, close the tensor and the result.</li>
 *   <li>{@code nearline}: {@link Scorer#score} on a code-built pipeline with the ready-made row stages
 *       {@code Stages.floats} and {@code Stages.floatAt} (see {@link NearlinePipeline#stagesScorer}): the record
 *       is written into the model's reused input buffer and the score read from the pinned output in place.</li>
 *   <li>{@code nearlineLambda}: the same with lambdas for stages, which make and read per-record tensors; the
 *       "off" for {@code nearlineObserved}, which has the same stages.</li>
 *   <li>{@code djl}: {@code Predictor.predict} with a minimal translator (see {@link Djl}), one
 *       predictor per thread as DJL documents.</li>
 *   <li>{@code nearlineKeyed}: {@code nearlineLambda} on records that carry an id (a new record with a new id
 *       per call, see {@link KeyCursor}), no quality monitor: the "off" for the two below, which take the same
 *       records.</li>
 *   <li>{@code nearlineQuality}: {@code nearlineKeyed} with a {@code QualityMonitor} at its defaults keeping each
 *       prediction under the record's id (the store of 100,000 evicts one per record, as in steady state), no
 *       labels: what tracking costs on the scoring path.</li>
 *   <li>{@code nearlineChallenger}: {@code nearlineQuality} with a challenger (a second session of the same
 *       model) on a 10% sample, scored on its own thread: what the hand-off costs the champion.</li>
 * </ul>
 *
 * <p>Why: Nearline claims to cost close to nothing over the floor. The models bracket the claim:
 * on {@code tiny} the model runs in about a microsecond, so any per-call overhead shows; on {@code mlp}
 * the model dominates. Average time gives the mean, sample time the p50/p99, and {@code -prof gc}
 * the bytes allocated per record ({@code gc.alloc.rate.norm}).
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar OverheadBenchmark -prof gc -rf json -rff overhead.json
 * java -jar benchmarks/target/benchmarks.jar 'OverheadBenchmark.(nearline|nearlineKeyed|nearlineQuality|nearlineChallenger)$' \
 *     -p model=tiny -f 2 -wi 3 -w 1 -i 5 -r 1 -bm sample -tu ns
 * </pre>
 *
 * <p>or {@code benchmarks/run.sh quick}, which also prints the table and ratios.
 */
@BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g",
        // DJL's global ONNX Runtime thread pools: one thread each, idle (every session has its own).
        "-Dai.djl.onnxruntime.num_threads=1", "-Dai.djl.onnxruntime.num_interop_threads=1"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 2)
@State(Scope.Benchmark)
public class OverheadBenchmark {

    /** {@code tiny} or {@code mlp}; see {@link BenchModel}. */
    @Param({"tiny", "mlp"})
    public String model;

    float[] record;
    long[] shape;
    String inputName;
    String outputName;
    int outputs;
    Path dir;
    RawOrt raw;
    Scorer<float[], Float> scorer;
    /** The same pipeline with lambdas for stages (no rows): {@link #observed}'s "off". */
    Scorer<float[], Float> lambdas;
    /** The same pipeline with the built-in metrics recorder and a drift monitor (default sampling) on. */
    Scorer<float[], Float> observed;
    /** The same pipeline for records with ids, no quality monitor: {@link #quality}'s "off". */
    Scorer<NearlinePipeline.Keyed, Float> keyedOff;
    /** {@link #keyedOff} keeping predictions by id for a quality monitor. */
    Scorer<NearlinePipeline.Keyed, Float> quality;
    /** {@link #quality} with a challenger on a 10% sample. */
    Scorer<NearlinePipeline.Keyed, Float> challenger;
    ZooModel<float[], Float> djlModel;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        BenchModel m = BenchModel.of(model);
        record = m.record();
        shape = m.recordShape();
        inputName = BenchModel.INPUT;
        outputName = m.output;
        outputs = m.outputs;
        Djl.startEngine(); // first: see its doc
        dir = TempFiles.tempDir("nearline-overhead-");
        Path file = m.write(dir);
        djlModel = Djl.load(file, m);
        raw = new RawOrt(file);
        scorer = NearlinePipeline.stagesScorer(NearlinePipeline.onnxModel(file), m);
        lambdas = NearlinePipeline.scorer(file, m);
        observed = NearlinePipeline.observedScorer(NearlinePipeline.onnxModel(file), m);
        keyedOff = NearlinePipeline.keyedScorer(NearlinePipeline.onnxModel(file), m);
        quality = NearlinePipeline.qualityScorer(NearlinePipeline.onnxModel(file), m, null);
        challenger = NearlinePipeline.qualityScorer(NearlinePipeline.onnxModel(file), m, NearlinePipeline.onnxModel(file));
        checkSameScore();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        TempFiles.closeAll(scorer, lambdas, observed, keyedOff, quality, challenger, djlModel, raw);
        TempFiles.deleteTree(dir);
    }

    /**
     * The thread's records with ids: each call makes a new record with a new id, as a service that deserializes
     * every request would (so the id is in the cache, as a just-parsed one is); ids never repeat, so the quality
     * store (100,000 predictions by default) evicts one per record, as in steady state. The same for the "off"
     * and the "on" variants.
     */
    @State(Scope.Thread)
    public static class KeyCursor {
        long next;

        NearlinePipeline.Keyed next(OverheadBenchmark b) {
            return new NearlinePipeline.Keyed(Long.toString(next++), b.record);
        }
    }

    /** The thread's direct input buffer for {@code rawOrt}. */
    @State(Scope.Thread)
    public static class InputBuffer {
        FloatBuffer in;

        @Setup(Level.Trial)
        public void setUp(OverheadBenchmark b) {
            in = RawOrt.directFloats(b.record.length);
        }
    }

    /** The thread's reusable input and output tensors for {@code rawOrtPinned}. */
    @State(Scope.Thread)
    public static class Pinned {
        FloatBuffer in;
        FloatBuffer out;
        OnnxTensor inTensor;
        OnnxTensor outTensor;
        Map<String, OnnxTensor> inputs;
        Map<String, OnnxTensor> outputs;

        @Setup(Level.Trial)
        public void setUp(OverheadBenchmark b) throws OrtException {
            in = RawOrt.directFloats(b.record.length);
            out = RawOrt.directFloats(b.outputs);
            inTensor = OnnxTensor.createTensor(b.raw.env, in, b.shape);
            outTensor = OnnxTensor.createTensor(b.raw.env, out, new long[] {1, b.outputs});
            inputs = Map.of(b.inputName, inTensor);
            outputs = Map.of(b.outputName, outTensor);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            inTensor.close();
            outTensor.close();
        }
    }

    /** The thread's DJL predictor (DJL predictors are not thread-safe). */
    @State(Scope.Thread)
    public static class DjlPredictor {
        Predictor<float[], Float> predictor;

        @Setup(Level.Trial)
        public void setUp(OverheadBenchmark b) {
            predictor = b.djlModel.newPredictor();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            predictor.close();
        }
    }

    @Benchmark
    public float rawOrtPinned(Pinned p) throws OrtException {
        return pinned(raw.session, p, record);
    }

    @Benchmark
    public float rawOrt(InputBuffer t) throws OrtException {
        return direct(raw, t.in, record, shape, inputName);
    }

    @Benchmark
    public Float nearline() {
        return scorer.score(record);
    }

    /** {@code nearline} with lambdas for stages, which work on per-record tensors rather than rows. */
    @Benchmark
    public Float nearlineLambda() {
        return lambdas.score(record);
    }

    /** {@code nearlineLambda} with metrics (HdrHistogram recorder) and drift monitoring on: their cost per record. */
    @Benchmark
    public Float nearlineObserved() {
        return observed.score(record);
    }

    /**
     * {@code nearline} on the records with ids that {@code nearlineQuality} takes, with no quality monitor: the
     * "off" that {@code nearlineQuality} is compared with (same records, same stages, only the tracking differs).
     */
    @Benchmark
    public Float nearlineKeyed(KeyCursor c) {
        return keyedOff.score(c.next(this));
    }

    /** {@code nearlineKeyed} keeping each prediction by id for a quality monitor (no labels). */
    @Benchmark
    public Float nearlineQuality(KeyCursor c) {
        return quality.score(c.next(this));
    }

    /** {@code nearlineQuality} with a challenger on a 10% sample, off the caller's path. */
    @Benchmark
    public Float nearlineChallenger(KeyCursor c) {
        return challenger.score(c.next(this));
    }

    @Benchmark
    public Float djl(DjlPredictor p) throws TranslateException {
        return p.predictor.predict(record);
    }

    static float pinned(OrtSession session, Pinned p, float[] record) throws OrtException {
        p.in.put(0, record);
        // The result holds no values of its own here: ONNX Runtime wrote into the pinned output.
        session.run(p.inputs, p.outputs).close();
        return p.out.get(0);
    }

    static float direct(RawOrt raw, FloatBuffer in, float[] record, long[] shape, String inputName)
            throws OrtException {
        in.put(0, record);
        try (OnnxTensor input = OnnxTensor.createTensor(raw.env, in, shape);
             OrtSession.Result r = raw.session.run(Map.of(inputName, input))) {
            return ((OnnxTensor) r.get(0)).getFloatBuffer().get(0);
        }
    }

    /** Fails the trial unless the four contenders compute the same score for {@link #record}. */
    private void checkSameScore() throws Exception {
        InputBuffer buffer = new InputBuffer();
        buffer.setUp(this);
        float expected = direct(raw, buffer.in, record, shape, inputName);
        Pinned p = new Pinned();
        p.setUp(this);
        float pinnedScore;
        try {
            pinnedScore = pinned(raw.session, p, record);
        } finally {
            p.tearDown();
        }
        float nearlineScore = scorer.score(record);
        float lambdaScore = lambdas.score(record);
        float keyedScore = keyedOff.score(new NearlinePipeline.Keyed("check", record));
        float qualityScore = quality.score(new NearlinePipeline.Keyed("check", record));
        float challengerScore = challenger.score(new NearlinePipeline.Keyed("check", record));
        float djlScore;
        try (Predictor<float[], Float> predictor = djlModel.newPredictor()) {
            djlScore = predictor.predict(record);
        }
        if (pinnedScore != expected || nearlineScore != expected || djlScore != expected || qualityScore != expected
                || keyedScore != expected || challengerScore != expected || lambdaScore != expected) {
            throw new IllegalStateException("contenders disagree on model '" + model + "': rawOrt=" + expected
                    + " rawOrtPinned=" + pinnedScore + " nearline=" + nearlineScore + " djl=" + djlScore
                    + " nearlineLambda=" + lambdaScore + " nearlineKeyed=" + keyedScore + " nearlineQuality=" + qualityScore + " nearlineChallenger=" + challengerScore);
        }
    }
}
