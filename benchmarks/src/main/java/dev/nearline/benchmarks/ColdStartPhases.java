package dev.nearline.benchmarks;

import ai.onnxruntime.OrtEnvironment;
import dev.nearline.api.Scorer;
import dev.nearline.onnx.OnnxModel;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.LoggerFactory;

/**
 * Where a cold start's time goes, step by step, in main-thread CPU milliseconds (robust to other
 * load on the machine, unlike {@link ColdStart}'s wall clock) and wall milliseconds. Run it in a fresh
 * JVM with the steps in the order to measure; each step is charged only what earlier steps left:
 *
 * <ul>
 *   <li>{@code slf4j}: the first {@code LoggerFactory.getLogger}, which the static loggers of
 *       {@code OnnxModel} and the engine trigger (provider lookup, logger configuration);</li>
 *   <li>{@code env}: ONNX Runtime's environment, i.e. loading its native libraries;</li>
 *   <li>{@code session}: a hand-written ONNX Runtime session on the model (the raw baseline);</li>
 *   <li>{@code model}: {@code OnnxModel.builder(file)...build()};</li>
 *   <li>{@code pipeline}: {@code Pipeline.builder(...)...build(...)} around that model;</li>
 *   <li>{@code score}: one {@code Scorer.score} (repeat it to see the second and third).</li>
 * </ul>
 *
 * <pre>
 * java -Donnxruntime.native.path=DIR -cp benchmarks/target/benchmarks.jar \
 *     dev.nearline.benchmarks.ColdStartPhases /tmp/models slf4j env model pipeline score score
 * </pre>
 *
 * <p>The {@code ThreadMXBean} is loaded before the first step, so its own cost is not charged.
 */
public final class ColdStartPhases {
    private ColdStartPhases() {
    }

    public static void main(String[] args) throws Exception {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Path dir = Path.of(args[0]);
        BenchModel m = BenchModel.TINY;
        Path file = dir.resolve(m.fileName);
        float[] record = m.record();
        OnnxModel model = null;
        Scorer<float[], Float> scorer = null;
        List<String> out = new ArrayList<>();
        long cpu0 = mx.getCurrentThreadCpuTime();
        long wall0 = System.nanoTime();
        long cpu = cpu0;
        long wall = wall0;
        try {
            for (int i = 1; i < args.length; i++) {
                switch (args[i]) {
                    case "slf4j" -> LoggerFactory.getLogger(ColdStartPhases.class);
                    case "env" -> OrtEnvironment.getEnvironment();
                    case "session" -> new RawOrt(file).close();
                    case "model" -> model = NearlinePipeline.onnxModel(file);
                    case "pipeline" -> scorer = NearlinePipeline.scorer(requireStep(model, "model"), m);
                    case "score" -> requireStep(scorer, "pipeline").score(record);
                    default -> throw new IllegalArgumentException("unknown step " + args[i]);
                }
                long c = mx.getCurrentThreadCpuTime();
                long w = System.nanoTime();
                out.add(String.format(Locale.ROOT, "%s=%.1f/%.1f", args[i], (c - cpu) / 1e6, (w - wall) / 1e6));
                cpu = c;
                wall = w;
            }
        } finally {
            if (scorer != null) {
                scorer.close();
            } else if (model != null) {
                model.close();
            }
        }
        System.out.println("phases cpu/wall ms: " + String.join(" ", out) + String.format(Locale.ROOT,
                " total=%.1f/%.1f", (cpu - cpu0) / 1e6, (wall - wall0) / 1e6));
    }

    private static <T> T requireStep(T value, String step) {
        if (value == null) {
            throw new IllegalArgumentException("step '" + step + "' must come first");
        }
        return value;
    }
}
