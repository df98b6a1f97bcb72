package dev.nearline.benchmarks;

import dev.nearline.api.Scorer;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.core.Challenger;
import dev.nearline.core.DriftMonitor;
import dev.nearline.core.MetricsRecorder;
import dev.nearline.core.Pipeline;
import dev.nearline.core.QualityMonitor;
import dev.nearline.core.Stages;
import dev.nearline.onnx.OnnxModel;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The Nearline contender: a code-built pipeline that does what the raw baselines do, and no more.
 * float[] record → {@code input} [1, features] (wrapping the array, constant shape) → the ONNX model →
 * the first element of the first output as a Float.
 */
final class NearlinePipeline {
    /** The largest micro-batch when batching is on. */
    static final int MAX_BATCH = 32;
    private NearlinePipeline() {
    }

    /** A scorer over {@code file}; the caller closes it. */
    static Scorer<float[], Float> scorer(Path file, BenchModel model) {
        return scorer(onnxModel(file), model);
    }

    /** The ONNX model with the session settings every contender uses. */
    static OnnxModel onnxModel(Path file) {
        return OnnxModel.builder(file)
                .intraOpThreads(Settings.INTRA_OP_THREADS)
                .interOpThreads(Settings.INTER_OP_THREADS)
                .build();
    }

    /** A scorer over {@code onnx}, which it then owns and closes. */
    static Scorer<float[], Float> scorer(OnnxModel onnx, BenchModel model) {
        return scorer(onnx, model, null);
    }

    /**
     * As {@link #scorer(OnnxModel, BenchModel)} with the ready-made stages {@link Stages#floats} and
     * {@link Stages#floatAt} in place of the lambdas: they work on rows, so a record is written straight into the
     * model's reused input buffer and its score read from the pinned output in place, as the raw floor does.
     */
    static Scorer<float[], Float> stagesScorer(OnnxModel onnx, BenchModel model) {
        return Pipeline.builder(Stages.floats(BenchModel.INPUT, model.features))
                .name(model.label)
                .model(onnx)
                .build(Stages.floatAt(model.output, 0));
    }

    /**
     * As {@link #scorer(OnnxModel, BenchModel)}, with the built-in {@link MetricsRecorder} as listener and a
     * {@link DriftMonitor} on the input row and the score, both with their defaults: what "leave it on"
     * costs.
     */
    static Scorer<float[], Float> observedScorer(OnnxModel onnx, BenchModel model) {
        long[] shape = model.recordShape();
        return Pipeline.builder((float[] record) -> Tensors.of(BenchModel.INPUT, Tensor.ofFloats(record, shape)))
                .name(model.label)
                .model(onnx)
                .listener(new MetricsRecorder())
                .monitor(DriftMonitor.builder().build())
                .build(out -> out.get(0).floatAt(0));
    }

    /**
     * As {@link #qualityScorer} without the quality monitor: the same records through the same stages, so the
     * two differ only in tracking.
     */
    static Scorer<Keyed, Float> keyedScorer(OnnxModel onnx, BenchModel model) {
        return keyed(onnx, model).build(out -> out.get(0).floatAt(0));
    }

    private static Pipeline.Builder<Keyed> keyed(OnnxModel onnx, BenchModel model) {
        long[] shape = model.recordShape();
        return Pipeline
                .builder((Keyed record) -> Tensors.of(BenchModel.INPUT, Tensor.ofFloats(record.values(), shape)))
                .name(model.label)
                .model(onnx);
    }

    /** A record with its id, as a quality-monitored pipeline reads it. */
    record Keyed(String id, float[] values) {
    }

    /**
     * As {@link #scorer(OnnxModel, BenchModel)} for {@link Keyed} records, with a {@link QualityMonitor} at its
     * defaults keeping every prediction under the record's id (no labels are given: the cost of keeping them),
     * and, when {@code challenger} is not null, a challenger on a 10% sample of the records.
     */
    static Scorer<Keyed, Float> qualityScorer(OnnxModel onnx, BenchModel model, OnnxModel challenger) {
        Pipeline.Builder<Keyed> builder = keyed(onnx, model).quality(QualityMonitor.builder().build(), Keyed::id);
        if (challenger != null) {
            builder.challenger(Challenger.builder().model(challenger).sample(0.10).build());
        }
        return builder.build(out -> out.get(0).floatAt(0));
    }

    /**
     * As {@link #scorer(OnnxModel, BenchModel)}, with micro-batching in {@code batchMode} when it is not
     * null: up to {@link #MAX_BATCH} records per model call, no waiting for company (a batch is what
     * queued up during the previous call).
     */
    static Scorer<float[], Float> scorer(OnnxModel onnx, BenchModel model, Pipeline.BatchMode batchMode) {
        long[] shape = model.recordShape();
        Pipeline.Builder<float[]> builder = Pipeline
                .builder((float[] record) -> Tensors.of(BenchModel.INPUT, Tensor.ofFloats(record, shape)))
                .name(model.label)
                .model(onnx);
        if (batchMode != null) {
            builder.batching(MAX_BATCH, Duration.ZERO, batchMode);
        }
        return builder.build(out -> out.get(0).floatAt(0));
    }
}
