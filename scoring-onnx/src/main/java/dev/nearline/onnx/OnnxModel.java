package dev.nearline.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.nearline.api.Batching;
import dev.nearline.api.Model;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.ScoringException;
import dev.nearline.api.RowBatch;
import dev.nearline.api.Tensors;
import dev.nearline.api.internal.SetOnce;
import dev.nearline.onnx.internal.BatchRunner;
import dev.nearline.onnx.internal.BatchingRule;
import dev.nearline.onnx.internal.BuildChecks;
import dev.nearline.onnx.internal.ModelSession;
import dev.nearline.onnx.internal.OrtErrors;
import dev.nearline.onnx.internal.OrtRuntime;
import dev.nearline.onnx.internal.OrtSignature;
import dev.nearline.onnx.internal.RecordRunner;
import dev.nearline.onnx.internal.SessionFactory;
import dev.nearline.onnx.internal.SlotPool;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A {@link Model} that runs an ONNX file in-process with ONNX Runtime, on the CPU by default or on
 * CUDA/TensorRT with the {@code onnxruntime_gpu} artifact. Thread-safe: many threads may call
 * {@link #predict} at once. The creator owns it and must {@link #close()} it, after every call has
 * returned: {@code close} must not race with {@code predict} (the engine guarantees this).
 *
 * <p><b>Signature.</b> Element types map by name: float→FP32, double→FP64, int8, uint8, int16, int32,
 * int64, bool, string→BYTES, float16→FP16, bfloat16→BF16. An input that ONNX Runtime reports with
 * rank 0 gets a {@code null} shape (it reports rank 0 both for scalars and for inputs declared
 * without a shape). Inputs the Java API cannot create (maps, sequences, uint16/32/64 tensors) still
 * load and appear in the signature, but {@code predict} fails with {@code INVALID_INPUT} naming them.
 *
 * <p><b>Outputs.</b> Tensors map one to one (uint16 widens to INT32, uint32 and uint64 to INT64).
 * A {@code sequence<map<K,V>>} output (scikit-learn's ZipMap) named {@code p} becomes a tensor
 * {@code p} of shape {@code [rows, classes]} holding the values in ascending key order, plus
 * {@code p.keys} of shape {@code [classes]} (INT64 or BYTES) holding those sorted keys; the signature
 * declares {@code p} as {@code [-1, -1]} and {@code p.keys} as {@code [-1]}. A single
 * {@code map<K,V>} output becomes a values tensor {@code [n]} plus {@code p.keys}. A
 * {@code sequence<tensor>} output becomes {@code p.0}, {@code p.1}, ... and is not declared in the
 * signature, since its length is known only after a run.
 *
 * <p><b>Speed.</b> Records whose input shapes match the model's fixed shapes (the first axis taken
 * as 1 when dynamic) reuse pooled native buffers: their values are copied into a free slot and, once
 * the first run confirms the declared output shapes, ONNX Runtime writes outputs into pinned buffers.
 * Other shapes and string inputs take a per-call path, which still passes direct native-order
 * buffers to ONNX Runtime without copying them. Outputs are always heap copies the caller owns.
 *
 * <p><b>Batching.</b> {@link #predictBatch} combines records as {@link #batching()} says, which the builder
 * sets ({@link Builder#batching}); see {@link #predictBatch} for what each declaration does.
 */
public final class OnnxModel implements Model {
    /** Where a model runs. */
    public enum Device {
        /** ONNX Runtime's default CPU execution provider. */
        CPU,
        /** NVIDIA CUDA (needs {@code onnxruntime_gpu}, CUDA 12 and cuDNN 9). */
        CUDA,
        /** NVIDIA TensorRT, with CUDA for the nodes TensorRT does not take (needs {@code onnxruntime_gpu}). */
        TENSORRT
    }

    /** How much ONNX Runtime rewrites the graph when it loads the model. */
    public enum GraphOptimization {
        /** No graph optimization. */
        NONE,
        /** Semantics-preserving rewrites such as constant folding and redundant node removal. */
        BASIC,
        /** BASIC plus node fusions. */
        EXTENDED,
        /** Every optimization, including layout changes (ONNX Runtime's default). */
        ALL
    }

    /** Whether ONNX Runtime may run independent graph nodes in parallel. */
    public enum ExecutionMode {
        /** One node at a time, each using the intra-op thread pool (ONNX Runtime's default). */
        SEQUENTIAL,
        /** Independent nodes in parallel on the inter-op thread pool. */
        PARALLEL
    }

    private final String name;
    private final Device device;
    private final Batching batching;
    private final ModelSignature signature;
    private final ModelSession session;
    private final RecordRunner records;
    private final BatchRunner batches;
    private volatile boolean closed;

    private OnnxModel(String name, OrtEnvironment env, SessionFactory.Opened opened, Batching batching)
            throws OrtException {
        this.name = name;
        this.device = opened.device();
        this.batching = batching;
        OrtSignature sig = OrtSignature.read(name, opened.session());
        this.signature = sig.signature();
        int axis = BatchingRule.axis(batching, sig); // before any native buffer is made: it may refuse the model
        this.session = new ModelSession(name, env, opened.session(), opened.options(), sig);
        this.records = new RecordRunner(session);
        this.batches = new BatchRunner(session, records, axis, batching.isDeclared());
    }

    /**
     * A builder for a model read from {@code modelFile}.
     */
    public static Builder builder(Path modelFile) {
        return new Builder(modelFile);
    }

    /** The inputs this model takes and the outputs it returns, as described in the class documentation. */
    @Override
    public ModelSignature signature() {
        return signature;
    }

    /** The device the model runs on: {@link Device#CPU} when {@code fallbackToCpu} replaced an unavailable GPU. */
    public Device device() {
        return device;
    }

    /**
     * How {@link #predictBatch} may combine records, as declared with {@link Builder#batching}:
     * {@link Batching#undeclared()} unless the builder set it.
     */
    @Override
    public Batching batching() {
        return batching;
    }

    /**
     * Runs the model on one record. Tensors not named in the signature are ignored.
     *
     * @throws ScoringException {@code INVALID_INPUT} for a missing or mismatched input, an input the
     *     Java API cannot create, or values ONNX Runtime rejects (see the README's error table);
     *     {@code UNAVAILABLE} after {@link #close()}; {@code INTERNAL} for other ONNX Runtime failures and
     *     when memory runs out (never an {@link OutOfMemoryError})
     */
    @Override
    public Tensors predict(Tensors inputs) {
        checkOpen();
        try {
            return records.predict(inputs);
        } catch (OutOfMemoryError e) {
            throw OrtErrors.outOfMemory(name, e);
        }
    }

    /**
     * Runs several records, combining them as {@link #batching()} says:
     *
     * <ul>
     *   <li>{@link Batching#none()}: one {@link #predict} per record.</li>
     *   <li>Axis 0, and {@link Batching#undeclared() undeclared} when every input's first axis is dynamic:
     *       one ONNX Runtime call over the records concatenated along the first axis, in reused native
     *       buffers (with pinned outputs once the declared output shapes are confirmed), every output split
     *       back by rows. Undeclared, a dynamic first axis may be a sequence axis instead; the engine probes
     *       such models before it relies on batching.</li>
     *   <li>Another axis {@code k}: one call over the records concatenated along axis {@code k} of every input,
     *       every output split along axis {@code k}.</li>
     * </ul>
     *
     * Falls back to one {@link #predict} per record when the records cannot be combined (they differ in
     * type or in a dimension other than the batch axis, their inputs disagree on their extent along it, or
     * the batch would exceed {@link Integer#MAX_VALUE} elements) or when an output's extent along the batch
     * axis is not the batch's total.
     *
     * @throws ScoringException as {@link #predict} does; one bad record fails the whole call
     */
    @Override
    public List<Tensors> predictBatch(List<Tensors> batch) {
        checkOpen();
        try {
            return batches.predictBatch(batch);
        } catch (OutOfMemoryError e) {
            throw OrtErrors.outOfMemory(name, e);
        }
    }

    /**
     * As {@link #predictBatch}, but null instead of the per-record fallback: only an answer from one ONNX Runtime
     * call over the records combined (the engine's batching probe relies on that). The timeout is ignored, as
     * in {@link #predict(Tensors, java.time.Duration)}.
     */
    @Override
    public @Nullable List<Tensors> predictCombined(List<Tensors> batch, java.time.@Nullable Duration timeout) {
        checkOpen();
        try {
            return batches.predictCombined(batch);
        } catch (OutOfMemoryError e) {
            throw OrtErrors.outOfMemory(name, e);
        }
    }

    /**
     * A batch of up to {@code capacity} rows that the engine writes in place (see {@link RowBatch}): over reused
     * native buffers, with outputs ONNX Runtime writes into pinned buffers once their shapes are confirmed. Null
     * unless every input is numeric with only its first axis dynamic and records batch along axis 0.
     */
    @Override
    public @Nullable RowBatch newRowBatch(int capacity) {
        checkOpen();
        try {
            return batches.rowBatch(capacity);
        } catch (OutOfMemoryError e) {
            throw OrtErrors.outOfMemory(name, e);
        }
    }

    /**
     * Releases the session, its options and all pooled native buffers. Idempotent. Must not race with
     * {@link #predict}: the caller makes sure no call is running; later calls fail with
     * {@code UNAVAILABLE}.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        records.close();
        batches.close();
        session.close();
    }

    /** The model file and device, such as {@code OnnxModel[models/tiny.onnx on CPU]}. */
    @Override
    public String toString() {
        return "OnnxModel[" + name + " on " + device + "]";
    }

    /** Whether {@link #close()} was called; for the leak check of this package's tests. */
    boolean isClosed() {
        return closed;
    }

    /** Batches {@link #predictBatch} ran as one ONNX Runtime call; for tests of this package. */
    long combinedBatches() {
        return batches.combinedBatches();
    }

    /** Row batches {@link #newRowBatch} handed out (the engine's columnar path); for tests of this package. */
    long rowBatches() {
        return batches.rowBatches();
    }

    /** Whether batched runs write into pinned outputs; for tests of this package. */
    boolean batchOutputsPinned() {
        return batches.outputsPinned();
    }

    /** The slot pool, once created; for tests of this package. */
    @Nullable SlotPool slotPool() {
        return records.pool();
    }

    private void checkOpen() {
        if (closed) {
            throw new ScoringException(ScoringException.Kind.UNAVAILABLE, "model '" + name + "' is closed");
        }
    }

    /**
     * Configures and loads an {@link OnnxModel}. Each property can be set once; a second call throws
     * {@link IllegalStateException}. Not thread-safe.
     */
    public static final class Builder {
        private final Path modelFile;
        private @Nullable Device device;
        private int deviceId;
        private @Nullable Boolean fallbackToCpu;
        private int intraOpThreads = -1;
        private int interOpThreads = -1;
        private @Nullable GraphOptimization optimization;
        private @Nullable ExecutionMode executionMode;
        private @Nullable Boolean allowSpinning;
        private @Nullable Batching batching;

        private Builder(Path modelFile) {
            this.modelFile = Objects.requireNonNull(modelFile, "modelFile");
        }

        /** The device to run on, device id 0 for a GPU; {@link Device#CPU} when not set. */
        public Builder device(Device device) {
            Objects.requireNonNull(device, "device");
            SetOnce.check(!(this.device == null), "device");
            this.device = device;
            return this;
        }

        /** Runs on CUDA GPU {@code deviceId}; the same property as {@link #device}. */
        public Builder cuda(int deviceId) {
            return gpu(Device.CUDA, deviceId);
        }

        /** Runs on TensorRT on GPU {@code deviceId}; the same property as {@link #device}. */
        public Builder tensorrt(int deviceId) {
            return gpu(Device.TENSORRT, deviceId);
        }

        /**
         * Whether to run on the CPU, logging a warning, when the requested GPU provider is unavailable;
         * {@code false} (fail) when not set.
         */
        public Builder fallbackToCpu(boolean fallbackToCpu) {
            SetOnce.check(!(this.fallbackToCpu == null), "fallbackToCpu");
            this.fallbackToCpu = fallbackToCpu;
            return this;
        }

        /** Threads that one node may use; 0 or unset leaves ONNX Runtime's default (one per physical core). */
        public Builder intraOpThreads(int threads) {
            SetOnce.check(!(intraOpThreads < 0), "intraOpThreads");
            this.intraOpThreads = BuildChecks.nonNegative(threads, "intraOpThreads");
            return this;
        }

        /** Threads for running independent nodes in {@link ExecutionMode#PARALLEL}; 0 or unset leaves the default. */
        public Builder interOpThreads(int threads) {
            SetOnce.check(!(interOpThreads < 0), "interOpThreads");
            this.interOpThreads = BuildChecks.nonNegative(threads, "interOpThreads");
            return this;
        }

        /** Graph optimization level; {@link GraphOptimization#ALL} when not set. */
        public Builder optimization(GraphOptimization optimization) {
            Objects.requireNonNull(optimization, "optimization");
            SetOnce.check(!(this.optimization == null), "optimization");
            this.optimization = optimization;
            return this;
        }

        /** Node execution mode; ONNX Runtime's default ({@link ExecutionMode#SEQUENTIAL}) when not set. */
        public Builder executionMode(ExecutionMode executionMode) {
            Objects.requireNonNull(executionMode, "executionMode");
            SetOnce.check(!(this.executionMode == null), "executionMode");
            this.executionMode = executionMode;
            return this;
        }

        /**
         * Whether idle thread-pool threads spin before sleeping ({@code session.intra_op.allow_spinning}
         * and {@code session.inter_op.allow_spinning}): spinning lowers latency, {@code false} saves
         * CPU on shared machines. ONNX Runtime's default (spin) when not set.
         */
        public Builder allowSpinning(boolean allowSpinning) {
            SetOnce.check(!(this.allowSpinning == null), "allowSpinning");
            this.allowSpinning = allowSpinning;
            return this;
        }

        /**
         * Whether and along which axis {@link OnnxModel#predictBatch} may combine records (see {@link Batching});
         * {@link Batching#undeclared()} when not set, which batches along axis 0 when every input's first axis
         * is dynamic and lets the engine probe that this is right. Declare {@link Batching#none()} for a model
         * whose dynamic first axis is not a batch axis (a sequence or time axis, as in recurrent models), and
         * {@link Batching#alongAxis(int)} when the batch axis is known. A declared axis must exist and be
         * dynamic ({@code -1}) in every input and tensor output whose shape the model declares; a
         * {@code sequence<map>} (ZipMap) output allows only axis 0, and a {@code map} or {@code sequence<tensor>}
         * output no axis, since they cannot be split per record. {@link #build()} checks this.
         */
        public Builder batching(Batching batching) {
            Objects.requireNonNull(batching, "batching");
            SetOnce.check(!(this.batching == null), "batching");
            this.batching = batching;
            return this;
        }

        /**
         * Loads the model.
         *
         * @throws IllegalArgumentException when the file is missing or is not a valid ONNX model (the
         *     message names the file), when a requested GPU provider is unavailable without
         *     {@code fallbackToCpu}, or when a declared batch axis does not fit the model (the message names
         *     the input or output)
         * @throws IllegalStateException when the environment is wrong: both ONNX Runtime artifacts on
         *     the class path, or the OS locale {@code en_US.UTF-8} missing for a text model
         */
        public OnnxModel build() {
            Path file = BuildChecks.readableFile(modelFile);
            OrtEnvironment env = OrtRuntime.environment();
            SessionFactory factory = new SessionFactory(env, file, optimization == null ? GraphOptimization.ALL : optimization,
                    executionMode, intraOpThreads, interOpThreads, allowSpinning);
            SessionFactory.Opened opened = factory.open(device == null ? Device.CPU : device, deviceId,
                    Boolean.TRUE.equals(fallbackToCpu));
            try {
                return new OnnxModel(modelFile.toString(), env, opened, batching == null ? Batching.undeclared() : batching);
            } catch (OrtException | RuntimeException e) {
                throw opened.closeAfter(file, e);
            }
        }

        private Builder gpu(Device gpu, int id) {
            BuildChecks.nonNegative(id, "deviceId");
            device(gpu);
            this.deviceId = id;
            return this;
        }
    }
}
