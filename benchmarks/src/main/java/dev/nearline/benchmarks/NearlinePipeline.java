package dev.nearline.benchmarks;

import dev.nearline.api.Scorer;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.core.Pipeline;
import dev.nearline.onnx.OnnxModel;
import java.nio.file.Path;

/**
 * The Nearline contender: a code-built pipeline that does what the raw baselines do, and no more.
 * float[] record → {@code input} [1, features] (wrapping the array, constant shape) → the ONNX model →
 * the first element of the first output as a Float.
 */
final class NearlinePipeline {
    private NearlinePipeline() {
    }

    /** A scorer over {@code file}; the caller closes it. */
    static Scorer<float[], Float> scorer(Path file, BenchModel model) {
        long[] shape = model.recordShape();
        return Pipeline.builder((float[] record) -> Tensors.of(BenchModel.INPUT, Tensor.ofFloats(record, shape)))
                .name("bench-" + model.name().toLowerCase(java.util.Locale.ROOT))
                .model(OnnxModel.builder(file)
                        .intraOpThreads(Settings.INTRA_OP_THREADS)
                        .interOpThreads(Settings.INTER_OP_THREADS)
                        .build())
                .build(out -> out.get(0).floatAt(0));
    }
}
