package dev.nearline.benchmarks;

import dev.nearline.onnx.testing.DemoModels;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The two benchmark models, written by {@link DemoModels} from fixed seeds so that every run, fork
 * and machine scores the same weights: {@code tiny}, a 30-feature logistic regression (MatMul, Add,
 * Sigmoid; output {@code score} [n, 1]), and {@code mlp}, dense 256→512→512→10 with ReLU and Softmax
 * (output {@code probabilities} [n, 10]). Both take {@code input} FP32 [n, features].
 */
enum BenchModel {
    TINY("tiny", "tiny.onnx", 30, "score", 1),
    MLP("mlp", "mlp.onnx", 256, "probabilities", 10);

    /** The name of every model's input tensor. */
    static final String INPUT = "input";
    private static final long MODEL_SEED = 42;
    private static final long RECORD_SEED = 7;

    // Names are literals, not concatenations: the first string concatenation of a JVM costs several
    // milliseconds (invokedynamic bootstrap), which ColdStart would otherwise charge to the contender.
    final String label;
    final String fileName;
    final int features;
    final String output;
    final int outputs;

    BenchModel(String label, String fileName, int features, String output, int outputs) {
        this.label = label;
        this.fileName = fileName;
        this.features = features;
        this.output = output;
        this.outputs = outputs;
    }

    /** The model named by a {@code @Param} value ({@code tiny} or {@code mlp}). */
    static BenchModel of(String name) {
        return valueOf(name.toUpperCase(Locale.ROOT));
    }

    /** Writes the model into {@code dir} (deterministically) and returns its path. */
    Path write(Path dir) {
        Path file = dir.resolve(fileName);
        return this == TINY ? DemoModels.logistic(file, features, MODEL_SEED) : DemoModels.mlp(file, MODEL_SEED);
    }

    /** One record: {@code features} values in [-1, 1), the same on every call. */
    float[] record() {
        return record(0);
    }

    /**
     * Record number {@code variant}: like {@link #record()} (variant 0), drawn with another seed, so that a
     * batch of different records is what the engine sees (a model that does not declare its batch axis is
     * batched only once a batch of different records showed batched = single).
     */
    float[] record(int variant) {
        SplittableRandom random = new SplittableRandom(RECORD_SEED + 7919L * variant);
        float[] r = new float[features];
        for (int i = 0; i < r.length; i++) {
            r[i] = (float) random.nextDouble(-1, 1);
        }
        return r;
    }

    /** The shape of one record's input tensor: {@code [1, features]}. */
    long[] recordShape() {
        return new long[] {1, features};
    }
}
