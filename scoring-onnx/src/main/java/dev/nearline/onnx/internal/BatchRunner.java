package dev.nearline.onnx.internal;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.nearline.api.DataType;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import java.nio.Buffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * Runs several records as one ONNX Runtime call when they can be joined along the model's batch axis
 * ({@link BatchingRule}), else one at a time through the {@link RecordRunner}. Along axis 0 the records are
 * copied into a lease of reused direct buffers ({@link BatchBuffers}) and, once an unpinned batch confirms
 * the declared output shapes ({@link Pinning}), ONNX Runtime writes into pinned outputs; along another axis
 * they are joined on the heap and run on the plain path. Every output is split back per record.
 * Thread-safe; {@link #close()} must not race with {@link #predictBatch}.
 */
public final class BatchRunner {
    /** Largest batch whose outputs are pinned; larger batches let ONNX Runtime allocate the outputs. */
    private static final long MAX_PINNED_BATCH_BYTES = 16L << 20;

    private final ModelSession session;
    private final OrtSignature sig;
    private final RecordRunner records;
    /** The axis records are joined along, or -1 to run them one at a time. */
    private final int axis;
    /** Whether the axis was declared (a declared axis that does not hold for an output is worth a warning). */
    private final boolean declared;
    private final BatchBuffers buffers;
    /** Declared output shapes (first axis dynamic) when axis-0 batches may pin their outputs, else null. */
    private final long @Nullable [][] pinnableShapes;
    /** Bytes of one row of every pinnable output. */
    private final long outputRowBytes;
    /** Independent of the slot pool's: batches confirm their own output shapes. */
    private volatile Pinning pinning = Pinning.UNDECIDED;
    private volatile boolean warnedNotSplit;
    private final LongAdder combined = new LongAdder();

    /**
     * A runner joining records along {@code axis} ({@link BatchingRule#axis}), falling back to {@code records};
     * {@code declared} says whether the model declared that axis.
     */
    public BatchRunner(ModelSession session, RecordRunner records, int axis, boolean declared) {
        this.session = session;
        this.sig = session.sig;
        this.records = records;
        this.axis = axis;
        this.declared = declared;
        this.buffers = new BatchBuffers(sig.inputNames.length, sig.outputNames.length, PoolSizing.capacity(0));
        // only where the signature fixes every input shape but the first axis (the records' pool shapes)
        this.pinnableShapes = axis == 0 && sig.poolable() && PoolSizing.fixedInputShapes(sig) != null
                ? pinnableShapes(sig) : null;
        this.outputRowBytes = rowBytes(sig, pinnableShapes);
    }

    /** Runs {@code batch} as {@link dev.nearline.onnx.OnnxModel#predictBatch} documents. */
    public List<Tensors> predictBatch(List<Tensors> batch) {
        if (batch.size() < 2 || axis < 0) {
            return predictEach(batch);
        }
        return axis == 0 ? predictRows(batch) : predictAlong(batch);
    }

    /** Batches run as one ONNX Runtime call (not per record); for tests. */
    public long combinedBatches() {
        return combined.sum();
    }

    /** Whether batches write into pinned outputs; for tests. */
    public boolean outputsPinned() {
        return pinning == Pinning.ON;
    }

    /** Closes the kept leases' native tensors. */
    public void close() {
        buffers.close();
    }

    private List<Tensors> predictEach(List<Tensors> batch) {
        List<Tensors> out = new ArrayList<>(batch.size());
        for (Tensors t : batch) {
            out.add(records.predict(t));
        }
        return out;
    }

    /**
     * The records' inputs, checked to be joinable along {@code axis}: parts[i * n + r] is input i of record r,
     * counts[r] record r's extent along the axis and total their sum. Null (run record by record, which
     * reports a bad record precisely) when the first record does not fit the signature, the records differ
     * in type or in a dimension other than the axis, a record's inputs disagree on their extent along it, or
     * the batch would exceed {@link Integer#MAX_VALUE} elements ({@code weighBytes}: bytes, for one direct
     * buffer).
     */
    private @Nullable Gathered gather(List<Tensors> batch, int axis, boolean weighBytes) {
        int n = batch.size();
        int inputs = sig.inputNames.length;
        Tensor[] parts = new Tensor[inputs * n];
        Tensors first = batch.get(0);
        for (int i = 0; i < inputs; i++) {
            Tensor t = first.get(sig.inputNames[i]);
            if (t == null || sig.inputSpecs[i].mismatch(t) != null || t.rank() <= axis) {
                return null;
            }
            parts[i * n] = t;
        }
        long[] counts = new long[n];
        long total = 0;
        for (int i = 0; i < inputs; i++) {
            Tensor reference = parts[i * n];
            DataType type = reference.type();
            String inputName = sig.inputNames[i];
            long elements = 0;
            for (int r = 0; r < n; r++) {
                Tensor t = r == 0 ? reference : batch.get(r).get(inputName);
                // same type and dimensions apart from the axis as the validated first record
                if (t == null || t.type() != type || !Shapes.sameDimsExcept(t, reference, axis)) {
                    return null;
                }
                if (i == 0) {
                    counts[r] = t.dim(axis);
                    total += counts[r];
                } else if (t.dim(axis) != counts[r]) {
                    return null;
                }
                elements += t.size();
                parts[i * n + r] = t;
            }
            if (elements * (weighBytes ? Math.max(1, type.byteSize()) : 1) > Integer.MAX_VALUE) {
                return null; // beyond one buffer: each record fits on its own
            }
        }
        if (total > Integer.MAX_VALUE) {
            return null; // empty records can be many; the batch's shape must still fit
        }
        return new Gathered(parts, counts, total);
    }

    /** Every input of every record ({@code parts[i * n + r]}), each record's extent along the axis, their sum. */
    private record Gathered(Tensor[] parts, long[] counts, long total) {
    }

    // ---------------------------------------------------------------- axis 0, on reused native buffers

    private List<Tensors> predictRows(List<Tensors> batch) {
        Gathered g = gather(batch, 0, true);
        if (g == null) {
            return predictEach(batch);
        }
        int n = batch.size();
        Tensor[] parts = g.parts();
        BatchBuffers.Lease lease = buffers.acquire();
        BatchFeed feed = null;
        boolean kept = false;
        try {
            // a very large batch lets ONNX Runtime allocate its outputs rather than keep pinned ones that big
            boolean pin = pinning == Pinning.ON && g.total() <= MAX_PINNED_BATCH_BYTES / Math.max(1, outputRowBytes);
            feed = lease.feed(g.total(), pin);
            if (feed == null) {
                feed = newFeed(lease, g, n, pin);
                kept = lease.keep(g.total(), feed);
            } else {
                kept = true;
            }
            for (int i = 0; i < sig.inputNames.length; i++) {
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
                return runPinned(feed, batch, g.counts(), g.total());
            }
            return runUnpinned(feed.inputs(), batch, g.counts(), g.total());
        } catch (OrtException e) {
            throw session.failure(e);
        } finally {
            if (feed != null && !kept) {
                feed.close();
            }
            buffers.release(lease);
        }
    }

    /**
     * Tensors for a batch of {@code g.total()} rows over the lease's buffers: every numeric input over a
     * buffer the caller fills, string inputs holding the records' values, and, when {@code pin}, every
     * output over a buffer ONNX Runtime writes into.
     */
    private BatchFeed newFeed(BatchBuffers.Lease lease, Gathered g, int n, boolean pin) throws OrtException {
        String[] inputNames = sig.inputNames;
        String[] outputNames = sig.outputNames;
        Buffer[] inViews = new Buffer[inputNames.length];
        Buffer[] outViews = pin ? new Buffer[outputNames.length] : null;
        Map<String, OnnxTensor> inputs = new LinkedHashMap<>();
        Map<String, OnnxTensor> outputs = pin ? new LinkedHashMap<>() : null;
        try {
            for (int i = 0; i < inputNames.length; i++) {
                Tensor first = g.parts()[i * n];
                long[] shape = Shapes.withFirst(first.shape(), g.total());
                DataType type = first.type();
                if (type == DataType.BYTES) {
                    List<Tensor> parts = Arrays.asList(g.parts()).subList(i * n, i * n + n);
                    inputs.put(inputNames[i], OnnxTensor.createTensor(session.env,
                            Batches.concat(parts).toStringArray(), shape));
                } else {
                    inViews[i] = lease.input(i, type, Tensor.elementCount(shape));
                    inputs.put(inputNames[i], OrtTypes.createTensor(session.env, type, inViews[i], shape));
                }
            }
            if (pin) {
                long[][] declared = Objects.requireNonNull(pinnableShapes);
                for (int k = 0; k < outputNames.length; k++) {
                    long[] shape = Shapes.withFirst(declared[k], g.total());
                    DataType type = sig.outputType(k);
                    outViews[k] = lease.output(k, type, Tensor.elementCount(shape));
                    outputs.put(outputNames[k], OrtTypes.createTensor(session.env, type, outViews[k], shape));
                }
            }
        } catch (Throwable e) { // OutOfMemoryError from a direct buffer too: close the tensors made so far
            new BatchFeed(inputs, inViews, outputs, outViews).close();
            throw e;
        }
        return new BatchFeed(inputs, inViews, outputs, outViews);
    }

    private List<Tensors> runUnpinned(Map<String, OnnxTensor> feed, List<Tensors> batch, long[] rows, long total)
            throws OrtException {
        TensorList outputs;
        try (OrtSession.Result r = session.run(feed)) {
            outputs = session.read(r);
        }
        if (pinning == Pinning.UNDECIDED) {
            pinning = Pinning.decided(outputsAsDeclared(outputs, total));
        }
        List<Tensors> split = splitRows(outputs, rows, total);
        if (split == null) {
            return predictEach(batch);
        }
        combined.increment();
        return split;
    }

    /**
     * Runs a batch with outputs written into the lease's buffers, then copies each record's rows out.
     * If the pinned run fails where an unpinned one works, the declared output shapes were wrong for
     * batches and pinning stops for batches.
     */
    private List<Tensors> runPinned(BatchFeed feed, List<Tensors> batch, long[] rows, long total)
            throws OrtException {
        long[][] declared = Objects.requireNonNull(pinnableShapes);
        try {
            session.runInto(feed.inputs(), Objects.requireNonNull(feed.outputs()));
        } catch (OrtException e) {
            List<Tensors> result = runUnpinned(feed.inputs(), batch, rows, total); // throws if the batch is bad
            pinning = Pinning.OFF;
            Log.LOG.debug("model '{}': pinned batch outputs failed ({}), using per-call outputs", session.model,
                    OrtErrors.message(e));
            return result;
        }
        String[] names = sig.outputNames;
        if (names.length == 1) {
            // the common single-output model, without per-record lists
            combined.increment();
            Tensor[] pieces = pinnedRows(feed.outputView(0), declared[0], sig.outputType(0), rows);
            List<Tensors> result = new ArrayList<>(rows.length);
            for (Tensor piece : pieces) {
                result.add(Tensors.of(names[0], piece));
            }
            return result;
        }
        List<TensorList> split = perRecord(rows.length, names.length);
        for (int k = 0; k < names.length; k++) {
            Tensor[] pieces = pinnedRows(feed.outputView(k), declared[k], sig.outputType(k), rows);
            for (int r = 0; r < rows.length; r++) {
                split.get(r).add(names[k], pieces[r]);
            }
        }
        combined.increment();
        return toTensors(split);
    }

    /** Each record's rows of one pinned output: one bulk read of native memory, then cheap array copies. */
    private static Tensor[] pinnedRows(Buffer view, long[] declared, DataType type, long[] rows) {
        long[] oneRow = Shapes.withFirst(declared, 1);
        int rowSize = Tensor.elementCount(oneRow);
        Object all = Batches.toArray(type, view, view.capacity());
        Tensor[] pieces = new Tensor[rows.length];
        long start = 0;
        for (int r = 0; r < rows.length; r++) {
            // every one-row record shares one shape array: tensors never modify it
            long[] shape = rows[r] == 1 ? oneRow : Shapes.withFirst(oneRow, rows[r]);
            pieces[r] = Batches.slice(type, all, (int) (start * rowSize), (int) (rows[r] * rowSize), shape);
            start += rows[r];
        }
        return pieces;
    }

    /** Whether a batch's outputs have exactly the declared types and shapes (first axis {@code total}). */
    private boolean outputsAsDeclared(TensorList outputs, long total) {
        long[][] declared = pinnableShapes;
        if (declared == null) {
            return false;
        }
        long[][] shapes = new long[declared.length][];
        for (int k = 0; k < declared.length; k++) {
            shapes[k] = Shapes.withFirst(declared[k], total);
        }
        return outputs.matches(sig.outputNames, sig.outputTypes, shapes);
    }

    /** Each record's rows of every output; null when an output is not split by rows. */
    private @Nullable List<Tensors> splitRows(TensorList outputs, long[] rows, long total) {
        List<TensorList> split = perRecord(rows.length, outputs.size());
        for (int k = 0; k < outputs.size(); k++) {
            Tensor t = outputs.get(k);
            String output = outputs.name(k);
            if (sig.sharedOutputs.contains(output)) {
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
        return toTensors(split);
    }

    // ---------------------------------------------------------------- another axis, on the heap

    /** The records' inputs joined along the axis on the heap, one plain call, every output cut along it. */
    private List<Tensors> predictAlong(List<Tensors> batch) {
        Gathered g = gather(batch, axis, false);
        if (g == null) {
            return predictEach(batch);
        }
        int n = batch.size();
        TensorList joined = new TensorList(sig.inputNames.length);
        for (int i = 0; i < sig.inputNames.length; i++) {
            joined.add(sig.inputNames[i], Batches.concatAlong(Arrays.asList(g.parts()).subList(i * n, i * n + n), axis));
        }
        TensorList outputs = session.runPlain(joined.toTensors());
        List<TensorList> split = perRecord(n, outputs.size());
        for (int k = 0; k < outputs.size(); k++) {
            Tensor t = outputs.get(k);
            if (t.rank() <= axis || t.dim(axis) != g.total()) {
                warnNotSplit(outputs.name(k), t, axis, g.total());
                return predictEach(batch);
            }
            Tensor[] pieces = Batches.splitAlong(t, axis, g.counts());
            for (int r = 0; r < n; r++) {
                split.get(r).add(outputs.name(k), pieces[r]);
            }
        }
        combined.increment();
        return toTensors(split);
    }

    // ---------------------------------------------------------------- shared

    private static List<TensorList> perRecord(int records, int outputs) {
        List<TensorList> split = new ArrayList<>(records);
        for (int r = 0; r < records; r++) {
            split.add(new TensorList(outputs));
        }
        return split;
    }

    private static List<Tensors> toTensors(List<TensorList> split) {
        List<Tensors> result = new ArrayList<>(split.size());
        for (TensorList l : split) {
            result.add(l.toTensors());
        }
        return result;
    }

    /** Logs once that a declared batch axis did not hold for an output, which makes batches run per record. */
    private void warnNotSplit(String output, Tensor t, int axis, long total) {
        if (declared && !warnedNotSplit) {
            warnedNotSplit = true;
            Log.LOG.warn("model '{}': output '{}' has shape {}, not {} along the declared batch axis {}; "
                    + "batches of this model run one record at a time", session.model, output,
                    Arrays.toString(t.shape()), total, axis);
        }
    }

    /**
     * Declared output shapes when every output is a fixed-width tensor with a dynamic first axis and
     * fixed other dimensions, so that batched outputs can be pinned; null otherwise.
     */
    private static long @Nullable [][] pinnableShapes(OrtSignature sig) {
        long[][] shapes = sig.tensorOutputShapes();
        if (shapes == null) {
            return null;
        }
        for (long[] s : shapes) {
            if (s[0] != -1) {
                return null;
            }
            for (int d = 1; d < s.length; d++) {
                if (s[d] <= 0) {
                    return null;
                }
            }
        }
        return shapes;
    }

    /** Bytes of one row of every output in {@code shapes} (first axis taken as 1), or 0 for null. */
    private static long rowBytes(OrtSignature sig, long @Nullable [][] shapes) {
        if (shapes == null) {
            return 0;
        }
        long bytes = 0;
        for (int k = 0; k < shapes.length; k++) {
            bytes += Shapes.elements(Shapes.withFirst(shapes[k], 1)) * sig.outputType(k).byteSize();
        }
        return bytes;
    }
}
