package dev.nearline.api.internal;

import dev.nearline.api.DataType;
import dev.nearline.api.RowWriter;
import dev.nearline.api.Tensor;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;

/**
 * The {@link RowWriter} of a row batch whose inputs are typed buffers of {@code capacity × width} elements (heap
 * buffers in the engine's own batch, direct ones under ONNX Runtime's tensors): each value converted to the
 * input's type and put at {@code row × width + index}. Whole tensors ({@link #set}) are copied by the engine's
 * own writer. Not thread-safe; not part of the public API.
 */
public class BufferRows implements RowWriter {
    private final String[] names;
    private final DataType[] types;
    private final int[] widths;
    private final Buffer[] buffers;
    private int row;

    /**
     * @param names   the inputs' names, in input order
     * @param types   their element types
     * @param widths  elements per row of each
     * @param buffers each input's buffer, of the type's buffer class ({@code FloatBuffer} for FP32,
     *                {@code ShortBuffer} for INT16, FP16 and BF16, {@code ByteBuffer} for BOOL, INT8, UINT8, ...)
     */
    public BufferRows(String[] names, DataType[] types, int[] widths, Buffer[] buffers) {
        this.names = names;
        this.types = types;
        this.widths = widths;
        this.buffers = buffers;
    }

    /** Makes {@code row} the row written, cleared first (a record that failed half-way may have used it). */
    public final void select(int row) {
        this.row = row;
        for (int i = 0; i < buffers.length; i++) {
            clear(buffers[i], row * widths[i], widths[i]);
        }
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
    public final int input(String tensor) {
        for (int i = 0; i < names.length; i++) {
            if (names[i].equals(tensor)) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public final DataType type(int input) {
        return types[input];
    }

    @Override
    public final int width(int input) {
        return widths[input];
    }

    @Override
    public final void setFloat(int input, int index, float value) {
        if (buffers[input] instanceof FloatBuffer) {
            ((FloatBuffer) buffers[input]).put(at(input, index), value);
        } else {
            setDouble(input, index, value);
        }
    }

    @Override
    public final void setDouble(int input, int index, double value) {
        int at = at(input, index);
        Buffer b = buffers[input];
        switch (types[input]) {
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
    public final void setLong(int input, int index, long value) {
        int at = at(input, index);
        Buffer b = buffers[input];
        switch (types[input]) {
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
    public final void setFloats(int input, float[] values) {
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
    public final void setDoubles(int input, double[] values) {
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
    public final void set(String tensor, Tensor value) {
        throw new UnsupportedOperationException("the engine copies whole tensors through its own writer");
    }

    private int at(int input, int index) {
        if (index < 0 || index >= widths[input]) {
            throw outside("element " + index + " is outside a row of " + widths[input] + " of input '" + names[input]
                    + "'");
        }
        return row * widths[input] + index;
    }

    /** The exception for an element index outside the row; an {@link IndexOutOfBoundsException} by default. */
    protected RuntimeException outside(String message) {
        return new IndexOutOfBoundsException(message);
    }
}
