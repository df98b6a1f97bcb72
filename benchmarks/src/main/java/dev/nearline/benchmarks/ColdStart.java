package dev.nearline.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.nearline.api.Scorer;
import dev.nearline.core.Pipeline;
import dev.nearline.onnx.OnnxModel;
import java.lang.management.ManagementFactory;
import java.lang.management.RuntimeMXBean;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
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
 * ONNX Runtime: session, tensor over a direct buffer, run, read), {@code file} (the same model from the pipeline
 * file {@value #PIPELINE_FILE} that {@code write-models} writes, with the {@code json-features} preprocessor and a
 * {@code Map} record, as the quick start does). {@code benchmarks/run.sh} runs each five times per
 * configuration and reports the medians; {@link ColdStartPhases} says where the time goes.
 */
public final class ColdStart {
    /** The pipeline file of mode {@code file}, next to the models. */
    static final String PIPELINE_FILE = "tiny-pipeline.json";

    private ColdStart() {
    }

    public static void main(String[] args) throws Exception {
        long mainMillis = System.currentTimeMillis();
        if (args.length == 2 && args[0].equals("write-models")) {
            Path dir = Files.createDirectories(Path.of(args[1]));
            for (BenchModel m : BenchModel.values()) {
                System.out.println("wrote " + m.write(dir));
            }
            Path pipeline = dir.resolve(PIPELINE_FILE);
            Files.writeString(pipeline, pipelineJson(BenchModel.TINY), StandardCharsets.UTF_8);
            System.out.println("wrote " + pipeline);
            return;
        }
        if (args.length != 3 || !(args[0].equals("nearline") || args[0].equals("raw") || args[0].equals("file"))) {
            System.err.println("usage: ColdStart write-models DIR | ColdStart nearline|raw|file tiny|mlp DIR");
            System.exit(2);
            return;
        }
        BenchModel model = BenchModel.of(args[1]);
        Path dir = Path.of(args[2]);
        Path file = dir.resolve(model.fileName);
        float[] record = model.record();
        long[] t = switch (args[0]) {
            case "nearline" -> nearline(file, model, record);
            case "file" -> file(dir.resolve(PIPELINE_FILE), model, record);
            default -> raw(file, model, record);
        };

        // Everything below runs after the measurement, so loading the management classes costs nothing.
        String launch = System.getProperty("nearline.launchMillis");
        long start = startMillis(launch);
        System.out.println(String.format(Locale.ROOT,
                "coldstart mode=%s model=%s natives=%s appcds=%s start=%s main_ms=%d model_ms=%d loaded_ms=%d "
                        + "first_score_ms=%d second_score_us=%.1f",
                args[0], args[1], System.getProperty("onnxruntime.native.path") != null ? "cache" : "jar",
                appCds() ? "yes" : "no", launch != null ? "launch" : "jvm", mainMillis - start, t[0] - start,
                t[1] - start, t[2] - start, t[3] / 1000.0));
    }

    /** JVM start in epoch ms: {@code launch} (the {@code nearline.launchMillis} property) if set, else the JVM's. */
    static long startMillis(String launch) {
        if (launch != null) {
            return Long.parseLong(launch);
        }
        RuntimeMXBean runtime = ManagementFactory.getRuntimeMXBean();
        return runtime.getStartTime();
    }

    /** Whether this JVM runs with an AppCDS archive ({@code -XX:SharedArchiveFile}). */
    static boolean appCds() {
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("-XX:SharedArchiveFile")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The pipeline file of mode {@code file} for {@code model}: {@code json-features} over the fields {@code f0}
     * ... into the model's input, the model with the settings of every contender, the {@code score} postprocessor.
     */
    static String pipelineJson(BenchModel model) {
        StringBuilder fields = new StringBuilder();
        for (int i = 0; i < model.features; i++) {
            fields.append(i == 0 ? "" : ", ").append("{\"name\": \"f").append(i).append("\"}");
        }
        return "{\n"
                + "  \"name\": \"" + model.label + "\",\n"
                + "  \"preprocessor\": {\"type\": \"json-features\", \"output\": \"" + BenchModel.INPUT
                + "\", \"fields\": [" + fields + "]},\n"
                + "  \"steps\": [{\"name\": \"" + model.label + "\", \"type\": \"onnx\", \"path\": \"" + model.fileName
                + "\", \"intraOpThreads\": " + Settings.INTRA_OP_THREADS + ", \"interOpThreads\": "
                + Settings.INTER_OP_THREADS + "}],\n"
                + "  \"postprocessor\": {\"type\": \"score\"}\n"
                + "}\n";
    }

    /** {@code record} as the {@code Map} record of the pipeline file: {@code f0}, {@code f1}, ... as doubles. */
    static Map<String, Object> jsonRecord(float[] record) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < record.length; i++) {
            m.put("f" + i, (double) record[i]);
        }
        return m;
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

    private static long[] file(Path pipelineFile, BenchModel model, float[] record) {
        Map<String, Object> json = jsonRecord(record);
        try (Scorer<Object, Object> scorer = Pipeline.load(pipelineFile)) {
            long loaded = System.currentTimeMillis();
            Object first = scorer.score(json);
            long firstAt = System.currentTimeMillis();
            long t0 = System.nanoTime();
            Object second = scorer.score(json);
            long secondNanos = System.nanoTime() - t0;
            if (!first.equals(second)) {
                throw new IllegalStateException("scores differ: " + first + " then " + second);
            }
            return new long[] {loaded, loaded, firstAt, secondNanos};
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

    static float rawScore(OrtEnvironment env, OrtSession session, FloatBuffer in, float[] record,
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
