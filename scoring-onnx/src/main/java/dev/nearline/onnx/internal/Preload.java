package dev.nearline.onnx.internal;

/**
 * Loads and links, ahead of use, the classes a cold JVM needs between the ONNX Runtime environment and the first
 * score: the rest of the model build (session options, session, signature, pools), the engine of a code-built or
 * file-built pipeline, and the first score's row and per-record paths. {@link OrtRuntime} runs it on the caller's
 * thread while the native library starts on another, a wait of tens of milliseconds in which that thread would
 * otherwise idle; it stops as soon as the native start-up is done, so it never delays the caller.
 *
 * <p>In a cold JVM a class costs about 0.3 ms to read from its jar, define and verify; Nearline's first score
 * needs about a hundred that hand-written ONNX Runtime code does not. Loading runs no static initialiser. The list
 * comes from {@code -Xlog:class+load} of the first score of a {@code Stages}, a lambda and a pipeline-file scorer
 * (classes loaded after the environment, in that order; not those of a first {@code scoreAll}, which would only
 * compete with the start-up for the cores). A class missing from the class path (scoring-core is optional for this
 * module) is skipped, and a test checks that every name still exists. Not part of the public API.
 */
final class Preload {
    /** In the order a cold first score loads them. */
    static final String[] CLASSES = {
            "dev.nearline.onnx.internal.SessionFactory",
            "dev.nearline.onnx.OnnxModel$GraphOptimization",
            "dev.nearline.onnx.OnnxModel$Device",
            "ai.onnxruntime.OrtSession$SessionOptions",
            "ai.onnxruntime.OrtProviderOptions",
            "ai.onnxruntime.providers.StringConfigProviderOptions",
            "ai.onnxruntime.providers.OrtTensorRTProviderOptions",
            "ai.onnxruntime.providers.OrtCUDAProviderOptions",
            "ai.onnxruntime.OrtSession$SessionOptions$OptLevel",
            "dev.nearline.onnx.internal.SessionFactory$Opened",
            "ai.onnxruntime.OrtSession",
            "dev.nearline.api.Batching",
            "dev.nearline.onnx.internal.OrtSignature",
            "ai.onnxruntime.NodeInfo",
            "ai.onnxruntime.ValueInfo",
            "ai.onnxruntime.TensorInfo",
            "ai.onnxruntime.TensorInfo$OnnxTensorType",
            "ai.onnxruntime.OnnxJavaType",
            "ai.onnxruntime.OnnxJavaType$1",
            "ai.onnxruntime.OrtUtil",
            "dev.nearline.onnx.internal.OrtTypes",
            "dev.nearline.api.DataType",
            "dev.nearline.onnx.internal.OrtTypes$1",
            "dev.nearline.api.TensorSpec",
            "dev.nearline.api.ModelSignature",
            "dev.nearline.onnx.internal.BatchingRule",
            "dev.nearline.onnx.internal.BatchingMismatchException",
            "dev.nearline.onnx.internal.ModelSession",
            "dev.nearline.onnx.internal.RecordRunner",
            "dev.nearline.onnx.internal.PoolSizing",
            "dev.nearline.onnx.internal.Shapes",
            "dev.nearline.onnx.internal.SlotPool",
            "dev.nearline.onnx.internal.Pinning",
            "dev.nearline.onnx.internal.BatchRunner",
            "dev.nearline.onnx.internal.NotSplitWarning",
            "dev.nearline.core.Stages",
            "dev.nearline.api.RowPreprocessor",
            "dev.nearline.api.RowPostprocessor",
            "dev.nearline.core.Stages$1",
            "dev.nearline.core.Pipeline",
            "dev.nearline.core.Pipeline$Builder",
            "dev.nearline.api.Scorer",
            "dev.nearline.core.ManagedScorer",
            "dev.nearline.core.internal.Step",
            "dev.nearline.core.internal.RowsReader",
            "dev.nearline.core.Stages$FloatAt",
            "dev.nearline.api.Ticker",
            "dev.nearline.api.internal.SystemTicker",
            "dev.nearline.core.internal.RecordObserver",
            "dev.nearline.core.internal.RecordObserver$None",
            "dev.nearline.api.ScoringListener",
            "dev.nearline.api.ScoringListener$1",
            "dev.nearline.core.internal.EngineOptions",
            "dev.nearline.core.internal.Engine",
            "dev.nearline.core.internal.MicroBatcher$Request",
            "dev.nearline.core.internal.WaitingRecord",
            "dev.nearline.core.internal.RowRecord",
            "dev.nearline.core.internal.BatchedRecord",
            "dev.nearline.core.internal.StepRunner",
            "dev.nearline.core.internal.BoundedPreprocessor",
            "dev.nearline.core.internal.RowOne",
            "dev.nearline.core.internal.EngineRowWriter$NotARow",
            "dev.nearline.api.RowWriter",
            "dev.nearline.core.internal.Deadlines",
            "dev.nearline.core.internal.Bindings",
            "dev.nearline.core.internal.Bindings$DeclaresOutputs",
            "dev.nearline.core.internal.Generations",
            "dev.nearline.core.internal.Engine$ModelCloser",
            "dev.nearline.core.internal.Generations$Generation",
            "dev.nearline.core.internal.Warmup",
            "dev.nearline.core.internal.AsyncPool",
            "dev.nearline.core.internal.RowPlan",
            "dev.nearline.onnx.internal.RowBatches",
            "dev.nearline.api.RowBatch",
            "dev.nearline.onnx.internal.BatchBuffers",
            "dev.nearline.onnx.internal.RowBatches$RowLayout",
            "dev.nearline.api.Tensor",
            "dev.nearline.onnx.internal.BatchBuffers$Lease",
            "dev.nearline.onnx.internal.RowBatches$Rows",
            "dev.nearline.api.internal.BufferRows",
            "dev.nearline.core.internal.EngineRowWriter",
            "ai.onnxruntime.OnnxValue",
            "ai.onnxruntime.OnnxTensorLike",
            "ai.onnxruntime.OnnxTensor",
            "ai.onnxruntime.OrtUtil$BufferTuple",
            "ai.onnxruntime.TensorInfo$1",
            "dev.nearline.onnx.internal.BatchFeed",
            "ai.onnxruntime.OrtSession$Result",
            "dev.nearline.onnx.internal.TensorList",
            "dev.nearline.onnx.internal.OutputReader",
            "dev.nearline.api.Tensors",
            "dev.nearline.onnx.internal.SlotPool$Slot",
            "dev.nearline.onnx.internal.Batches",
            "dev.nearline.onnx.internal.Batches$1",
            "dev.nearline.api.ScoringException$Kind",
            "dev.nearline.core.internal.ScorePostprocessor",
            "dev.nearline.core.internal.RecordLimits$Budget",
            "dev.nearline.core.internal.Records",
            "dev.nearline.api.internal.BufferRows$1",
            "dev.nearline.api.Tensors$Builder",
            "dev.nearline.api.Tensor$1"
    };

    private Preload() {
    }

    /**
     * Loads and links {@link #CLASSES} with {@code loader}, in order, while {@code busy} runs; returns how many it
     * loaded. A class that cannot be loaded or linked is skipped: its first real use reports the problem.
     */
    static int whileAlive(Thread busy, ClassLoader loader) {
        int loaded = 0;
        for (String name : CLASSES) {
            if (!busy.isAlive()) {
                break;
            }
            try {
                // Linking (which verifies) is most of a class's cost; asking for the constructors links the class
                // without initialising it.
                Class.forName(name, false, loader).getDeclaredConstructors();
                loaded++;
            } catch (ClassNotFoundException | LinkageError | SecurityException e) { // NOPMD: see above
                // not on the class path, or broken: left to its first use
            }
        }
        return loaded;
    }
}
