package dev.nearline.onnx.internal;

import dev.nearline.api.Tensor;
import dev.nearline.api.RowBatch;
import dev.nearline.api.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * Runs several records as one ONNX Runtime call when they can be joined along the model's batch axis
 * ({@link BatchingRule}, {@link BatchInputs}): along axis 0 on reused native buffers ({@link RowBatches}),
 * along another axis on the heap through the plain path; every output is split back per record. Runs the
 * records one at a time through the {@link RecordRunner} when they cannot be joined or an output is not
 * split along the axis. Thread-safe; {@link #close()} must not race with {@link #predictBatch}.
 */
public final class BatchRunner {
    private final ModelSession session;
    private final OrtSignature sig;
    private final RecordRunner records;
    /** The axis records are joined along, or -1 to run them one at a time. */
    private final int axis;
    private final NotSplitWarning notSplit;
    /**
     * The axis-0 path, made by the first batch (so a model that only ever scores single records loads none of
     * its classes); null before, and for another axis or none.
     */
    private volatile @Nullable RowBatches rows;
    /** Once per combined call, not per record: a plain atomic (a {@code LongAdder} costs its class set-up at load). */
    private final AtomicLong combined = new AtomicLong();
    /** Row batches handed out: once per columnar batch, not per record. */
    private final AtomicLong rowBatches = new AtomicLong();

    /**
     * A runner joining records along {@code axis} (from {@link BatchingRule#axis}), falling back to
     * {@code records}; {@code declared} says whether the model declared that axis.
     */
    public BatchRunner(ModelSession session, RecordRunner records, int axis, boolean declared) {
        this.session = session;
        this.sig = session.sig;
        this.records = records;
        this.axis = axis;
        this.notSplit = new NotSplitWarning(session.model, declared);
    }

    /** Runs {@code batch} as {@link dev.nearline.onnx.OnnxModel#predictBatch} documents. */
    public List<Tensors> predictBatch(List<Tensors> batch) {
        if (batch.size() < 2 || axis < 0) {
            return predictEach(batch);
        }
        List<Tensors> out = predictCombined(batch);
        return out != null ? out : predictEach(batch);
    }

    /** The records as one combined ONNX Runtime call, or null when they cannot be combined (or split back). */
    public @Nullable List<Tensors> predictCombined(List<Tensors> batch) {
        if (batch.size() < 2 || axis < 0) {
            return null;
        }
        RowBatches r = rows();
        BatchInputs in = BatchInputs.gather(sig, batch, axis, r != null);
        List<Tensors> out = in == null ? null : r != null ? r.run(in) : runAlong(in);
        if (out != null) {
            combined.incrementAndGet();
        }
        return out;
    }

    /** A batch of rows written in place along axis 0, or null when this model cannot offer one. */
    public @Nullable RowBatch rowBatch(int capacity) {
        RowBatches r = rows();
        RowBatch b = r == null ? null : r.rowBatch(capacity);
        if (b != null) {
            rowBatches.incrementAndGet();
        }
        return b;
    }

    /** Row batches handed out to the engine's columnar path; for tests. */
    public long rowBatches() {
        return rowBatches.get();
    }

    /** Batches run as one ONNX Runtime call (not per record); for tests. */
    public long combinedBatches() {
        return combined.get();
    }

    /** Whether axis-0 batches write into pinned outputs; for tests. */
    public boolean outputsPinned() {
        RowBatches r = rows;
        return r != null && r.outputsPinned();
    }

    /** Closes the native buffers kept for batches. */
    public synchronized void close() {
        RowBatches r = rows;
        if (r != null) {
            r.close();
        }
    }

    /** The axis-0 path, made on first use; null for another axis or none. */
    private @Nullable RowBatches rows() {
        RowBatches r = rows;
        if (r == null && axis == 0) {
            synchronized (this) {
                r = rows;
                if (r == null) {
                    r = new RowBatches(session, notSplit);
                    rows = r;
                }
            }
        }
        return r;
    }

    private List<Tensors> predictEach(List<Tensors> batch) {
        List<Tensors> out = new ArrayList<>(batch.size());
        for (Tensors t : batch) {
            out.add(records.predict(t));
        }
        return out;
    }

    /**
     * The records' inputs joined along the axis (not 0) on the heap, one call through the plain path,
     * every output cut along it; null when an output is not.
     */
    private @Nullable List<Tensors> runAlong(BatchInputs in) {
        int n = in.records();
        TensorList joined = new TensorList(sig.inputNames.length);
        for (int i = 0; i < sig.inputNames.length; i++) {
            joined.add(sig.inputNames[i], Batches.concatAlong(in.input(i), axis));
        }
        TensorList outputs = session.runPlain(joined.toTensors());
        List<TensorList> split = TensorList.perRecord(n, outputs.size());
        for (int k = 0; k < outputs.size(); k++) {
            Tensor t = outputs.get(k);
            if (t.rank() <= axis || t.dim(axis) != in.total()) {
                notSplit.warn(outputs.name(k), t, axis, in.total());
                return null;
            }
            Tensor[] pieces = Batches.splitAlong(t, axis, in.counts());
            for (int r = 0; r < n; r++) {
                split.get(r).add(outputs.name(k), pieces[r]);
            }
        }
        return TensorList.toTensors(split);
    }
}
