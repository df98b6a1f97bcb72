package dev.nearline.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.nearline.api.Scorer;
import dev.nearline.onnx.OnnxModel;
import java.lang.management.ManagementFactory;
import java.lang.management.RuntimeMXBean;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * Cold start: how long from JVM start until the first record is scored, in one fresh JVM per run.
 * Prints one line of {@code key=value} pairs, times in milliseconds since JVM start:
 * {@code main_ms} (main entered), {@code model_ms} (ONNX session created: native library loaded, model
 * read), {@code loaded_ms} (scorer built, ready to score), {@code first_score_ms} (first result in
 * hand), plus {@code second_score_us}, the time of the second record.
 *
 * <p>JVM start is the launch time the caller passes as {@code -Dnearline.launchMillis} (epoch ms, such
 * as {@code date +%s%3N} just before {@code java}; this includes the JVM's own boot), else the JVM's
 * recorded start time ({@code RuntimeMXBean.getStartTime()}, a few ms after launch).
 *
 * <p>Why: a scaled-out worker or a Functions instance scores its first record right after start, and
 * ONNX Runtime's native library (28 MB) is by default copied out of its jar to a temporary folder on
 * every start. With {@code -Donnxruntime.native.path=DIR}, a folder where {@link ExtractNatives} put the
 * libraries once, that copy is skipped. Target: Nearline's first {@code tiny} score within 100 ms of
 * JVM start with that cache.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.nearline.benchmarks.ColdStart write-models /tmp/models
 * java -Dnearline.launchMillis=$(date +%s%3N) -cp benchmarks/target/benchmarks.jar \
 *     dev.nearline.benchmarks.ColdStart nearline tiny /tmp/models
 * </pre>
 *
 * <p>A class-data-sharing archive of the application's classes (AppCDS: one run with
 * {@code -XX:ArchiveClassesAtExit=app.jsa}, then {@code -XX:SharedArchiveFile=app.jsa}) spares the
 * class loading and verification of every later start; the output says {@code appcds=yes} then.
 *
 * <p>Modes: {@code nearline} (the pipeline of {@link NearlinePipeline}), {@code raw} (hand-written
 * ONNX Runtime: session, tensor over a direct buffer, run, read). {@code benchmarks/run.sh} runs each
 * five times per configuration and reports the medians.
 */
public final class ColdStart {
    private ColdStart() {
    }

    public static void main(String[] args) throws Exception {
        long mainMillis = System.currentTimeMillis();
        if (args.length == 2 && args[0].equals("write-models")) {
            Path dir = Files.createDirectories(Path.of(args[1]));
            for (BenchModel m : BenchModel.values()) {
                System.out.println("wrote " + m.write(dir));
            }
            return;
        }
        if (args.length != 3 || !(args[0].equals("nearline") || args[0].equals("raw"))) {
            System.err.println("usage: ColdStart write-models DIR | ColdStart nearline|raw tiny|mlp DIR");
            System.exit(2);
            return;
        }
        BenchModel model = BenchModel.of(args[1]);
        Path file = Path.of(args[2]).resolve(model.fileName);
        float[] record = model.record();
        long[] t = args[0].equals("nearline") ? nearline(file, model, record) : raw(file, model, record);

        // Everything below runs after the measurement, so loading the management classes costs nothing.
        RuntimeMXBean runtime = ManagementFactory.getRuntimeMXBean();
        String launch = System.getProperty("nearline.launchMillis");
        long start = launch != null ? Long.parseLong(launch) : runtime.getStartTime();
        boolean appCds = runtime.getInputArguments().stream().anyMatch(a -> a.startsWith("-XX:SharedArchiveFile"));
        System.out.println(String.format(Locale.ROOT,
                "coldstart mode=%s model=%s natives=%s appcds=%s start=%s main_ms=%d model_ms=%d loaded_ms=%d "
                        + "first_score_ms=%d second_score_us=%.1f",
                args[0], args[1], System.getProperty("onnxruntime.native.path") != null ? "cache" : "jar",
                appCds ? "yes" : "no", launch != null ? "launch" : "jvm", mainMillis - start, t[0] - start,
                t[1] - start, t[2] - start, t[3] / 1000.0));
    }

    /** Returns {model loaded epoch ms, ready epoch ms, first score epoch ms, second score ns}. */
    private static long[] nearline(Path file, BenchModel model, float[] record) {
        OnnxModel onnx = NearlinePipeline.onnxModel(file);
        long modelLoaded = System.currentTimeMillis();
        try (Scorer<float[], Float> scorer = NearlinePipeline.scorer(onnx, model)) {
            long loaded = System.currentTimeMillis();
            float first = scorer.score(record);
            long firstAt = System.currentTimeMillis();
            long t0 = System.nanoTime();
            float second = scorer.score(record);
            long secondNanos = System.nanoTime() - t0;
            check(first, second);
            return new long[] {modelLoaded, loaded, firstAt, secondNanos};
        }
    }

    private static long[] raw(Path file, BenchModel model, float[] record) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(Settings.INTRA_OP_THREADS);
            options.setInterOpNumThreads(Settings.INTER_OP_THREADS);
            try (OrtSession session = env.createSession(file.toString(), options)) {
                long loaded = System.currentTimeMillis();
                FloatBuffer in = RawOrt.directFloats(model.features);
                float first = rawScore(env, session, in, record, model);
                long firstAt = System.currentTimeMillis();
                long t0 = System.nanoTime();
                float second = rawScore(env, session, in, record, model);
                long secondNanos = System.nanoTime() - t0;
                check(first, second);
                return new long[] {loaded, loaded, firstAt, secondNanos};
            }
        }
    }

    private static float rawScore(OrtEnvironment env, OrtSession session, FloatBuffer in, float[] record,
                                  BenchModel model) throws OrtException {
        in.put(0, record);
        try (OnnxTensor input = OnnxTensor.createTensor(env, in, model.recordShape());
             OrtSession.Result r = session.run(Map.of(BenchModel.INPUT, input))) {
            return ((OnnxTensor) r.get(0)).getFloatBuffer().get(0);
        }
    }

    private static void check(float first, float second) {
        if (first != second || Float.isNaN(first)) {
            throw new IllegalStateException("scores differ: " + first + " then " + second);
        }
    }
}
