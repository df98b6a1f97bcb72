package dev.nearline.examples.keda;

import dev.nearline.onnx.testing.DemoModels;
import java.nio.file.Path;

/**
 * Writes the example's demo models at package time (a build step, not part of the worker jar):
 * {@code tiny}, the 30-feature logistic regression that the ConfigMap's pipeline loads from
 * {@code /models/tiny.onnx} (input {@code input} FP32 [-1, 30], output {@code score} FP32 [-1, 1]), and
 * {@code mlp}, the 256-input network of {@code k8s/gpu.yaml}. A real deployment puts its trained model in
 * {@code model/} instead; the build copies that folder over these.
 */
public final class WriteModels {
    /** The seed the tests, the benchmarks and this example write {@code tiny} with. */
    static final long SEED = 42;

    private WriteModels() {
    }

    /** {@code args}: pairs of a model kind ({@code tiny} or {@code mlp}) and the file to write. */
    public static void main(String[] args) {
        if (args.length == 0 || args.length % 2 != 0) {
            throw new IllegalArgumentException("usage: WriteModels (tiny|mlp FILE)...");
        }
        for (int i = 0; i < args.length; i += 2) {
            Path file = Path.of(args[i + 1]);
            switch (args[i]) {
                case "tiny" -> DemoModels.logistic(file, 30, SEED);
                case "mlp" -> DemoModels.mlp(file, SEED);
                default -> throw new IllegalArgumentException("model kind must be tiny or mlp, got '" + args[i] + "'");
            }
        }
    }
}
