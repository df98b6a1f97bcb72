package dev.nearline.benchmarks;

import dev.nearline.api.Scorer;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.core.Pipeline;
import dev.nearline.onnx.OnnxModel;
import dev.nearline.onnx.testing.DemoModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Scores N records (default 1,000,000) one by one through {@code Scorer.score} on the {@code tiny} model
 * and prints the process's resident set size (VmRSS from /proc/self/status, Linux) and the Java heap in
 * use every 10% of the run. Native memory that is not released (an unclosed ONNX Runtime tensor or result)
 * shows as RSS that keeps growing; a flat line after warm-up means every native object is closed.
 *
 * <p>Run (a fixed, pre-touched heap keeps heap growth out of the RSS figure):
 * {@code java -Xms128m -Xmx128m -XX:+AlwaysPreTouch -cp benchmarks/target/benchmarks.jar
 * dev.nearline.benchmarks.MemoryCheck [records]}.
 */
public final class MemoryCheck {
    private static final long[] SHAPE = {1, 30};

    private MemoryCheck() {
    }

    /** Runs the check; see the class documentation. */
    public static void main(String[] args) throws IOException {
        long records = args.length > 0 ? Long.parseLong(args[0]) : 1_000_000L;
        Path dir = Files.createTempDirectory("nearline-memcheck");
        Path model = DemoModels.logistic(dir.resolve("tiny.onnx"), 30, 42);
        float[] record = new float[30];
        for (int i = 0; i < record.length; i++) {
            record[i] = (i % 7) / 7f;
        }
        System.out.printf(Locale.ROOT, "%12s %10s %10s%n", "records", "RSS MiB", "heap MiB");
        double sum = 0;
        try (Scorer<float[], Float> scorer = Pipeline.builder((float[] r) -> Tensors.of("input", Tensor.ofFloats(r, SHAPE)))
                .model(OnnxModel.builder(model).intraOpThreads(1).build())
                .build(out -> out.get(0).floatAt(0))) {
            long step = Math.max(1, records / 10);
            print(0);
            for (long i = 1; i <= records; i++) {
                record[(int) (i % 30)] = (i % 100) / 100f;
                sum += scorer.score(record);
                if (i % step == 0) {
                    print(i);
                }
            }
        }
        System.out.printf(Locale.ROOT, "checksum %.3f%n", sum);
    }

    private static void print(long records) throws IOException {
        Runtime rt = Runtime.getRuntime();
        System.out.printf(Locale.ROOT, "%,12d %10.1f %10.1f%n", records, rssKib() / 1024.0,
                (rt.totalMemory() - rt.freeMemory()) / 1048576.0);
    }

    private static long rssKib() throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.exists(status)) {
            return -1;
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
