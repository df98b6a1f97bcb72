package dev.nearline.onnx.internal;

import dev.nearline.api.DataType;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The inputs of a batch's records, checked to be joinable along one axis: {@code parts[i * n + r]} is
 * input {@code i} of record {@code r} (of {@code n}), {@code counts[r]} record {@code r}'s extent along the
 * axis and {@code total} their sum. Made once per batch and read by one thread.
 */
record BatchInputs(Tensor[] parts, long[] counts, long total) {

    /**
     * The inputs of {@code batch} joinable along {@code axis}, or null (run record by record, which reports a
     * bad record precisely) when the first record does not fit the signature, the records differ in type or
     * in a dimension other than the axis, a record's inputs disagree on their extent along it, or the batch
     * would exceed {@link Integer#MAX_VALUE} elements ({@code weighBytes}: bytes, for one direct buffer).
     */
    static @Nullable BatchInputs gather(OrtSignature sig, List<Tensors> batch, int axis, boolean weighBytes) {
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
        return new BatchInputs(parts, counts, total);
    }

    /** The number of records. */
    int records() {
        return counts.length;
    }

    /** Input {@code i} of every record, in record order. */
    List<Tensor> input(int i) {
        int n = counts.length;
        return Arrays.asList(parts).subList(i * n, i * n + n);
    }
}
