package dev.nearline.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.sun.management.ThreadMXBean;
import dev.nearline.api.Preprocessor;
import dev.nearline.api.Scorer;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.onnx.OnnxModel;
import java.lang.management.ManagementFactory;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Where the bytes that {@code OverheadBenchmark} reports per {@code nearline} record come from: each
 * stage of the per-record path run on its own, warmed up, with the bytes the thread allocated per call
 * ({@code ThreadMXBean.getThreadAllocatedBytes}). Results escape to a static field, so no escape
 * analysis hides allocations here: the stages add up to a little more than {@code -prof gc} reports
 * for the whole inlined call. Single-threaded; a diagnostic, not a benchmark.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.nearline.benchmarks.AllocationBreakdown [tiny|mlp]
 * </pre>
 */
public final class AllocationBreakdown {
    private static final int WARMUP = 200_000;
    private static final int CALLS = 100_000;
    private static volatile Object sink;

    private AllocationBreakdown() {
    }

    public static void main(String[] args) throws Exception {
        BenchModel m = BenchModel.of(args.length > 0 ? args[0] : "tiny");
        Path dir = TempFiles.tempDir("nearline-alloc-");
        try (RawOrt raw = new RawOrt(m.write(dir))) {
            Path file = dir.resolve(m.fileName);
            float[] record = m.record();
            long[] shape = m.recordShape();

            FloatBuffer in = RawOrt.directFloats(m.features);
            FloatBuffer out = RawOrt.directFloats(m.outputs);
            try (OnnxTensor inTensor = OnnxTensor.createTensor(raw.env, in, shape);
                 OnnxTensor outTensor = OnnxTensor.createTensor(raw.env, out, new long[] {1, m.outputs})) {
                Map<String, OnnxTensor> inputs = Map.of(BenchModel.INPUT, inTensor);
                Map<String, OnnxTensor> outputs = Map.of(m.output, outTensor);
                print(m, "ONNX Runtime run with pinned outputs (rawOrtPinned)", () -> {
                    in.put(0, record);
                    try {
                        raw.session.run(inputs, outputs).close();
                    } catch (OrtException e) {
                        throw new IllegalStateException(e);
                    }
                    return out;
                });
            }
            Preprocessor<float[]> pre = r -> Tensors.of(BenchModel.INPUT, Tensor.ofFloats(r, shape));
            print(m, "preprocessor: Tensors.of(name, Tensor.ofFloats(record, SHAPE))", () -> pre.preprocess(record));
            print(m, "  of which Tensor.ofFloats", () -> Tensor.ofFloats(record, shape));
            try (OnnxModel model = NearlinePipeline.onnxModel(file)) {
                Tensors modelInputs = pre.preprocess(record);
                print(m, "OnnxModel.predict (ONNX Runtime run included)", () -> model.predict(modelInputs));
                Tensors modelOutputs = model.predict(modelInputs);
                print(m, "postprocessor: out.get(0).floatAt(0) as Float", () -> (Float) modelOutputs.get(0).floatAt(0));
            }
            try (Scorer<float[], Float> scorer = NearlinePipeline.scorer(file, m)) {
                print(m, "Scorer.score, the whole call", () -> scorer.score(record));
            }
        } finally {
            TempFiles.deleteTree(dir);
        }
    }

    private static void print(BenchModel m, String what, Supplier<Object> op) {
        ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int i = 0; i < WARMUP; i++) {
            sink = op.get();
        }
        long before = mx.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < CALLS; i++) {
            sink = op.get();
        }
        long bytes = mx.getCurrentThreadAllocatedBytes() - before;
        System.out.println(String.format(Locale.ROOT, "%-5s %-66s %7.1f B/call", m.label, what,
                bytes / (double) CALLS));
    }
}
