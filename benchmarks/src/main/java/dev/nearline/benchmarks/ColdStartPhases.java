package dev.nearline.benchmarks;

import ai.onnxruntime.OrtEnvironment;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nearline.api.Scorer;
import dev.nearline.core.Pipeline;
import dev.nearline.core.PluginRegistry;
import dev.nearline.onnx.OnnxModel;
import dev.nearline.onnx.internal.OrtRuntime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * Where a cold start's time goes, step by step, in one fresh JVM per run: the wall time of each step, in
 * milliseconds, and the time from JVM start to the end of the first score. {@code benchmarks/run.sh} runs
 * each preset several times and {@link Report} puts the medians side by side, so that the steps where
 * Nearline spends more than hand-written ONNX Runtime code stand out.
 *
 * <p>Presets, each the whole way from JVM start to the second score of {@code tiny}:
 * <ul>
 *   <li>{@code raw}: {@code env session rawscore rawscore}, the hand-written baseline of {@link ColdStart};</li>
 *   <li>{@code nearline}: {@code runtime model pipeline score score}, the code-built pipeline of
 *       {@link NearlinePipeline};</li>
 *   <li>{@code file}: {@code runtime registry load jsonscore jsonscore}, the same model from a pipeline
 *       file ({@code tiny-pipeline.json}: the {@code json-features} preprocessor over 30 fields and the
 *       {@code score} postprocessor) with a {@code Map} record, as the quick start does.</li>
 * </ul>
 *
 * <p>Steps (each is charged only what earlier steps left to do, so order matters):
 * <ul>
 *   <li>{@code env}: {@code OrtEnvironment.getEnvironment()}, loading ONNX Runtime's native libraries;</li>
 *   <li>{@code runtime}: the same through scoring-onnx ({@code OrtRuntime.environment()}: the class-path
 *       check, the native start-up on a thread with a large stack);</li>
 *   <li>{@code session}, {@code rawscore}: a hand-written session (options, session) and one record on it;</li>
 *   <li>{@code model}: {@code OnnxModel.builder(file)...build()}: session options, session, signature, slot pool;</li>
 *   <li>{@code pipeline}: {@code Pipeline.builder(...)...build(...)} around that model: the engine;</li>
 *   <li>{@code score}: one {@code Scorer.score};</li>
 *   <li>{@code registry}: {@code PluginRegistry.discover()}, the ServiceLoader scan for plugins;</li>
 *   <li>{@code jackson}: a plain {@code ObjectMapper} reading the pipeline file: what the loader would pay for
 *       Jackson's data binding, which it does not use (it builds the tree from the streaming parser);</li>
 *   <li>{@code load}: {@code Pipeline.load(file, registry)}: the pipeline file, its stages, the model, the engine;</li>
 *   <li>{@code jsonscore}: one {@code Scorer.score} of a {@code Map} record on that scorer;</li>
 *   <li>{@code slf4j}: the first {@code LoggerFactory.getLogger} (provider lookup, logger configuration).</li>
 * </ul>
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.nearline.benchmarks.ColdStart write-models /tmp/models
 * java -Dnearline.launchMillis=$(date +%s%3N) -Donnxruntime.native.path=DIR -cp benchmarks/target/benchmarks.jar \
 *     dev.nearline.benchmarks.ColdStartPhases nearline /tmp/models
 * java -cp benchmarks/target/benchmarks.jar dev.nearline.benchmarks.ColdStartPhases /tmp/models slf4j runtime model
 * </pre>
 *
 * <p>Prints one line: {@code phases mode=... natives=... appcds=... main=<ms> <step>=<ms> ... first_score=<ms>},
 * a repeated step as {@code <step>#2}. Nothing is measured with management beans or other helpers that would
 * load classes a step would otherwise load itself; the line is built after the last step.
 */
public final class ColdStartPhases {
    private static final Map<String, List<String>> PRESETS = Map.of(
            "raw", List.of("env", "session", "rawscore", "rawscore"),
            "nearline", List.of("runtime", "model", "pipeline", "score", "score"),
            "file", List.of("runtime", "registry", "load", "jsonscore", "jsonscore"));

    private ColdStartPhases() {
    }

    public static void main(String[] args) throws Exception {
        long mainMillis = System.currentTimeMillis();
        String mode;
        Path dir;
        List<String> steps = new ArrayList<>();
        if (args.length == 2 && PRESETS.containsKey(args[0])) {
            mode = args[0];
            dir = Path.of(args[1]);
            steps.addAll(PRESETS.get(mode));
        } else if (args.length >= 2) {
            mode = "custom";
            dir = Path.of(args[0]);
            steps.addAll(List.of(args).subList(1, args.length));
        } else {
            System.err.println("usage: ColdStartPhases raw|nearline|file DIR | ColdStartPhases DIR step...");
            System.exit(2);
            return;
        }
        BenchModel m = BenchModel.TINY;
        Run run = new Run(dir.resolve(m.fileName), dir.resolve(ColdStart.PIPELINE_FILE), m);
        long[] ends = new long[steps.size()];
        long start = System.nanoTime();
        try {
            for (int i = 0; i < steps.size(); i++) {
                run.step(steps.get(i));
                ends[i] = System.nanoTime();
            }
        } finally {
            run.close();
        }
        long firstScoreEnd = 0;
        StringBuilder line = new StringBuilder("phases mode=").append(mode);
        String launch = System.getProperty("nearline.launchMillis");
        line.append(" natives=").append(System.getProperty("onnxruntime.native.path") != null ? "cache" : "jar")
                .append(" appcds=").append(ColdStart.appCds() ? "yes" : "no")
                .append(" start=").append(launch != null ? "launch" : "jvm")
                .append(" main=").append(mainMillis - ColdStart.startMillis(launch));
        Map<String, Integer> seen = new LinkedHashMap<>();
        long previous = start;
        for (int i = 0; i < steps.size(); i++) {
            String step = steps.get(i);
            int n = seen.merge(step, 1, Integer::sum);
            line.append(' ').append(step).append(n == 1 ? "" : "#" + n).append('=')
                    .append(String.format(Locale.ROOT, "%.3f", (ends[i] - previous) / 1e6));
            if (firstScoreEnd == 0 && step.endsWith("score")) {
                firstScoreEnd = ends[i];
            }
            previous = ends[i];
        }
        if (firstScoreEnd != 0) {
            // JVM start to main in ms, then main to the end of the first score
            double toFirst = (mainMillis - ColdStart.startMillis(launch)) + (firstScoreEnd - start) / 1e6;
            line.append(String.format(Locale.ROOT, " first_score=%.1f", toFirst));
        }
        System.out.println(line);
    }

    /** The state the steps build up; closes what they opened. */
    private static final class Run implements AutoCloseable {
        private final Path model;
        private final Path pipelineFile;
        private final BenchModel bench;
        private final float[] record;
        private final Map<String, Object> jsonRecord;
        private RawOrt raw;
        private java.nio.FloatBuffer rawInput;
        private OnnxModel onnx;
        private Scorer<float[], Float> scorer;
        private PluginRegistry registry;
        private Scorer<Object, Object> fileScorer;

        Run(Path model, Path pipelineFile, BenchModel bench) {
            this.model = model;
            this.pipelineFile = pipelineFile;
            this.bench = bench;
            this.record = bench.record();
            this.jsonRecord = ColdStart.jsonRecord(record);
        }

        void step(String step) throws Exception {
            switch (step) {
                case "slf4j" -> LoggerFactory.getLogger(ColdStartPhases.class);
                case "env" -> OrtEnvironment.getEnvironment();
                case "runtime" -> OrtRuntime.environment();
                case "session" -> {
                    raw = new RawOrt(model);
                    rawInput = RawOrt.directFloats(bench.features);
                }
                case "rawscore" -> ColdStart.rawScore(required(raw, "session").env, raw.session, rawInput, record, bench);
                case "model" -> onnx = NearlinePipeline.onnxModel(model);
                case "pipeline" -> scorer = NearlinePipeline.scorer(required(onnx, "model"), bench);
                case "score" -> required(scorer, "pipeline").score(record);
                case "registry" -> registry = PluginRegistry.discover();
                case "jackson" -> jackson(pipelineFile);
                case "load" -> fileScorer = Pipeline.load(pipelineFile,
                        registry != null ? registry : PluginRegistry.discover());
                case "jsonscore" -> required(fileScorer, "load").score(jsonRecord);
                default -> throw new IllegalArgumentException("unknown step " + step);
            }
        }

        @Override
        public void close() throws ai.onnxruntime.OrtException {
            if (fileScorer != null) {
                fileScorer.close();
            }
            if (scorer != null) {
                scorer.close();
            } else if (onnx != null) {
                onnx.close();
            }
            if (raw != null) {
                raw.close();
            }
        }

        private static void jackson(Path file) throws IOException {
            new ObjectMapper().readTree(Files.readString(file));
        }

        private static <T> T required(T value, String step) {
            if (value == null) {
                throw new IllegalArgumentException("step '" + step + "' must come first");
            }
            return value;
        }
    }
}
