package dev.nearline.onnx.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Writes small ONNX models with random weights, deterministically from a seed: the same arguments
 * always give the same file. Tests, the quick start and the benchmarks use these, so they all score
 * the same models without shipping binaries. The files use IR version 8 and opset 13. A test fixture:
 * it ships in scoring-onnx's test jar, not in the main jar. Stateless.
 */
public final class DemoModels {
    private static final long IR_VERSION = 8;
    private static final long OPSET = 13;
    private static final String PRODUCER = "nearline-demo-models";
    private static final String PRODUCER_VERSION = "1";

    private DemoModels() {
    }

    /**
     * Writes a logistic regression: input {@code input} FP32 {@code [-1, features]}, then
     * {@code Sigmoid(input x W + b)} with {@code W} of shape {@code [features, 1]}, output
     * {@code score} FP32 {@code [-1, 1]}. With {@code features = 30} this is the benchmarks'
     * {@code tiny} model. Creates missing parent folders and returns {@code out}.
     *
     * @throws UncheckedIOException if the file cannot be written
     */
    public static Path logistic(Path out, int features, long seed) {
        if (features < 1) {
            throw new IllegalArgumentException("features must be >= 1, got " + features);
        }
        SplittableRandom random = new SplittableRandom(seed);
        float[] weights = uniform(random, features, 1.0 / Math.sqrt(features));
        return logistic(out, weights, uniform(random, 1, 0.1)[0]);
    }

    /**
     * Writes the logistic regression of {@link #logistic(Path, int, long)} with the given weights
     * (one per feature) and bias instead of random ones, for a model whose scores mean something.
     * Creates missing parent folders and returns {@code out}.
     *
     * @throws UncheckedIOException if the file cannot be written
     */
    public static Path logistic(Path out, float[] weights, float bias) {
        int features = weights.length;
        if (features < 1) {
            throw new IllegalArgumentException("weights must not be empty");
        }
        OnnxModelWriter w = new OnnxModelWriter("logistic")
                .input("input", OnnxModelWriter.FLOAT, -1, features)
                .output("score", OnnxModelWriter.FLOAT, -1, 1)
                .initializer("weight", weights.clone(), features, 1)
                .initializer("bias", new float[] {bias}, 1)
                .node("MatMul", new String[] {"input", "weight"}, new String[] {"logit_raw"})
                .node("Add", new String[] {"logit_raw", "bias"}, new String[] {"logit"})
                .node("Sigmoid", new String[] {"logit"}, new String[] {"score"});
        return write(out, w);
    }

    /**
     * Writes a multi-layer perceptron 256 → 512 → 512 → 10 (dense layers with ReLU, then Softmax):
     * input {@code input} FP32 {@code [-1, 256]}, output {@code probabilities} FP32 {@code [-1, 10]}.
     * This is the benchmarks' {@code mlp} model. Weights are Glorot-uniform, biases small.
     * Creates missing parent folders and returns {@code out}.
     *
     * @throws UncheckedIOException if the file cannot be written
     */
    public static Path mlp(Path out, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] sizes = {256, 512, 512, 10};
        OnnxModelWriter w = new OnnxModelWriter("mlp")
                .input("input", OnnxModelWriter.FLOAT, -1, sizes[0])
                .output("probabilities", OnnxModelWriter.FLOAT, -1, sizes[sizes.length - 1]);
        String x = "input";
        for (int layer = 0; layer < sizes.length - 1; layer++) {
            int in = sizes[layer];
            int outSize = sizes[layer + 1];
            String weight = "w" + layer;
            String bias = "b" + layer;
            double limit = Math.sqrt(6.0 / (in + outSize));
            w.initializer(weight, uniform(random, in * outSize, limit), in, outSize)
                    .initializer(bias, uniform(random, outSize, 0.01), outSize)
                    .node("MatMul", new String[] {x, weight}, new String[] {"mm" + layer})
                    .node("Add", new String[] {"mm" + layer, bias}, new String[] {"dense" + layer});
            boolean last = layer == sizes.length - 2;
            String activated = last ? "probabilities" : "relu" + layer;
            w.node(last ? "Softmax" : "Relu", new String[] {"dense" + layer}, new String[] {activated});
            x = activated;
        }
        return write(out, w);
    }

    private static float[] uniform(SplittableRandom random, int n, double limit) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextDouble(-limit, limit);
        }
        return v;
    }

    private static Path write(Path out, OnnxModelWriter writer) {
        byte[] bytes = writer.toByteArray(IR_VERSION, OPSET, PRODUCER, PRODUCER_VERSION);
        try {
            Path parent = out.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.write(out, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write ONNX model " + out + ": " + e.getMessage(), e);
        }
        return out;
    }
}
