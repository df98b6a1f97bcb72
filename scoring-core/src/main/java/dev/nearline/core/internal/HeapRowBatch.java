package dev.nearline.core.internal;

import dev.nearline.api.DataType;
import dev.nearline.api.Model;
import dev.nearline.api.RowBatch;
import dev.nearline.api.RowWriter;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.api.internal.BufferRows;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.time.Duration;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * The {@link RowBatch} of a model that offers none of its own: rows written into heap buffers, then one
 * {@link Model#predict} over tensors of all the rows (a batched call for any model that batches along axis 0,
 * a remote one included). Used by one thread, once.
 */
final class HeapRowBatch implements RowBatch {
    private final Model model;
    private final TensorSpec[] specs;
    private final int[] widths;
    private final int capacity;
    private final Buffer[] buffers;
    private final BufferRows writer;

    HeapRowBatch(Model model, RowPlan plan, int capacity) {
        this.model = model;
        this.specs = plan.specs;
        this.widths = plan.widths;
        this.capacity = capacity;
        this.buffers = new Buffer[specs.length];
        String[] names = new String[specs.length];
        DataType[] types = new DataType[specs.length];
        for (int i = 0; i < specs.length; i++) {
            buffers[i] = allocate(specs[i].type(), Math.multiplyExact(capacity, widths[i]));
            names[i] = specs[i].name();
            types[i] = specs[i].type();
        }
        this.writer = new BufferRows(names, types, widths, buffers) {
            @Override
            protected RuntimeException outside(String message) {
                return new ScoringException(ScoringException.Kind.INTERNAL, message);
            }
        };
    }

    private static Buffer allocate(DataType type, int n) {
        switch (type) {
            case FP32:
                return FloatBuffer.allocate(n);
            case FP64:
                return DoubleBuffer.allocate(n);
            case INT64:
                return LongBuffer.allocate(n);
            case INT32:
                return IntBuffer.allocate(n);
            case INT16:
            case FP16:
            case BF16:
                return ShortBuffer.allocate(n);
            default:
                return ByteBuffer.allocate(n); // BOOL, INT8, UINT8
        }
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
        Tensors.Builder b = Tensors.builder();
        for (int i = 0; i < specs.length; i++) {
            long[] shape = specs[i].shape().clone();
            shape[0] = rows;
            Buffer view = buffers[i].duplicate().position(0).limit(rows * widths[i]);
            b.add(specs[i].name(), Tensor.of(specs[i].type(), view, shape));
        }
        Tensors in = b.build();
        return timeout == null ? model.predict(in) : model.predict(in, timeout);
    }

    @Override
    public void close() {
        // heap buffers: nothing to release
    }

    @Override
    public String toString() {
        return "HeapRowBatch" + Arrays.toString(specs);
    }
}
