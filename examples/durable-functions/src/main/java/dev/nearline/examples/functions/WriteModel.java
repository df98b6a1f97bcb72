package dev.nearline.examples.functions;

import dev.nearline.onnx.testing.DemoModels;
import java.nio.file.Path;

/**
 * Writes the example's fraud model, a logistic regression over the 13 features of
 * {@code fraud-pipeline.json}, into the deployable folder at package time; a real app ships its own
 * trained model there instead.
 */
public final class WriteModel {
    /** Feature weights, in the order the pipeline's {@code json-features} preprocessor writes them. */
    static final float[] WEIGHTS = {
        0.004f,                                // amount
        0.0f,                                  // hour
        -1.0f, -0.8f, -0.5f, 0.8f, 0.6f, 1.5f, // merchant category, one-hot
        -1.5f,                                 // card present
        1.2f,                                  // foreign
        0.45f,                                 // transactions in the last hour
        0.002f,                                // distance from home, km
        -0.004f,                               // account age, days
    };
    static final float BIAS = -3.0f;

    private WriteModel() {
    }

    /** {@code args[0]}: the model file to write. */
    public static void main(String[] args) {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: WriteModel <model file>");
        }
        DemoModels.logistic(Path.of(args[0]), WEIGHTS, BIAS);
    }
}
