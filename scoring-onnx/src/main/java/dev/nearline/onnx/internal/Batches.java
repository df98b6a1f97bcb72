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
 * Concatenates records along the first axis and splits batched results back per record. Stateless.
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
        Buffer b = (Buffer) values;
        switch (type) {
            case FP32: {
                float[] a = new float[n];
                ((FloatBuffer) b).get(from, a);
                return Tensor.ofFloats(a, shape);
            }
            case FP64: {
                double[] a = new double[n];
                ((DoubleBuffer) b).get(from, a);
                return Tensor.ofDoubles(a, shape);
            }
            case INT64: {
                long[] a = new long[n];
                ((LongBuffer) b).get(from, a);
                return Tensor.ofLongs(a, shape);
            }
            case INT32: {
                int[] a = new int[n];
                ((IntBuffer) b).get(from, a);
                return Tensor.ofInts(a, shape);
            }
            case INT16:
            case FP16:
            case BF16: {
                short[] a = new short[n];
                ((ShortBuffer) b).get(from, a);
                return Tensor.of(type, ShortBuffer.wrap(a), shape);
            }
            default: {
                byte[] a = new byte[n];
                ((ByteBuffer) b).get(from, a);
                return Tensor.of(type, ByteBuffer.wrap(a), shape);
            }
        }
    }
}
