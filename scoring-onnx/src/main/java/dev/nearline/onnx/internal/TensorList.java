package dev.nearline.onnx.internal;

import dev.nearline.api.DataType;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Collects named output tensors and turns them into a {@link Tensors} with as few allocations as
 * the API allows (a single tensor, or a short chain of {@code with} calls, instead of a builder's map).
 * Not thread-safe; one per call.
 */
public final class TensorList {
    private static final int CHAIN_LIMIT = 4;

    private String[] names;
    private Tensor[] tensors;
    private int size;

    /** A list with room for {@code expected} tensors before it grows. */
    public TensorList(int expected) {
        int n = Math.max(1, expected);
        names = new String[n];
        tensors = new Tensor[n];
    }

    /** Appends a tensor; names must be unique. */
    public void add(String name, Tensor tensor) {
        if (size == names.length) {
            names = Arrays.copyOf(names, size * 2);
            tensors = Arrays.copyOf(tensors, size * 2);
        }
        names[size] = name;
        tensors[size] = tensor;
        size++;
    }

    /** The number of tensors added. */
    public int size() {
        return size;
    }

    /** The tensor at {@code index}. */
    public Tensor get(int index) {
        return tensors[index];
    }

    /** The name at {@code index}. */
    public String name(int index) {
        return names[index];
    }

    /**
     * Whether the list holds exactly one tensor per entry of {@code names}, in that order, each of the
     * type and shape at the same index: outputs that may be written into tensors pinned with those shapes.
     */
    public boolean matches(String[] names, DataType[] types, long[][] shapes) {
        if (size != names.length) {
            return false;
        }
        for (int k = 0; k < size; k++) {
            if (!this.names[k].equals(names[k]) || tensors[k].type() != types[k] || !tensors[k].hasShape(shapes[k])) {
                return false;
            }
        }
        return true;
    }

    /** One empty list per record of a batch, each with room for {@code expected} tensors. */
    static List<TensorList> perRecord(int records, int expected) {
        List<TensorList> split = new ArrayList<>(records);
        for (int r = 0; r < records; r++) {
            split.add(new TensorList(expected));
        }
        return split;
    }

    /** Each list's {@link #toTensors()}, in order. */
    static List<Tensors> toTensors(List<TensorList> lists) {
        List<Tensors> result = new ArrayList<>(lists.size());
        for (TensorList l : lists) {
            result.add(l.toTensors());
        }
        return result;
    }

    /** The tensors in insertion order. */
    public Tensors toTensors() {
        if (size == 0) {
            return Tensors.empty();
        }
        if (size <= CHAIN_LIMIT) {
            Tensors t = Tensors.of(names[0], tensors[0]);
            for (int i = 1; i < size; i++) {
                t = t.with(names[i], tensors[i]);
            }
            return t;
        }
        Tensors.Builder b = Tensors.builder();
        for (int i = 0; i < size; i++) {
            b.add(names[i], tensors[i]);
        }
        return b.build();
    }
}
