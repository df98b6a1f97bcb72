package dev.nearline.onnx.internal;

import dev.nearline.api.DataType;
import dev.nearline.api.Tensor;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * Concatenates records along an axis (the first one, or any other for models that declare it) and splits
 * batched results back per record. Stateless.
 */
public final class Batches {
    private Batches() {
    }

    /**
     * One tensor holding {@code parts} one after the other along axis 0; the parts must share type
     * and the other dimensions. Numeric values go into a direct native-order buffer, so ONNX Runtime
     * reads them without another copy.
     */
    public static Tensor concat(List<Tensor> parts) {
        Tensor first = parts.get(0);
        long rows = 0;
        int size = 0;
        for (Tensor t : parts) {
            rows += t.dim(0);
            size += t.size();
        }
        long[] shape = first.shape();
        shape[0] = rows;
        if (first.type() == DataType.BYTES) {
            String[] all = new String[size];
            int at = 0;
            for (Tensor t : parts) {
                String[] s = t.toStringArray();
                System.arraycopy(s, 0, all, at, s.length);
                at += s.length;
            }
            return Tensor.ofStrings(all, shape);
        }
        Buffer buffer = OrtTypes.allocateDirect(first.type(), size);
        int at = 0;
        for (Tensor t : parts) {
            t.copyTo(buffer, at);
            at += t.size();
        }
        return Tensor.of(first.type(), buffer, shape);
    }

    /**
     * One heap tensor holding {@code parts} joined along {@code axis}: the parts must share type, rank
     * (greater than {@code axis}) and every dimension but {@code axis}, and hold at most
     * {@link Integer#MAX_VALUE} elements together (the caller checks both). For each index of the
     * dimensions before {@code axis}, the parts' blocks follow one another in order.
     */
    public static Tensor concatAlong(List<Tensor> parts, int axis) {
        Tensor first = parts.get(0);
        DataType type = first.type();
        long[] shape = first.shape();
        long along = 0;
        int size = 0;
        for (Tensor t : parts) {
            along += t.dim(axis);
            size += t.size();
        }
        shape[axis] = along;
        int outer = Tensor.elementCount(Arrays.copyOfRange(shape, 0, axis));
        int inner = Tensor.elementCount(Arrays.copyOfRange(shape, axis + 1, shape.length));
        Object[] sources = new Object[parts.size()];
        for (int r = 0; r < sources.length; r++) {
            sources[r] = values(parts.get(r));
        }
        Object all = newArray(type, size);
        int at = 0;
        for (int o = 0; o < outer; o++) {
            for (int r = 0; r < sources.length; r++) {
                int block = (int) parts.get(r).dim(axis) * inner;
                System.arraycopy(sources[r], o * block, all, at, block);
                at += block;
            }
        }
        return wrap(type, all, shape);
    }

    /**
     * {@code batched} cut along {@code axis} into one heap tensor per entry of {@code counts}, which sum to
     * {@code batched.dim(axis)}: the inverse of {@link #concatAlong}.
     */
    public static Tensor[] splitAlong(Tensor batched, int axis, long[] counts) {
        long[] shape = batched.shape();
        long total = shape[axis];
        shape[axis] = 1;
        int outer = Tensor.elementCount(Arrays.copyOfRange(shape, 0, axis));
        int inner = Tensor.elementCount(Arrays.copyOfRange(shape, axis + 1, shape.length));
        Object all = values(batched);
        Tensor[] out = new Tensor[counts.length];
        long start = 0;
        for (int r = 0; r < counts.length; r++) {
            int block = (int) counts[r] * inner;
            Object part = newArray(batched.type(), outer * block);
            for (int o = 0; o < outer; o++) {
                System.arraycopy(all, (int) ((o * total + start) * inner), part, o * block, block);
            }
            long[] partShape = shape.clone();
            partShape[axis] = counts[r];
            out[r] = wrap(batched.type(), part, partShape);
            start += counts[r];
        }
        return out;
    }

    /** A tensor's values in a new array ({@code String[]} for BYTES, else as {@link #toArray} makes them). */
    private static Object values(Tensor t) {
        return t.type() == DataType.BYTES ? t.toStringArray() : toArray(t.type(), t.buffer(), t.size());
    }

    private static Object newArray(DataType type, int size) {
        switch (type) {
            case FP32:
                return new float[size];
            case FP64:
                return new double[size];
            case INT64:
                return new long[size];
            case INT32:
                return new int[size];
            case INT16:
            case FP16:
            case BF16:
                return new short[size];
            case BYTES:
                return new String[size];
            default:
                return new byte[size];
        }
    }

    /** A tensor over {@code array} (not copied), an array of the class {@link #newArray} makes for {@code type}. */
    private static Tensor wrap(DataType type, Object array, long[] shape) {
        switch (type) {
            case FP32:
                return Tensor.ofFloats((float[]) array, shape);
            case FP64:
                return Tensor.ofDoubles((double[]) array, shape);
            case INT64:
                return Tensor.ofLongs((long[]) array, shape);
            case INT32:
                return Tensor.ofInts((int[]) array, shape);
            case INT16:
                return Tensor.ofShorts((short[]) array, shape);
            case FP16:
                return Tensor.ofFloat16((short[]) array, shape);
            case BF16:
                return Tensor.ofBFloat16((short[]) array, shape);
            case INT8:
                return Tensor.ofInt8((byte[]) array, shape);
            case UINT8:
                return Tensor.ofUint8((byte[]) array, shape);
            case BOOL:
                return Tensor.of(DataType.BOOL, ByteBuffer.wrap((byte[]) array), shape);
            default:
                return Tensor.ofStrings((String[]) array, shape);
        }
    }

    /**
     * Rows {@code [startRow, startRow + rows)} of {@code batched} (a heap copy), where every row holds
     * the same number of elements. {@code values} is {@code batched.buffer()} or, for BYTES,
     * {@code batched.toStringArray()}, read once by the caller for all records.
     */
    public static Tensor rows(Tensor batched, Object values, long startRow, long rows) {
        long[] shape = batched.shape();
        long total = shape[0];
        int rowSize = total == 0 ? 0 : (int) (batched.size() / total);
        shape[0] = rows;
        int from = (int) (startRow * rowSize);
        int n = (int) (rows * rowSize);
        DataType type = batched.type();
        if (type == DataType.BYTES) {
            return Tensor.ofStrings(Arrays.copyOfRange((String[]) values, from, from + n), shape);
        }
        return copy(type, (Buffer) values, from, n, shape);
    }

    /**
     * A heap tensor of {@code type} and {@code shape} holding elements {@code [offset, offset + count)}
     * of {@code from}, a buffer of the class {@link Tensor} documents for {@code type}. The tensor
     * keeps {@code shape}, which callers may therefore share between tensors they never modify.
     */
    public static Tensor copy(DataType type, Buffer from, int offset, int count, long[] shape) {
        switch (type) {
            case FP32: {
                float[] a = new float[count];
                ((FloatBuffer) from).get(offset, a);
                return Tensor.ofFloats(a, shape);
            }
            case FP64: {
                double[] a = new double[count];
                ((DoubleBuffer) from).get(offset, a);
                return Tensor.ofDoubles(a, shape);
            }
            case INT64: {
                long[] a = new long[count];
                ((LongBuffer) from).get(offset, a);
                return Tensor.ofLongs(a, shape);
            }
            case INT32: {
                int[] a = new int[count];
                ((IntBuffer) from).get(offset, a);
                return Tensor.ofInts(a, shape);
            }
            case INT16:
                return Tensor.ofShorts(shorts(from, offset, count), shape);
            case FP16:
                return Tensor.ofFloat16(shorts(from, offset, count), shape);
            case BF16:
                return Tensor.ofBFloat16(shorts(from, offset, count), shape);
            case INT8:
                return Tensor.ofInt8(bytes(from, offset, count), shape);
            case UINT8:
                return Tensor.ofUint8(bytes(from, offset, count), shape);
            case BOOL:
                return Tensor.of(DataType.BOOL, ByteBuffer.wrap(bytes(from, offset, count)), shape);
            default:
                throw new IllegalArgumentException(type + " tensors hold strings");
        }
    }

    /**
     * The first {@code count} elements of {@code from} in a new primitive array ({@code float[]} for
     * FP32, {@code short[]} for the 16-bit types, {@code byte[]} for the 8-bit ones, and so on): one
     * bulk copy out of a native buffer, which {@link #slice} then cuts per record more cheaply than
     * many small reads of native memory.
     */
    public static Object toArray(DataType type, Buffer from, int count) {
        switch (type) {
            case FP32: {
                float[] a = new float[count];
                ((FloatBuffer) from).get(0, a);
                return a;
            }
            case FP64: {
                double[] a = new double[count];
                ((DoubleBuffer) from).get(0, a);
                return a;
            }
            case INT64: {
                long[] a = new long[count];
                ((LongBuffer) from).get(0, a);
                return a;
            }
            case INT32: {
                int[] a = new int[count];
                ((IntBuffer) from).get(0, a);
                return a;
            }
            case INT16:
            case FP16:
            case BF16:
                return shorts(from, 0, count);
            case INT8:
            case UINT8:
            case BOOL:
                return bytes(from, 0, count);
            default:
                throw new IllegalArgumentException(type + " tensors hold strings");
        }
    }

    /** A tensor of elements {@code [from, from + count)} of an array made by {@link #toArray}, copied. */
    public static Tensor slice(DataType type, Object array, int from, int count, long[] shape) {
        int to = from + count;
        switch (type) {
            case FP32:
                return Tensor.ofFloats(Arrays.copyOfRange((float[]) array, from, to), shape);
            case FP64:
                return Tensor.ofDoubles(Arrays.copyOfRange((double[]) array, from, to), shape);
            case INT64:
                return Tensor.ofLongs(Arrays.copyOfRange((long[]) array, from, to), shape);
            case INT32:
                return Tensor.ofInts(Arrays.copyOfRange((int[]) array, from, to), shape);
            case INT16:
                return Tensor.ofShorts(Arrays.copyOfRange((short[]) array, from, to), shape);
            case FP16:
                return Tensor.ofFloat16(Arrays.copyOfRange((short[]) array, from, to), shape);
            case BF16:
                return Tensor.ofBFloat16(Arrays.copyOfRange((short[]) array, from, to), shape);
            case INT8:
                return Tensor.ofInt8(Arrays.copyOfRange((byte[]) array, from, to), shape);
            case UINT8:
                return Tensor.ofUint8(Arrays.copyOfRange((byte[]) array, from, to), shape);
            case BOOL:
                return Tensor.of(DataType.BOOL, ByteBuffer.wrap(Arrays.copyOfRange((byte[]) array, from, to)), shape);
            default:
                throw new IllegalArgumentException(type + " tensors hold strings");
        }
    }

    private static short[] shorts(Buffer from, int offset, int count) {
        short[] a = new short[count];
        ((ShortBuffer) from).get(offset, a);
        return a;
    }

    private static byte[] bytes(Buffer from, int offset, int count) {
        byte[] a = new byte[count];
        ((ByteBuffer) from).get(offset, a);
        return a;
    }
}
