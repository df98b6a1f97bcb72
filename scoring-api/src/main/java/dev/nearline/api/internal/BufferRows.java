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
    /** Inputs beyond this many are cleared when their row is selected rather than on their first write. */
    private static final int TRACKED = 64;
    private static final int ZEROS = 512;
    private static final float[] ZERO_FLOATS = new float[ZEROS];
    private static final double[] ZERO_DOUBLES = new double[ZEROS];
    private static final long[] ZERO_LONGS = new long[ZEROS];
    private static final int[] ZERO_INTS = new int[ZEROS];
    private static final short[] ZERO_SHORTS = new short[ZEROS];
    private static final byte[] ZERO_BYTES = new byte[ZEROS];

    private final String[] names;
    private final DataType[] types;
    private final int[] widths;
    private final Buffer[] buffers;
    private int row;
    /**
     * The inputs (of the first {@value #TRACKED}) whose part of the row holds this record's values: written whole,
     * or cleared before the first single element was written. The others still hold whatever an earlier record
     * (or batch) left there.
     */
    private long ready;
    /** The last name {@link #input} looked up (a stage passes the same string for every record) and its index. */
    private @org.jspecify.annotations.Nullable String lastName;
    private int lastInput = -1;

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

    /**
     * Makes {@code row} the row written. The row reads as zeros wherever the record does not write (a record that
     * failed half-way may have used it, and buffers are reused): an input written whole is not cleared at all,
     * one written element by element is cleared in bulk before its first element.
     */
    public final void select(int row) {
        this.row = row;
        this.ready = 0;
        for (int i = TRACKED; i < buffers.length; i++) {
            clear(i);
        }
    }

    /** Clears input {@code input}'s part of the row unless it holds this record's values already. */
    private void prepare(int input) {
        if (input < TRACKED) {
            long bit = 1L << input;
            if ((ready & bit) == 0) {
                clear(input);
                ready |= bit;
            }
        }
    }

    /** Notes that input {@code input}'s part of the row is about to be written whole. */
    private void whole(int input) {
        if (input < TRACKED) {
            ready |= 1L << input;
        }
    }

    private void clear(int input) {
        Buffer b = buffers[input];
        int from = row * widths[input];
        for (int left = widths[input]; left > 0; ) {
            int n = Math.min(left, ZEROS);
            if (b instanceof FloatBuffer) {
                ((FloatBuffer) b).put(from, ZERO_FLOATS, 0, n);
            } else if (b instanceof DoubleBuffer) {
                ((DoubleBuffer) b).put(from, ZERO_DOUBLES, 0, n);
            } else if (b instanceof LongBuffer) {
                ((LongBuffer) b).put(from, ZERO_LONGS, 0, n);
            } else if (b instanceof IntBuffer) {
                ((IntBuffer) b).put(from, ZERO_INTS, 0, n);
            } else if (b instanceof ShortBuffer) {
                ((ShortBuffer) b).put(from, ZERO_SHORTS, 0, n);
            } else {
                ((ByteBuffer) b).put(from, ZERO_BYTES, 0, n);
            }
            from += n;
            left -= n;
        }
    }

    @Override
    public final int input(String tensor) {
        if (tensor != null && tensor == lastName) { // NOPMD: identity first, the common case; equals below
            return lastInput;
        }
        int found = -1;
        for (int i = 0; i < names.length; i++) {
            if (names[i].equals(tensor)) {
                found = i;
                break;
            }
        }
        lastName = tensor;
        lastInput = found;
        return found;
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
            int at = at(input, index);
            prepare(input);
            ((FloatBuffer) buffers[input]).put(at, value);
        } else {
            setDouble(input, index, value);
        }
    }

    @Override
    public final void setDouble(int input, int index, double value) {
        int at = at(input, index);
        prepare(input);
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
        prepare(input);
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
        whole(input);
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
        whole(input);
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
