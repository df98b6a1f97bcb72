package dev.nearline.benchmarks;

import ai.djl.MalformedModelException;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.NoBatchifyTranslator;
import ai.djl.translate.TranslatorContext;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The DJL contender: the same {@code .onnx} file on DJL's ONNX Runtime engine, with the minimal
 * translator a user writes for a float record and a float score. It does not batchify, because DJL's
 * default {@code STACK} batchifier needs a second engine (PyTorch) that ONNX Runtime delegates
 * {@code stack} to; without one, {@code NoBatchifyTranslator} is what DJL's own docs suggest.
 */
final class Djl {
    private Djl() {
    }

    /**
     * Starts DJL's ONNX Runtime engine. It creates ONNX Runtime's process-wide environment itself (with
     * global thread pools that the sessions here do not use) and fails if one exists already, so in a
     * JVM that runs DJL this must come before any other ONNX Runtime use. Idempotent.
     */
    static void startEngine() {
        Engine.getEngine("OnnxRuntime");
    }

    /** Loads {@code file} with the thread settings every contender uses. */
    static ZooModel<float[], Float> load(Path file, BenchModel model)
            throws IOException, ModelNotFoundException, MalformedModelException {
        Criteria<float[], Float> criteria = Criteria.builder()
                .setTypes(float[].class, Float.class)
                .optModelPath(file)
                .optEngine("OnnxRuntime")
                .optTranslator(new FloatScore(new Shape(1, model.features)))
                // DJL reads intraOpNumThreads only when interOpNumThreads is set too.
                .optOption("interOpNumThreads", Integer.toString(Settings.INTER_OP_THREADS))
                .optOption("intraOpNumThreads", Integer.toString(Settings.INTRA_OP_THREADS))
                .build();
        return criteria.loadModel();
    }

    /** float[] → NDArray [1, features]; first output's first element → Float. */
    private static final class FloatScore implements NoBatchifyTranslator<float[], Float> {
        private final Shape shape;

        FloatScore(Shape shape) {
            this.shape = shape;
        }

        @Override
        public NDList processInput(TranslatorContext ctx, float[] input) {
            return new NDList(ctx.getNDManager().create(input, shape));
        }

        @Override
        public Float processOutput(TranslatorContext ctx, NDList list) {
            return list.get(0).toFloatArray()[0];
        }
    }
}
