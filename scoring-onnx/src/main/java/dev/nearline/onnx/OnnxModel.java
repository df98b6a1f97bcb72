package dev.nearline.onnx;

import ai.onnxruntime.MapInfo;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.SequenceInfo;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.ValueInfo;
import dev.nearline.api.Batching;
import dev.nearline.api.DataType;
import dev.nearline.api.Model;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.onnx.internal.BatchBuffers;
import dev.nearline.onnx.internal.BatchFeed;
import dev.nearline.onnx.internal.Batches;
import dev.nearline.onnx.internal.OrtErrors;
import dev.nearline.onnx.internal.OrtRuntime;
import dev.nearline.onnx.internal.OrtTypes;
import dev.nearline.onnx.internal.OutputReader;
import dev.nearline.onnx.internal.SessionFactory;
import dev.nearline.onnx.internal.SlotPool;
import dev.nearline.onnx.internal.TensorList;
import java.nio.Buffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
    /** Created on first use: SLF4J's start-up is measurable in a cold start and this path rarely logs. */
    private static final class Log {
        static final Logger LOG = LoggerFactory.getLogger(OnnxModel.class);
    }
    /** Upper bound on the native memory held by one model's slot pool. */
    private static final long POOL_BYTES = 64L << 20;
    /**
     * Largest slot (inputs plus pinned outputs) worth pooling; records larger than this take the per-call
     * path, so one large record never pins that much native memory for the model's life.
     */
    private static final long MAX_SLOT_BYTES = POOL_BYTES / 4;
    /** Largest batch whose outputs are pinned; larger batches let ONNX Runtime allocate the outputs. */
    private static final long MAX_PINNED_BATCH_BYTES = 16L << 20;
    /** Models built and not yet closed in this class loader; tests check it returns to its start value. */
    private static final AtomicInteger OPEN = new AtomicInteger();

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
    private final OrtEnvironment env;
    private final OrtSession session;
    private final OrtSession.SessionOptions options;
    private final Device device;
    private final ModelSignature signature;
    private final String[] inputNames;
    private final TensorSpec[] inputSpecs;
    private final @Nullable String unfeedable;
    private final String[] outputNames;
    private final @Nullable Set<String> requestedOutputs;
    private final @Nullable TensorInfo[] outputTensorInfo;
    /** Per output: its data type when it is a tensor, else null (computed once: the lookup builds strings). */
    private final @Nullable DataType[] outputTypes;
    private final Set<String> sharedOutputs;
    private final boolean poolable;
    private final Batching batching;
    /** The axis predictBatch concatenates records along, or -1 when it calls predict per record. */
    private final int batchAxis;
    /** Bytes of one row of every pinned batch output (their declared shapes with the first axis 1). */
    private final long batchOutputRowBytes;
    private final AtomicReference<@Nullable SlotPool> pool = new AtomicReference<>();
    private final BatchBuffers batchBuffers;
    private final long @Nullable [][] batchOutputShapes;
    /**
     * Whether batched runs write into pinned outputs: undecided until the first batch's outputs (run
     * unpinned) confirm the declared shapes, independently of the single-record pool.
     */
    private volatile int batchPinning = PIN_UNDECIDED;
    private static final int PIN_UNDECIDED = 0;
    private static final int PIN_ON = 1;
    private static final int PIN_OFF = 2;
    private volatile boolean closed;
    private volatile boolean warnedNotSplit;
    /** Batches run as one ONNX Runtime call (not per record); for tests of this package. */
    private final LongAdder combinedBatches = new LongAdder();

    private OnnxModel(String name, OrtEnvironment env, OrtSession session, OrtSession.SessionOptions options,
            Device device, Batching batching) throws OrtException {
        this.name = name;
        this.env = env;
        this.session = session;
        this.options = options;
        this.device = device;

        List<TensorSpec> inSpecs = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        boolean anyString = false;
        for (NodeInfo node : session.getInputInfo().values()) {
            ValueInfo info = node.getInfo();
            String input = node.getName();
            if (info instanceof TensorInfo && OrtTypes.isFeedable((TensorInfo) info)) {
                TensorInfo t = (TensorInfo) info;
                DataType type = Objects.requireNonNull(OrtTypes.dataType(t));
                anyString |= type == DataType.BYTES;
                inSpecs.add(new TensorSpec(input, type, t.getShape().length == 0 ? null : t.getShape()));
            } else {
                problems.add("input '" + input + "' is " + OrtTypes.describe(info)
                        + ", which ONNX Runtime's Java API cannot create");
                long[] declared = info instanceof TensorInfo ? ((TensorInfo) info).getShape() : null;
                inSpecs.add(new TensorSpec(input, reportedType(info), declared == null || declared.length == 0 ? null : declared));
            }
        }
        this.inputSpecs = inSpecs.toArray(new TensorSpec[0]);
        this.inputNames = new String[inputSpecs.length];
        for (int i = 0; i < inputSpecs.length; i++) {
            inputNames[i] = inputSpecs[i].name();
        }
        this.unfeedable = problems.isEmpty() ? null
                : "model '" + name + "': " + String.join("; ", problems);

        List<TensorSpec> outSpecs = new ArrayList<>();
        List<String> outNames = new ArrayList<>();
        List<@Nullable TensorInfo> outInfo = new ArrayList<>();
        Set<String> shared = new HashSet<>();
        Map<String, NodeInfo> outputs = session.getOutputInfo();
        for (NodeInfo node : outputs.values()) {
            ValueInfo info = node.getInfo();
            String output = node.getName();
            if (info instanceof TensorInfo) {
                TensorInfo t = (TensorInfo) info;
                DataType type = OrtTypes.dataType(t);
                if (type == null) {
                    Log.LOG.warn("model '{}': output '{}' has element type {}, which Nearline has no data type for; "
                            + "it will not be returned", name, output, OrtTypes.elementName(t));
                    continue;
                }
                outSpecs.add(new TensorSpec(output, type, t.getShape().length == 0 ? null : t.getShape()));
                outInfo.add(t);
            } else if (info instanceof SequenceInfo && ((SequenceInfo) info).isSequenceOfMaps()) {
                MapInfo m = ((SequenceInfo) info).mapInfo;
                outSpecs.add(TensorSpec.of(output, OutputReader.mapValueType(m), -1, -1));
                outSpecs.add(TensorSpec.of(output + OutputReader.KEYS_SUFFIX, OutputReader.mapKeyType(m), -1));
                shared.add(output + OutputReader.KEYS_SUFFIX);
                outInfo.add(null);
            } else if (info instanceof MapInfo) {
                MapInfo m = (MapInfo) info;
                outSpecs.add(TensorSpec.of(output, OutputReader.mapValueType(m), -1));
                outSpecs.add(TensorSpec.of(output + OutputReader.KEYS_SUFFIX, OutputReader.mapKeyType(m), -1));
                shared.add(output + OutputReader.KEYS_SUFFIX);
                outInfo.add(null);
            } else {
                // sequence<tensor>: p.0, p.1, ... known only after a run
                outInfo.add(null);
            }
            outNames.add(output);
        }
        this.outputNames = outNames.toArray(new String[0]);
        this.outputTensorInfo = outInfo.toArray(new TensorInfo[0]);
        this.outputTypes = new DataType[outputTensorInfo.length];
        for (int k = 0; k < outputTensorInfo.length; k++) {
            TensorInfo t = outputTensorInfo[k];
            outputTypes[k] = t == null ? null : OrtTypes.dataType(t);
        }
        this.requestedOutputs = outNames.size() == outputs.size() ? null : new LinkedHashSet<>(outNames);
        this.sharedOutputs = Set.copyOf(shared);
        this.signature = new ModelSignature(inSpecs, outSpecs);

        this.poolable = unfeedable == null && !anyString && inputSpecs.length > 0 && !outNames.isEmpty();
        String problem = batchingProblem(batching, inputSpecs, outputs);
        if (problem != null) {
            throw new BatchingMismatchException("model '" + name + "': batching along axis " + batching.axis()
                    + " does not fit the model: " + problem + "; declare no batching (Batching.none(), \"none\") "
                    + "or leave batching undeclared");
        }
        this.batching = batching;
        this.batchAxis = batchAxis(batching, unfeedable == null && inputSpecs.length > 0 && !outNames.isEmpty());
        long[][] fixedShapes = poolable ? shapesFromSignature() : null;
        if (fixedShapes != null) {
            // the model fixes these shapes, so any size is worth pooling (one slot at least)
            pool.set(newPool(fixedShapes, Long.MAX_VALUE));
        }
        this.batchBuffers = new BatchBuffers(inputSpecs.length, outputNames.length, poolCapacity(0));
        this.batchOutputShapes = batchAxis == 0 && fixedShapes != null ? batchOutputShapes() : null;
        this.batchOutputRowBytes = rowBytes(batchOutputShapes);
        OPEN.incrementAndGet();
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
            return predictOne(inputs);
        } catch (OutOfMemoryError e) {
            throw OrtErrors.outOfMemory(name, e);
        }
    }

    private Tensors predictOne(Tensors inputs) {
        SlotPool p = pool.get();
        if (p == null || !fitsPool(p, inputs)) {
            // not the pooled shape (or no pool yet): full validation, then maybe create the pool
            validate(inputs);
            p = poolable && p == null ? latchPool(inputs) : null;
            if (p != null && !fitsPool(p, inputs)) {
                p = null;
            }
        }
        if (p != null) {
            SlotPool.Slot slot;
            try {
                slot = p.acquire();
            } catch (OrtException e) {
                throw OrtErrors.runFailure(name, e);
            }
            if (slot != null) {
                try {
                    return runPooled(p, slot, inputs);
                } finally {
                    p.release(slot);
                }
            }
        }
        return runPlain(inputs);
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
            if (batch.size() < 2 || batchAxis < 0) {
                return predictEach(batch);
            }
            return batchAxis == 0 ? predictRows(batch) : predictAlong(batch, batchAxis);
        } catch (OutOfMemoryError e) {
            throw OrtErrors.outOfMemory(name, e);
        }
    }

    /** {@link #predictBatch} along axis 0, on the lease's reused buffers. */
    private List<Tensors> predictRows(List<Tensors> batch) {
        int n = batch.size();
        int inputs = inputNames.length;
        long[] rows = new long[n];
        // parts[i * n + r]: input i of record r, looked up once for validation and the copy
        Tensor[] parts = new Tensor[inputs * n];
        Tensors first = batch.get(0);
        for (int i = 0; i < inputs; i++) {
            Tensor t = first.get(inputNames[i]);
            if (t == null || inputSpecs[i].mismatch(t) != null || t.rank() == 0) {
                return predictEach(batch); // reports the bad record precisely
            }
            parts[i * n] = t;
        }
        long total = 0;
        for (int i = 0; i < inputs; i++) {
            Tensor reference = parts[i * n];
            DataType type = inputSpecs[i].type();
            String inputName = inputNames[i];
            long elements = 0;
            for (int r = 0; r < n; r++) {
                Tensor t = r == 0 ? reference : batch.get(r).get(inputName);
                // same type and dimensions after the first (dynamic) one as the validated first record
                if (t == null || t.type() != type || !sameDimsExcept(t, reference, 0)) {
                    return predictEach(batch);
                }
                if (i == 0) {
                    rows[r] = t.dim(0);
                    total += rows[r];
                } else if (t.dim(0) != rows[r]) {
                    return predictEach(batch);
                }
                elements += t.size();
                parts[i * n + r] = t;
            }
            if (elements * Math.max(1, type.byteSize()) > Integer.MAX_VALUE) {
                return predictEach(batch); // beyond one direct buffer: each record fits on its own
            }
        }
        if (total > Integer.MAX_VALUE) {
            return predictEach(batch); // empty rows can be many; the batch's shape must still fit
        }
        BatchBuffers.Lease lease = batchBuffers.acquire();
        BatchFeed feed = null;
        boolean kept = false;
        try {
            // a very large batch lets ONNX Runtime allocate its outputs rather than keep pinned ones that big
            boolean pin = batchPinning == PIN_ON && total <= MAX_PINNED_BATCH_BYTES / Math.max(1, batchOutputRowBytes);
            feed = lease.feed(total, pin);
            if (feed == null) {
                feed = newFeed(lease, batch, total, pin);
                kept = lease.keep(total, feed);
            } else {
                kept = true;
            }
            for (int i = 0; i < inputs; i++) {
                Buffer view = feed.inputView(i);
                if (view != null) {
                    int at = 0;
                    for (int r = i * n, end = r + n; r < end; r++) {
                        parts[r].copyTo(view, at);
                        at += parts[r].size();
                    }
                }
            }
            if (feed.pinned()) {
                return runBatchPinned(feed, batch, rows, total);
            }
            return runBatchUnpinned(feed.inputs(), batch, rows, total);
        } catch (OrtException e) {
            throw OrtErrors.runFailure(name, e);
        } finally {
            if (feed != null && !kept) {
                feed.close();
            }
            batchBuffers.release(lease);
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
        OPEN.decrementAndGet();
        SlotPool p = pool.getAndSet(null);
        if (p != null) {
            p.close();
        }
        batchBuffers.close();
        try {
            session.close();
        } catch (OrtException e) {
            Log.LOG.warn("model '{}': closing the ONNX Runtime session failed: {}", name, OrtErrors.message(e));
        } finally {
            options.close();
        }
    }

    /** The model file and device, such as {@code OnnxModel[models/tiny.onnx on CPU]}. */
    @Override
    public String toString() {
        return "OnnxModel[" + name + " on " + device + "]";
    }

    /** Models built and not yet closed; for the leak check of this package's tests. */
    static int openModels() {
        return OPEN.get();
    }

    /** Batches {@link #predictBatch} ran as one ONNX Runtime call; for tests of this package. */
    long combinedBatches() {
        return combinedBatches.sum();
    }

    /** Whether batched runs write into pinned outputs; for tests of this package. */
    boolean batchOutputsPinned() {
        return batchPinning == PIN_ON;
    }

    /** The slot pool, once created; for tests of this package. */
    @Nullable SlotPool slotPool() {
        return pool.get();
    }

    // ---------------------------------------------------------------- per-record paths

    private void checkOpen() {
        if (closed) {
            throw new ScoringException(ScoringException.Kind.UNAVAILABLE, "model '" + name + "' is closed");
        }
    }

    /** Checks names, types and declared dimensions; allocates nothing when the record fits. */
    private void validate(Tensors inputs) {
        if (unfeedable != null) {
            throw ScoringException.invalidInput(unfeedable);
        }
        for (int i = 0; i < inputSpecs.length; i++) {
            Tensor t = inputs.get(inputNames[i]);
            if (t == null) {
                throw ScoringException.invalidInput("model '" + name + "': missing input '" + inputNames[i]
                        + "' (" + inputSpecs[i].describe() + "), got " + inputs.names());
            }
            String mismatch = inputSpecs[i].mismatch(t);
            if (mismatch != null) {
                throw ScoringException.invalidInput("model '" + name + "': input " + mismatch);
            }
        }
    }

    /**
     * Whether every input is present with its declared type and exactly the pool's shape, which
     * conforms to the signature: the whole validation a pooled record needs, and allocation-free.
     */
    private boolean fitsPool(SlotPool p, Tensors inputs) {
        for (int i = 0; i < inputNames.length; i++) {
            Tensor t = inputs.get(inputNames[i]);
            if (t == null || t.type() != inputSpecs[i].type() || !p.matches(i, t)) {
                return false;
            }
        }
        return true;
    }

    /** Creates the pool for the shapes of the first record when the signature does not fix them. */
    private @Nullable SlotPool latchPool(Tensors inputs) {
        long[][] shapes = new long[inputNames.length][];
        for (int i = 0; i < inputNames.length; i++) {
            Tensor t = Objects.requireNonNull(inputs.get(inputNames[i]));
            if (t.size() == 0) {
                return null;
            }
            shapes[i] = t.shape();
        }
        SlotPool fresh = newPool(shapes, MAX_SLOT_BYTES); // a record chose these shapes: bounded
        if (fresh == null) {
            return null;
        }
        synchronized (this) {
            if (closed) {
                return null;
            }
            return pool.compareAndSet(null, fresh) ? fresh : pool.get();
        }
    }

    private Tensors runPooled(SlotPool p, SlotPool.Slot slot, Tensors inputs) {
        for (int i = 0; i < inputNames.length; i++) {
            slot.fill(i, Objects.requireNonNull(inputs.get(inputNames[i])));
        }
        if (p.pinned()) {
            try {
                p.ensurePinned(slot);
                // The result owns nothing here: the pinned outputs belong to the slot.
                session.run(slot.inputs(), slot.outputs()).close();
                return p.readPinned(slot);
            } catch (OrtException e) {
                // Either the record is bad (the unpinned run fails too) or a declared output shape
                // was wrong for this model, and pinning must stop.
                Tensors result = runSlot(p, slot);
                p.disablePinning();
                Log.LOG.debug("model '{}': pinned outputs failed ({}), using per-call outputs", name,
                        OrtErrors.message(e));
                return result;
            }
        }
        return runSlot(p, slot);
    }

    private Tensors runSlot(SlotPool p, SlotPool.Slot slot) {
        try (OrtSession.Result r = run(slot.inputs())) {
            TensorList out = read(r);
            if (p.pinningUndecided()) {
                p.decidePinning(out);
            }
            return out.toTensors();
        } catch (OrtException e) {
            throw OrtErrors.runFailure(name, e);
        }
    }

    private Tensors runPlain(Tensors inputs) {
        return runPlainOutputs(inputs).toTensors();
    }

    private TensorList runPlainOutputs(Tensors inputs) {
        OnnxTensor[] created = new OnnxTensor[inputNames.length];
        try {
            Map<String, OnnxTensor> feed = new LinkedHashMap<>();
            for (int i = 0; i < inputNames.length; i++) {
                created[i] = OrtTypes.toOnnx(env, inputs.require(inputNames[i]));
                feed.put(inputNames[i], created[i]);
            }
            try (OrtSession.Result r = run(feed)) {
                return read(r);
            }
        } catch (OrtException e) {
            throw OrtErrors.runFailure(name, e);
        } finally {
            for (OnnxTensor t : created) {
                if (t != null) {
                    t.close();
                }
            }
        }
    }

    private OrtSession.Result run(Map<String, OnnxTensor> feed) throws OrtException {
        return requestedOutputs == null ? session.run(feed) : session.run(feed, requestedOutputs);
    }

    private TensorList read(OrtSession.Result r) throws OrtException {
        TensorList out = new TensorList(r.size());
        for (int k = 0; k < r.size(); k++) {
            OutputReader.read(name, outputNames[k], r.get(k), out);
        }
        return out;
    }

    private List<Tensors> predictEach(List<Tensors> batch) {
        List<Tensors> out = new ArrayList<>(batch.size());
        for (Tensors t : batch) {
            out.add(predict(t));
        }
        return out;
    }

    /**
     * Tensors for a batch of {@code total} rows over the lease's buffers: every numeric input over a buffer
     * the caller fills, string inputs holding {@code batch}'s values, and, when {@code pin}, every output
     * over a buffer ONNX Runtime writes into.
     */
    private BatchFeed newFeed(BatchBuffers.Lease lease, List<Tensors> batch, long total, boolean pin)
            throws OrtException {
        Buffer[] inViews = new Buffer[inputNames.length];
        Buffer[] outViews = pin ? new Buffer[outputNames.length] : null;
        Map<String, OnnxTensor> inputs = new LinkedHashMap<>();
        Map<String, OnnxTensor> outputs = pin ? new LinkedHashMap<>() : null;
        try {
            for (int i = 0; i < inputNames.length; i++) {
                Tensor first = batch.get(0).require(inputNames[i]);
                long[] shape = first.shape();
                shape[0] = total;
                DataType type = first.type();
                if (type == DataType.BYTES) {
                    List<Tensor> parts = new ArrayList<>(batch.size());
                    for (Tensors record : batch) {
                        parts.add(record.require(inputNames[i]));
                    }
                    inputs.put(inputNames[i], OnnxTensor.createTensor(env, Batches.concat(parts).toStringArray(), shape));
                } else {
                    inViews[i] = lease.input(i, type, Tensor.elementCount(shape));
                    inputs.put(inputNames[i], OrtTypes.createTensor(env, type, inViews[i], shape));
                }
            }
            if (pin) {
                long[][] declared = Objects.requireNonNull(batchOutputShapes);
                for (int k = 0; k < outputNames.length; k++) {
                    long[] shape = declared[k].clone();
                    shape[0] = total;
                    DataType type = outputSpecType(k);
                    outViews[k] = lease.output(k, type, Tensor.elementCount(shape));
                    outputs.put(outputNames[k], OrtTypes.createTensor(env, type, outViews[k], shape));
                }
            }
        } catch (Throwable e) { // OutOfMemoryError from a direct buffer too: close the tensors made so far
            new BatchFeed(inputs, inViews, outputs, outViews).close();
            throw e;
        }
        return new BatchFeed(inputs, inViews, outputs, outViews);
    }

    private List<Tensors> runBatchUnpinned(Map<String, OnnxTensor> feed, List<Tensors> batch, long[] rows, long total)
            throws OrtException {
        TensorList outputs;
        try (OrtSession.Result r = run(feed)) {
            outputs = read(r);
        }
        if (batchPinning == PIN_UNDECIDED) {
            batchPinning = batchOutputsAsDeclared(outputs, total) ? PIN_ON : PIN_OFF;
        }
        List<Tensors> split = splitRows(outputs, rows, total);
        if (split == null) {
            return predictEach(batch);
        }
        combinedBatches.increment();
        return split;
    }

    /**
     * Runs a batch with outputs written into the lease's buffers, then copies each record's rows out.
     * If the pinned run fails where an unpinned one works, the declared output shapes were wrong for
     * batches and pinning stops for batches.
     */
    private List<Tensors> runBatchPinned(BatchFeed feed, List<Tensors> batch, long[] rows, long total)
            throws OrtException {
        int records = batch.size();
        long[][] declared = Objects.requireNonNull(batchOutputShapes);
        try {
            session.run(feed.inputs(), Objects.requireNonNull(feed.outputs())).close();
        } catch (OrtException e) {
            List<Tensors> result = runBatchUnpinned(feed.inputs(), batch, rows, total); // throws if the batch is bad
            batchPinning = PIN_OFF;
            Log.LOG.debug("model '{}': pinned batch outputs failed ({}), using per-call outputs", name,
                    OrtErrors.message(e));
            return result;
        }
        if (outputNames.length == 1) {
            combinedBatches.increment();
            return splitPinnedSingle(feed.outputView(0), declared[0], rows);
        }
        List<TensorList> split = new ArrayList<>(records);
        for (int r = 0; r < records; r++) {
            split.add(new TensorList(outputNames.length));
        }
        for (int k = 0; k < outputNames.length; k++) {
            long[] oneRow = declared[k].clone();
            oneRow[0] = 1;
            int rowSize = Tensor.elementCount(oneRow);
            DataType type = outputSpecType(k);
            Object all = Batches.toArray(type, feed.outputView(k), feed.outputView(k).capacity());
            long start = 0;
            for (int r = 0; r < records; r++) {
                long[] shape = oneRow;
                if (rows[r] != 1) {
                    shape = oneRow.clone();
                    shape[0] = rows[r];
                }
                // every one-row record shares one shape array: tensors never modify it
                split.get(r).add(outputNames[k], Batches.slice(type, all, (int) (start * rowSize),
                        (int) (rows[r] * rowSize), shape));
                start += rows[r];
            }
        }
        combinedBatches.increment();
        List<Tensors> result = new ArrayList<>(records);
        for (TensorList l : split) {
            result.add(l.toTensors());
        }
        return result;
    }

    /** Whether a batch's outputs have exactly the declared types and shapes (first axis {@code total}). */
    private boolean batchOutputsAsDeclared(TensorList outputs, long total) {
        long[][] declared = batchOutputShapes;
        if (declared == null) {
            return false;
        }
        long[][] shapes = new long[declared.length][];
        for (int k = 0; k < declared.length; k++) {
            shapes[k] = declared[k].clone();
            shapes[k][0] = total;
        }
        return outputs.matches(outputNames, outputTypes, shapes);
    }

    /** {@link #runBatchPinned}'s split for the common single-output model, without per-record lists. */
    private List<Tensors> splitPinnedSingle(Buffer view, long[] declared, long[] rows) {
        DataType type = outputSpecType(0);
        long[] oneRow = declared.clone();
        oneRow[0] = 1;
        int rowSize = Tensor.elementCount(oneRow);
        Object all = Batches.toArray(type, view, view.capacity());
        // one bulk read of native memory, then cheap array copies per record
        List<Tensors> result = new ArrayList<>(rows.length);
        long start = 0;
        for (long n : rows) {
            long[] shape = oneRow;
            if (n != 1) {
                shape = oneRow.clone();
                shape[0] = n;
            }
            result.add(Tensors.of(outputNames[0], Batches.slice(type, all, (int) (start * rowSize), (int) (n * rowSize), shape)));
            start += n;
        }
        return result;
    }

    /** Each record's rows of every output; null when an output is not split by rows. */
    private @Nullable List<Tensors> splitRows(TensorList outputs, long[] rows, long total) {
        List<TensorList> split = new ArrayList<>(rows.length);
        for (int r = 0; r < rows.length; r++) {
            split.add(new TensorList(outputs.size()));
        }
        for (int k = 0; k < outputs.size(); k++) {
            Tensor t = outputs.get(k);
            String output = outputs.name(k);
            if (sharedOutputs.contains(output)) {
                for (TensorList l : split) {
                    l.add(output, t);
                }
                continue;
            }
            if (t.rank() == 0 || t.dim(0) != total) {
                warnNotSplit(output, t, 0, total);
                return null;
            }
            Object values = t.type() == DataType.BYTES ? t.toStringArray() : t.buffer();
            long start = 0;
            for (int r = 0; r < rows.length; r++) {
                split.get(r).add(output, Batches.rows(t, values, start, rows[r]));
                start += rows[r];
            }
        }
        List<Tensors> result = new ArrayList<>(rows.length);
        for (TensorList l : split) {
            result.add(l.toTensors());
        }
        return result;
    }

    private DataType outputSpecType(int k) {
        return Objects.requireNonNull(outputTypes[k]);
    }

    /** Whether {@code a} and {@code b} have the same rank and the same dimensions apart from {@code axis}. */
    private static boolean sameDimsExcept(Tensor a, Tensor b, int axis) {
        if (a.rank() != b.rank()) {
            return false;
        }
        for (int d = 0; d < a.rank(); d++) {
            if (d != axis && a.dim(d) != b.dim(d)) {
                return false;
            }
        }
        return true;
    }

    // ---------------------------------------------------------------- batching along another axis

    /**
     * {@link #predictBatch} along {@code axis} (not 0): the records' inputs joined along it on the heap, one
     * call through the per-call path, every output cut along it.
     */
    private List<Tensors> predictAlong(List<Tensors> batch, int axis) {
        int n = batch.size();
        int inputs = inputNames.length;
        long[] counts = new long[n];
        long total = 0;
        TensorList joined = new TensorList(inputs);
        for (int i = 0; i < inputs; i++) {
            Tensor reference = batch.get(0).get(inputNames[i]);
            if (reference == null || inputSpecs[i].mismatch(reference) != null || reference.rank() <= axis) {
                return predictEach(batch); // reports the bad record precisely
            }
            List<Tensor> parts = new ArrayList<>(n);
            long elements = 0;
            for (int r = 0; r < n; r++) {
                Tensor t = r == 0 ? reference : batch.get(r).get(inputNames[i]);
                if (t == null || t.type() != reference.type() || !sameDimsExcept(t, reference, axis)) {
                    return predictEach(batch);
                }
                if (i == 0) {
                    counts[r] = t.dim(axis);
                    total += counts[r];
                } else if (t.dim(axis) != counts[r]) {
                    return predictEach(batch);
                }
                elements += t.size();
                parts.add(t);
            }
            if (elements > Integer.MAX_VALUE || total > Integer.MAX_VALUE) {
                return predictEach(batch);
            }
            joined.add(inputNames[i], Batches.concatAlong(parts, axis));
        }
        TensorList outputs = runPlainOutputs(joined.toTensors());
        List<TensorList> split = new ArrayList<>(n);
        for (int r = 0; r < n; r++) {
            split.add(new TensorList(outputs.size()));
        }
        for (int k = 0; k < outputs.size(); k++) {
            Tensor t = outputs.get(k);
            if (t.rank() <= axis || t.dim(axis) != total) {
                warnNotSplit(outputs.name(k), t, axis, total);
                return predictEach(batch);
            }
            Tensor[] pieces = Batches.splitAlong(t, axis, counts);
            for (int r = 0; r < n; r++) {
                split.get(r).add(outputs.name(k), pieces[r]);
            }
        }
        combinedBatches.increment();
        List<Tensors> result = new ArrayList<>(n);
        for (TensorList l : split) {
            result.add(l.toTensors());
        }
        return result;
    }

    /** Logs once that a declared batch axis did not hold for an output, which makes batches run per record. */
    private void warnNotSplit(String output, Tensor t, int axis, long total) {
        if (batching.isDeclared() && !warnedNotSplit) {
            warnedNotSplit = true;
            Log.LOG.warn("model '{}': output '{}' has shape {}, not {} along the declared batch axis {}; "
                    + "batches of this model run one record at a time", name, output, Arrays.toString(t.shape()),
                    total, axis);
        }
    }

    // ---------------------------------------------------------------- batching set-up

    /**
     * Why {@code batching} cannot hold for a model with these inputs and outputs, or null. A declared axis must
     * exist and be dynamic (-1) in every input and every tensor output whose shape the model declares (unknown
     * shapes are checked on each batch); a ZipMap output ({@code sequence<map>}, one map per row) allows only
     * axis 0; a map or a sequence of tensors, which cannot be split per record, allows none.
     */
    private static @Nullable String batchingProblem(Batching batching, TensorSpec[] inputs, Map<String, NodeInfo> outputs) {
        if (!batching.isBatchable()) {
            return null;
        }
        int axis = batching.axis();
        for (TensorSpec s : inputs) {
            String p = axisProblem("input", s.name(), s.shape(), axis);
            if (p != null) {
                return p;
            }
        }
        for (NodeInfo node : outputs.values()) {
            ValueInfo info = node.getInfo();
            String output = node.getName();
            String p = null;
            if (info instanceof TensorInfo) {
                long[] shape = ((TensorInfo) info).getShape();
                if (OrtTypes.dataType((TensorInfo) info) != null) { // else never returned
                    p = axisProblem("output", output, shape.length == 0 ? null : shape, axis);
                }
            } else if (info instanceof SequenceInfo && ((SequenceInfo) info).isSequenceOfMaps()) {
                if (axis != 0) {
                    p = "output '" + output + "' is " + OrtTypes.describe(info)
                            + ", one map per row of axis 0, so it cannot be split along axis " + axis;
                }
            } else {
                p = "output '" + output + "' is " + OrtTypes.describe(info) + ", which cannot be split per record";
            }
            if (p != null) {
                return p;
            }
        }
        return null;
    }

    private static @Nullable String axisProblem(String what, String name, long @Nullable [] shape, int axis) {
        if (shape == null) {
            return null;
        }
        if (shape.length <= axis) {
            return what + " '" + name + "' " + Arrays.toString(shape) + " has no axis " + axis;
        }
        if (shape[axis] != -1) {
            return what + " '" + name + "' " + Arrays.toString(shape) + " has a fixed size of " + shape[axis]
                    + " on axis " + axis + ", so records cannot be concatenated along it";
        }
        return null;
    }

    /** The axis predictBatch combines records along, or -1 for none. */
    private int batchAxis(Batching declared, boolean runnable) {
        if (!runnable) {
            return -1;
        }
        if (!declared.isDeclared()) {
            return allInputsDynamicFirst() ? 0 : -1;
        }
        return declared.isBatchable() ? declared.axis() : -1;
    }

    /** Today's rule for undeclared batching: every input declares a dynamic first axis. */
    private boolean allInputsDynamicFirst() {
        for (TensorSpec s : inputSpecs) {
            long[] shape = s.shape();
            if (shape == null || shape.length == 0 || shape[0] != -1) {
                return false;
            }
        }
        return true;
    }

    /** Bytes of one row of every output in {@code shapes} (first axis taken as 1), or 0 for null. */
    private long rowBytes(long @Nullable [][] shapes) {
        if (shapes == null) {
            return 0;
        }
        long bytes = 0;
        for (int k = 0; k < shapes.length; k++) {
            long[] oneRow = shapes[k].clone();
            oneRow[0] = 1;
            bytes += elements(oneRow) * outputSpecType(k).byteSize();
        }
        return bytes;
    }

    /** The product of {@code shape}, or -1 when a dimension is negative or it exceeds {@link Integer#MAX_VALUE}. */
    private static long elements(long[] shape) {
        for (long d : shape) {
            if (d < 0) {
                return -1;
            }
            if (d == 0) {
                return 0;
            }
        }
        long n = 1;
        for (long d : shape) {
            if (d > Integer.MAX_VALUE) {
                return -1;
            }
            n *= d; // both factors within the int range: no long overflow
            if (n > Integer.MAX_VALUE) {
                return -1;
            }
        }
        return n;
    }

    /** Thrown by {@link Builder#build()} when a declared batch axis does not fit the model. */
    static final class BatchingMismatchException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        BatchingMismatchException(String message) {
            super(message);
        }
    }

    // ---------------------------------------------------------------- pool set-up

    /** Input shapes fixed by the signature (a dynamic first axis taken as 1), or null. */
    private long @Nullable [][] shapesFromSignature() {
        long[][] shapes = new long[inputSpecs.length][];
        for (int i = 0; i < inputSpecs.length; i++) {
            long[] s = inputSpecs[i].shape();
            if (s == null || s.length == 0) {
                return null;
            }
            if (s[0] == -1) {
                s[0] = 1;
            }
            for (long d : s) {
                if (d <= 0) {
                    return null;
                }
            }
            shapes[i] = s;
        }
        return shapes;
    }

    /**
     * A pool for records of {@code inputShapes}, or null when they hold too many elements for one buffer or a
     * slot (inputs plus pinned outputs) would take more than {@code maxSlotBytes}.
     */
    private @Nullable SlotPool newPool(long[][] inputShapes, long maxSlotBytes) {
        DataType[] inputTypes = new DataType[inputSpecs.length];
        long bytes = 0;
        for (int i = 0; i < inputSpecs.length; i++) {
            inputTypes[i] = inputSpecs[i].type();
            long count = elements(inputShapes[i]);
            if (count < 0) {
                return null;
            }
            bytes += count * inputTypes[i].byteSize();
        }
        long[][] outputShapes = predictOutputShapes(inputShapes);
        DataType[] pinnedTypes = null;
        if (outputShapes != null) {
            pinnedTypes = new DataType[outputNames.length];
            for (int k = 0; k < outputNames.length; k++) {
                pinnedTypes[k] = outputSpecType(k);
                bytes += elements(outputShapes[k]) * pinnedTypes[k].byteSize(); // >= 0: checked when predicted
            }
        }
        if (bytes > maxSlotBytes) {
            return null;
        }
        return new SlotPool(env, inputNames, inputTypes, inputShapes, outputNames, pinnedTypes, outputShapes,
                poolCapacity(bytes));
    }

    /**
     * Slots (or batch leases) to keep: up to 256, within {@link #POOL_BYTES}. Slots are created only when
     * needed, so the cap matters only with many callers: a caller descheduled mid-call keeps its slot, so
     * a cap near the core count sent half the calls of 64 callers down the allocating path (measured: 324k
     * against 745k records/s on the 30-feature model with 64 callers on 2 cores).
     */
    private static int poolCapacity(long bytesPerSlot) {
        int cap = 256;
        return (int) Math.max(1, Math.min(cap, POOL_BYTES / Math.max(1, bytesPerSlot)));
    }

    /**
     * Declared output shapes when every output is a fixed-width tensor with a dynamic first axis and
     * fixed other dimensions, so that batched outputs can be pinned; null otherwise.
     */
    private long @Nullable [][] batchOutputShapes() {
        if (requestedOutputs != null) {
            return null;
        }
        long[][] shapes = new long[outputNames.length][];
        for (int k = 0; k < outputNames.length; k++) {
            TensorInfo info = outputTensorInfo[k];
            if (info == null || !OrtTypes.isFeedable(info) || OrtTypes.dataType(info) == DataType.BYTES) {
                return null;
            }
            long[] s = info.getShape();
            if (s.length == 0 || s[0] != -1) {
                return null;
            }
            for (int d = 1; d < s.length; d++) {
                if (s[d] <= 0) {
                    return null;
                }
            }
            shapes[k] = s;
        }
        return shapes;
    }

    /**
     * Output shapes for pooled inputs when every output is a fixed-width tensor whose declared
     * dimensions are fixed apart from a dynamic first axis, which then equals the inputs' first
     * dimension; null otherwise. The first run confirms them before any output is pinned.
     */
    private long @Nullable [][] predictOutputShapes(long[][] inputShapes) {
        if (requestedOutputs != null) {
            return null;
        }
        long batch = -1;
        for (int i = 0; i < inputSpecs.length; i++) {
            long[] declared = inputSpecs[i].shape();
            if (declared != null && declared.length > 0 && declared[0] == -1) {
                if (batch != -1 && batch != inputShapes[i][0]) {
                    return null;
                }
                batch = inputShapes[i][0];
            }
        }
        long[][] shapes = new long[outputNames.length][];
        for (int k = 0; k < outputNames.length; k++) {
            TensorInfo info = outputTensorInfo[k];
            if (info == null || !OrtTypes.isFeedable(info) || OrtTypes.dataType(info) == DataType.BYTES) {
                return null;
            }
            long[] s = info.getShape();
            if (s.length == 0) {
                return null;
            }
            if (s[0] == -1) {
                if (batch == -1) {
                    return null;
                }
                s[0] = batch;
            }
            for (long d : s) {
                if (d <= 0) {
                    return null;
                }
            }
            if (elements(s) < 0) {
                return null; // more elements than one buffer holds: ONNX Runtime allocates, and fails, per call
            }
            shapes[k] = s;
        }
        return shapes;
    }

    private static DataType reportedType(ValueInfo info) {
        DataType t = null;
        if (info instanceof TensorInfo) {
            t = OrtTypes.dataType((TensorInfo) info);
        } else if (info instanceof MapInfo) {
            t = OutputReader.mapValueType((MapInfo) info);
        } else if (info instanceof SequenceInfo) {
            SequenceInfo s = (SequenceInfo) info;
            t = s.isSequenceOfMaps() ? OutputReader.mapValueType(s.mapInfo) : OrtTypes.dataType(s.sequenceType);
        }
        return t == null ? DataType.FP32 : t;
    }

    // ---------------------------------------------------------------- builder

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
            requireUnset(this.device == null, "device");
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
            requireUnset(this.fallbackToCpu == null, "fallbackToCpu");
            this.fallbackToCpu = fallbackToCpu;
            return this;
        }

        /** Threads that one node may use; 0 or unset leaves ONNX Runtime's default (one per physical core). */
        public Builder intraOpThreads(int threads) {
            requireUnset(intraOpThreads < 0, "intraOpThreads");
            this.intraOpThreads = nonNegative(threads, "intraOpThreads");
            return this;
        }

        /** Threads for running independent nodes in {@link ExecutionMode#PARALLEL}; 0 or unset leaves the default. */
        public Builder interOpThreads(int threads) {
            requireUnset(interOpThreads < 0, "interOpThreads");
            this.interOpThreads = nonNegative(threads, "interOpThreads");
            return this;
        }

        /** Graph optimization level; {@link GraphOptimization#ALL} when not set. */
        public Builder optimization(GraphOptimization optimization) {
            Objects.requireNonNull(optimization, "optimization");
            requireUnset(this.optimization == null, "optimization");
            this.optimization = optimization;
            return this;
        }

        /** Node execution mode; ONNX Runtime's default ({@link ExecutionMode#SEQUENTIAL}) when not set. */
        public Builder executionMode(ExecutionMode executionMode) {
            Objects.requireNonNull(executionMode, "executionMode");
            requireUnset(this.executionMode == null, "executionMode");
            this.executionMode = executionMode;
            return this;
        }

        /**
         * Whether idle thread-pool threads spin before sleeping ({@code session.intra_op.allow_spinning}
         * and {@code session.inter_op.allow_spinning}): spinning lowers latency, {@code false} saves
         * CPU on shared machines. ONNX Runtime's default (spin) when not set.
         */
        public Builder allowSpinning(boolean allowSpinning) {
            requireUnset(this.allowSpinning == null, "allowSpinning");
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
            requireUnset(this.batching == null, "batching");
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
            Path file = modelFile.toAbsolutePath();
            if (Files.isDirectory(file)) {
                throw new IllegalArgumentException("ONNX model path is a folder, expected a model file: " + file);
            }
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("ONNX model file not found: " + file);
            }
            if (!Files.isReadable(file)) {
                throw new IllegalArgumentException("ONNX model file is not readable: " + file);
            }
            OrtEnvironment env = OrtRuntime.environment();
            SessionFactory factory = new SessionFactory(env, file, optimization == null ? GraphOptimization.ALL : optimization,
                    executionMode, intraOpThreads, interOpThreads, allowSpinning);
            SessionFactory.Opened opened = factory.open(device == null ? Device.CPU : device, deviceId,
                    Boolean.TRUE.equals(fallbackToCpu));
            try {
                return new OnnxModel(modelFile.toString(), env, opened.session(), opened.options(), opened.device(),
                        batching == null ? Batching.undeclared() : batching);
            } catch (OrtException | RuntimeException e) {
                try {
                    opened.session().close();
                } catch (OrtException suppressed) {
                    e.addSuppressed(suppressed);
                }
                opened.options().close();
                if (e instanceof OrtException) {
                    throw SessionFactory.loadFailure(file, (OrtException) e);
                }
                throw (RuntimeException) e;
            }
        }

        private Builder gpu(Device gpu, int id) {
            if (id < 0) {
                throw new IllegalArgumentException("deviceId must be >= 0, got " + id);
            }
            device(gpu);
            this.deviceId = id;
            return this;
        }

        private static void requireUnset(boolean unset, String property) {
            if (!unset) {
                throw new IllegalStateException(property + " was already set");
            }
        }

        private static int nonNegative(int value, String property) {
            if (value < 0) {
                throw new IllegalArgumentException(property + " must be >= 0, got " + value);
            }
            return value;
        }
    }
}
