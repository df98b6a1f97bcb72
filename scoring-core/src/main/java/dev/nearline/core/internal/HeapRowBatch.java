package dev.nearline.core.internal;

import dev.nearline.api.DataType;
import dev.nearline.api.Model;
import dev.nearline.api.RowBatch;
import dev.nearline.api.RowWriter;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
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
final class HeapRowBatch implements RowBatch, RowWriter {
    private final Model model;
    private final TensorSpec[] specs;
    private final int[] widths;
    private final int capacity;
    private final Buffer[] buffers;
    private int row;

    HeapRowBatch(Model model, RowPlan plan, int capacity) {
        this.model = model;
        this.specs = plan.specs;
        this.widths = plan.widths;
        this.capacity = capacity;
        this.buffers = new Buffer[specs.length];
        for (int i = 0; i < specs.length; i++) {
            buffers[i] = allocate(specs[i].type(), Math.multiplyExact(capacity, widths[i]));
        }
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
        this.row = row;
        for (int i = 0; i < buffers.length; i++) {
            clear(buffers[i], row * widths[i], widths[i]); // a record that failed half-way may have used it
        }
        return this;
    }

    private static void clear(Buffer b, int from, int n) {
        for (int j = from, end = from + n; j < end; j++) {
            if (b instanceof FloatBuffer) {
                ((FloatBuffer) b).put(j, 0f);
            } else if (b instanceof DoubleBuffer) {
                ((DoubleBuffer) b).put(j, 0d);
            } else if (b instanceof LongBuffer) {
                ((LongBuffer) b).put(j, 0L);
            } else if (b instanceof IntBuffer) {
                ((IntBuffer) b).put(j, 0);
            } else if (b instanceof ShortBuffer) {
                ((ShortBuffer) b).put(j, (short) 0);
            } else {
                ((ByteBuffer) b).put(j, (byte) 0);
            }
        }
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

    // ---------------------------------------------------------------- RowWriter over model input indices

    @Override
    public int input(String tensor) {
        for (int i = 0; i < specs.length; i++) {
            if (specs[i].name().equals(tensor)) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public DataType type(int input) {
        return specs[input].type();
    }

    @Override
    public int width(int input) {
        return widths[input];
    }

    @Override
    public void setFloat(int input, int index, float value) {
        if (buffers[input] instanceof FloatBuffer) {
            ((FloatBuffer) buffers[input]).put(at(input, index), value);
        } else {
            setDouble(input, index, value);
        }
    }

    @Override
    public void setDouble(int input, int index, double value) {
        int at = at(input, index);
        Buffer b = buffers[input];
        switch (specs[input].type()) {
            case FP32:
                ((FloatBuffer) b).put(at, (float) value);
                break;
            case FP64:
                ((DoubleBuffer) b).put(at, value);
                break;
            case FP16:
                ((ShortBuffer) b).put(at, Tensor.floatToHalf((float) value));
                break;
            case BF16:
                ((ShortBuffer) b).put(at, Tensor.floatToBfloat16((float) value));
                break;
            default:
                setLong(input, index, (long) value);
        }
    }

    @Override
    public void setLong(int input, int index, long value) {
        int at = at(input, index);
        Buffer b = buffers[input];
        switch (specs[input].type()) {
            case INT64:
                ((LongBuffer) b).put(at, value);
                break;
            case INT32:
                ((IntBuffer) b).put(at, (int) value);
                break;
            case INT16:
                ((ShortBuffer) b).put(at, (short) value);
                break;
            case BOOL:
                ((ByteBuffer) b).put(at, (byte) (value != 0 ? 1 : 0));
                break;
            case INT8:
            case UINT8:
                ((ByteBuffer) b).put(at, (byte) value);
                break;
            default:
                setDouble(input, index, value);
        }
    }

    @Override
    public void setFloats(int input, float[] values) {
        checkWidth(input, values.length);
        if (buffers[input] instanceof FloatBuffer) {
            ((FloatBuffer) buffers[input]).put(row * widths[input], values);
        } else {
            for (int j = 0; j < values.length; j++) {
                setDouble(input, j, values[j]);
            }
        }
    }

    @Override
    public void setDoubles(int input, double[] values) {
        checkWidth(input, values.length);
        if (buffers[input] instanceof DoubleBuffer) {
            ((DoubleBuffer) buffers[input]).put(row * widths[input], values);
        } else {
            for (int j = 0; j < values.length; j++) {
                setDouble(input, j, values[j]);
            }
        }
    }

    private void checkWidth(int input, int length) {
        if (length != widths[input]) {
            throw new IllegalArgumentException(length + " values for a row of " + widths[input] + " elements");
        }
    }

    @Override
    public void set(String tensor, Tensor value) {
        throw new UnsupportedOperationException("the engine copies whole tensors through its own writer");
    }

    private int at(int input, int index) {
        if (index < 0 || index >= widths[input]) {
            throw new ScoringException(ScoringException.Kind.INTERNAL, "element " + index + " is outside a row of "
                    + widths[input] + " of input '" + specs[input].name() + "'");
        }
        return row * widths[input] + index;
    }

    @Override
    public String toString() {
        return "HeapRowBatch" + Arrays.toString(specs);
    }
}
