package dev.nearline.onnx.internal;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.nearline.api.DataType;
import dev.nearline.api.RowBatch;
import dev.nearline.api.RowWriter;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.api.internal.BufferRows;
import java.nio.Buffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Batches joined along axis 0 on reused native memory: the records are copied into a lease of direct
 * buffers ({@link BatchBuffers}), whose ONNX Runtime tensors ({@link BatchFeed}) later batches of the same
 * row count reuse, and once an unpinned batch confirms the declared output shapes ({@link Pinning}), ONNX
 * Runtime writes into pinned outputs too. Every output is split back by rows. Thread-safe;
 * {@link #close()} must not race with {@link #run}.
 */
final class RowBatches {
    /** Largest batch whose outputs are pinned; larger batches let ONNX Runtime allocate the outputs. */
    private static final long MAX_PINNED_BATCH_BYTES = 16L << 20;

    private final ModelSession session;
    private final OrtSignature sig;
    private final NotSplitWarning notSplit;
    private final BatchBuffers buffers;
    /** Declared output shapes (first axis dynamic) when outputs may be pinned, else null. */
    private final long @Nullable [][] pinnableShapes;
    /** Bytes of one row of every pinnable output. */
    private final long outputRowBytes;
    /** The row layout of the columnar path, or null when the inputs do not allow it. */
    private final @Nullable RowLayout rowLayout;
    /** Independent of the slot pool's: batches confirm their own output shapes. */
    private volatile Pinning pinning = Pinning.UNDECIDED;

    RowBatches(ModelSession session, NotSplitWarning notSplit) {
        this.session = session;
        this.sig = session.sig;
        this.notSplit = notSplit;
        this.buffers = new BatchBuffers(sig.inputNames.length, sig.outputNames.length, PoolSizing.capacity(0));
        // only where the signature fixes every input shape but the first axis, as for the records' pool
        this.pinnableShapes = sig.poolable() && PoolSizing.fixedInputShapes(sig) != null ? pinnableShapes(sig) : null;
        this.outputRowBytes = rowBytes(sig, pinnableShapes);
        this.rowLayout = RowLayout.of(sig);
    }

    /** Each record's outputs, or null when an output is not split by rows (the caller runs them one by one). */
    @Nullable List<Tensors> run(BatchInputs in) {
        int n = in.records();
        Tensor[] parts = in.parts();
        BatchBuffers.Lease lease = buffers.acquire();
        BatchFeed feed = null;
        boolean kept = false;
        try {
            // a very large batch lets ONNX Runtime allocate its outputs rather than keep pinned ones that big
            boolean pin = pinning == Pinning.ON && in.total() <= MAX_PINNED_BATCH_BYTES / Math.max(1, outputRowBytes);
            feed = lease.feed(in.total(), pin);
            if (feed == null) {
                feed = newFeed(lease, in, pin);
                kept = lease.keep(in.total(), feed);
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
                return runPinned(feed, in.counts(), in.total());
            }
            return runUnpinned(feed.inputs(), in.counts(), in.total());
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
     * A batch of up to {@code capacity} rows written in place (the engine's columnar path), or null when an
     * input is not numeric with a fixed size per record, or the rows would not fit the batch bounds.
     */
    @Nullable RowBatch rowBatch(int capacity) {
        RowLayout layout = rowLayout;
        if (layout == null || capacity < 1 || layout.rowBytes * capacity > MAX_ROW_BATCH_BYTES) {
            return null;
        }
        BatchBuffers.Lease lease = buffers.acquire();
        try {
            Object kept = lease.keptRows(capacity);
            if (kept instanceof Rows && ((Rows) kept).capacity == capacity) {
                return ((Rows) kept).reopen();
            }
            Rows rows = new Rows(lease, capacity, layout.shapes, layout.types, layout.widths);
            lease.keepRows(capacity, rows);
            return rows;
        } catch (Throwable e) { // OutOfMemoryError from a direct buffer too: the lease goes back
            buffers.release(lease);
            throw e;
        }
    }

    /** One record's row of every input, when each is numeric with only its first axis dynamic. */
    private record RowLayout(long[][] shapes, DataType[] types, int[] widths, long rowBytes) {
        static @Nullable RowLayout of(OrtSignature sig) {
            long[][] fixed = PoolSizing.fixedInputShapes(sig);
            if (fixed == null) {
                return null;
            }
            int n = sig.inputNames.length;
            DataType[] types = new DataType[n];
            int[] widths = new int[n];
            long rowBytes = 0;
            for (int i = 0; i < n; i++) {
                long[] declared = sig.inputSpecs[i].shape();
                types[i] = sig.inputSpecs[i].type();
                if (types[i] == DataType.BYTES || declared == null || declared[0] != -1) {
                    return null;
                }
                widths[i] = Tensor.elementCount(fixed[i]);
                rowBytes += (long) widths[i] * types[i].byteSize();
            }
            return new RowLayout(fixed, types, widths, rowBytes);
        }
    }

    /** Input bytes of a row batch at most: beyond it the engine makes per-record batches. */
    private static final long MAX_ROW_BATCH_BYTES = 256L << 20;

    /**
     * Rows written straight into a lease's input buffers; one run over the filled rows, whose outputs (over
     * pinned buffers once confirmed) stay valid until {@link #close()}. Used by one thread.
     */
    private final class Rows implements RowBatch {
        private final int capacity;
        private final long[][] rowShapes;
        private final DataType[] types;
        private final BatchBuffers.Lease lease;
        private final BufferRows writer;
        private @Nullable BatchFeed unkept;
        private boolean closed;

        Rows(BatchBuffers.Lease lease, int capacity, long[][] rowShapes, DataType[] types, int[] widths) {
            this.capacity = capacity;
            this.rowShapes = rowShapes;
            this.types = types;
            this.lease = lease;
            Buffer[] in = new Buffer[types.length];
            for (int i = 0; i < types.length; i++) {
                in[i] = lease.input(i, types[i], capacity * widths[i]);
            }
            this.writer = new BufferRows(sig.inputNames, types, widths, in);
        }

        /** This batch again, for the thread that has just acquired its lease. */
        Rows reopen() {
            closed = false;
            return this;
        }

        @Override
        public int capacity() {
            return capacity;
        }

        @Override
        public RowWriter row(int row) {
            if (row < 0 || row >= capacity) {
                throw new IndexOutOfBoundsException("row " + row + " of a batch of " + capacity);
            }
            writer.select(row);
            return writer;
        }

        @Override
        public Tensors run(int rows, @Nullable Duration timeout) {
            if (rows < 1 || rows > capacity) {
                throw new IllegalArgumentException("rows must be 1 to " + capacity + ", got " + rows);
            }
            try {
                boolean pin = pinning == Pinning.ON && rows <= MAX_PINNED_BATCH_BYTES / Math.max(1, outputRowBytes);
                BatchFeed feed = lease.feed(rows, pin);
                if (feed == null) {
                    long[][] shapes = new long[rowShapes.length][];
                    for (int i = 0; i < shapes.length; i++) {
                        shapes[i] = Shapes.withFirst(rowShapes[i], rows);
                    }
                    feed = newFeed(lease, shapes, types, new String[types.length][], rows, pin);
                    if (!lease.keep(rows, feed)) {
                        closeUnkept();
                        unkept = feed;
                    }
                }
                if (feed.pinned()) {
                    try {
                        session.runInto(feed.inputs(), Objects.requireNonNull(feed.outputs()));
                        return pinnedOutputs(feed, rows);
                    } catch (OrtException e) {
                        Tensors out = unpinned(feed.inputs(), rows); // throws if the batch is bad
                        pinning = Pinning.OFF;
                        Log.LOG.debug("model '{}': pinned row-batch outputs failed ({}), using per-call outputs",
                                session.model, OrtErrors.message(e));
                        return out;
                    }
                }
                return unpinned(feed.inputs(), rows);
            } catch (OrtException e) {
                throw session.failure(e);
            }
        }

        private Tensors unpinned(Map<String, OnnxTensor> feed, int rows) throws OrtException {
            TensorList outputs;
            try (OrtSession.Result r = session.run(feed)) {
                outputs = session.read(r);
            }
            if (pinning == Pinning.UNDECIDED) {
                pinning = Pinning.decided(outputsAsDeclared(outputs, rows));
            }
            return outputs.toTensors();
        }

        /** The pinned outputs as tensors over their buffers: no copy; valid until this batch is closed. */
        private Tensors pinnedOutputs(BatchFeed feed, int rows) {
            Tensors kept = feed.pinnedTensors();
            if (kept != null) {
                return kept; // the same views for every batch over this feed: the values are this run's
            }
            long[][] declared = Objects.requireNonNull(pinnableShapes);
            String[] names = sig.outputNames;
            Tensors.Builder b = Tensors.builder();
            for (int k = 0; k < names.length; k++) {
                b.add(names[k], Tensor.of(sig.outputType(k), feed.outputView(k), Shapes.withFirst(declared[k], rows)));
            }
            Tensors made = names.length == 1 ? Tensors.of(names[0], b.build().get(0)) : b.build();
            feed.keepPinnedTensors(made);
            return made;
        }

        private void closeUnkept() {
            if (unkept != null) {
                unkept.close();
                unkept = null;
            }
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                closeUnkept();
                buffers.release(lease);
            }
        }
    }

    /** Whether batches write into pinned outputs; for tests. */
    boolean outputsPinned() {
        return pinning == Pinning.ON;
    }

    /** Closes the kept leases' native tensors. */
    void close() {
        buffers.close();
    }

    /**
     * Tensors for a batch of {@code in.total()} rows over the lease's buffers: every numeric input over a
     * buffer the caller fills, string inputs holding the records' values, and, when {@code pin}, every
     * output over a buffer ONNX Runtime writes into.
     */
    private BatchFeed newFeed(BatchBuffers.Lease lease, BatchInputs in, boolean pin) throws OrtException {
        int n = sig.inputNames.length;
        long[][] shapes = new long[n][];
        DataType[] types = new DataType[n];
        @Nullable String[][] strings = new String[n][];
        for (int i = 0; i < n; i++) {
            Tensor first = in.parts()[i * in.records()];
            shapes[i] = Shapes.withFirst(first.shape(), in.total());
            types[i] = first.type();
            if (types[i] == DataType.BYTES) {
                strings[i] = Batches.concat(in.input(i)).toStringArray();
            }
        }
        return newFeed(lease, shapes, types, strings, in.total(), pin);
    }

    /**
     * Tensors for a batch of {@code rows} rows of {@code shapes} over the lease's buffers: every numeric input
     * over a buffer the caller fills, a string input holding {@code strings[i]}, and, when {@code pin}, every
     * output over a buffer ONNX Runtime writes into.
     */
    private BatchFeed newFeed(BatchBuffers.Lease lease, long[][] shapes, DataType[] types,
                              @Nullable String[][] strings, long rows, boolean pin) throws OrtException {
        String[] inputNames = sig.inputNames;
        String[] outputNames = sig.outputNames;
        Buffer[] inViews = new Buffer[inputNames.length];
        Buffer[] outViews = pin ? new Buffer[outputNames.length] : null;
        Map<String, OnnxTensor> inputs = new LinkedHashMap<>();
        Map<String, OnnxTensor> outputs = pin ? new LinkedHashMap<>() : null;
        try {
            for (int i = 0; i < inputNames.length; i++) {
                if (types[i] == DataType.BYTES) {
                    inputs.put(inputNames[i], OnnxTensor.createTensor(session.env, Objects.requireNonNull(strings[i]),
                            shapes[i]));
                } else {
                    inViews[i] = lease.input(i, types[i], Tensor.elementCount(shapes[i]));
                    inputs.put(inputNames[i], OrtTypes.createTensor(session.env, types[i], inViews[i], shapes[i]));
                }
            }
            if (pin) {
                long[][] declared = Objects.requireNonNull(pinnableShapes);
                for (int k = 0; k < outputNames.length; k++) {
                    long[] shape = Shapes.withFirst(declared[k], rows);
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

    private @Nullable List<Tensors> runUnpinned(Map<String, OnnxTensor> feed, long[] rows, long total)
            throws OrtException {
        TensorList outputs;
        try (OrtSession.Result r = session.run(feed)) {
            outputs = session.read(r);
        }
        if (pinning == Pinning.UNDECIDED) {
            pinning = Pinning.decided(outputsAsDeclared(outputs, total));
        }
        return splitRows(outputs, rows, total);
    }

    /**
     * Runs a batch with outputs written into the lease's buffers, then copies each record's rows out.
     * If the pinned run fails where an unpinned one works, the declared output shapes were wrong for
     * batches and pinning stops for batches.
     */
    private @Nullable List<Tensors> runPinned(BatchFeed feed, long[] rows, long total) throws OrtException {
        long[][] declared = Objects.requireNonNull(pinnableShapes);
        try {
            session.runInto(feed.inputs(), Objects.requireNonNull(feed.outputs()));
        } catch (OrtException e) {
            List<Tensors> result = runUnpinned(feed.inputs(), rows, total); // throws if the batch is bad
            pinning = Pinning.OFF;
            Log.LOG.debug("model '{}': pinned batch outputs failed ({}), using per-call outputs", session.model,
                    OrtErrors.message(e));
            return result;
        }
        String[] names = sig.outputNames;
        if (names.length == 1) {
            // the common single-output model, without per-record lists
            Tensor[] pieces = pinnedRows(feed.outputView(0), declared[0], sig.outputType(0), rows);
            List<Tensors> result = new ArrayList<>(rows.length);
            for (Tensor piece : pieces) {
                result.add(Tensors.of(names[0], piece));
            }
            return result;
        }
        List<TensorList> split = TensorList.perRecord(rows.length, names.length);
        for (int k = 0; k < names.length; k++) {
            Tensor[] pieces = pinnedRows(feed.outputView(k), declared[k], sig.outputType(k), rows);
            for (int r = 0; r < rows.length; r++) {
                split.get(r).add(names[k], pieces[r]);
            }
        }
        return TensorList.toTensors(split);
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
        List<TensorList> split = TensorList.perRecord(rows.length, outputs.size());
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
                notSplit.warn(output, t, 0, total);
                return null;
            }
            Object values = t.type() == DataType.BYTES ? t.toStringArray() : t.buffer();
            long start = 0;
            for (int r = 0; r < rows.length; r++) {
                split.get(r).add(output, Batches.rows(t, values, start, rows[r]));
                start += rows[r];
            }
        }
        return TensorList.toTensors(split);
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
