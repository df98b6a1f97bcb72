package dev.nearline.api;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * An n-dimensional array of one {@link DataType}: the unit that flows between pipeline stages.
 *
 * <p>Numeric and boolean values live in a typed NIO buffer (heap or direct); {@link DataType#BYTES}
 * values are Java strings. The buffer type per data type is fixed: {@code ByteBuffer} for BOOL,
 * UINT8 and INT8; {@code ShortBuffer} for INT16, FP16 and BF16 (FP16 and BF16 as raw bits);
 * {@code IntBuffer} for INT32; {@code LongBuffer} for INT64; {@code FloatBuffer} for FP32;
 * {@code DoubleBuffer} for FP64.
 *
 * <p>Tensors are immutable and thread-safe once built. To keep the per-record path free of copies,
 * the factories <em>wrap</em> the array or buffer they are given (as {@link ByteBuffer#wrap} does)
 * and keep the shape array they are given: the caller must not modify either afterwards. A direct
 * buffer in native byte order reaches ONNX Runtime without a copy.
 */
public final class Tensor {
    private static final long[] SCALAR = new long[0];

    private final DataType type;
    private final long[] shape;
    private final int size;
    /** The primitive array a heap tensor was built on; read directly on the hot path, so no buffer is made. */
    private final @Nullable Object array;
    /** The typed buffer: given (direct tensors), or wrapped around {@link #array} when first needed. */
    private volatile @Nullable Buffer data;
    private final String @Nullable [] strings;

    private Tensor(DataType type, long[] shape, @Nullable Buffer data, String @Nullable [] strings) {
        this(type, shape, data, null, strings);
    }

    private Tensor(DataType type, long[] shape, Object array) {
        this(type, shape, null, array, null);
    }

    private Tensor(DataType type, long[] shape, @Nullable Buffer data, @Nullable Object array, String @Nullable [] strings) {
        this.type = type;
        this.shape = shape;
        this.size = elementCount(shape);
        this.data = data;
        this.array = array;
        this.strings = strings;
        int actual = strings != null ? strings.length
                : array != null ? java.lang.reflect.Array.getLength(array) : Objects.requireNonNull(data).remaining();
        if (actual != size) {
            throw new IllegalArgumentException(type + " tensor of shape " + Arrays.toString(shape)
                    + " needs " + size + " values, got " + actual);
        }
    }

    // ---------------------------------------------------------------- factories

    /** An FP32 tensor over {@code values} (not copied). */
    public static Tensor ofFloats(float[] values, long... shape) {
        return new Tensor(DataType.FP32, shape, values);
    }

    /** An FP64 tensor over {@code values} (not copied). */
    public static Tensor ofDoubles(double[] values, long... shape) {
        return new Tensor(DataType.FP64, shape, values);
    }

    /** An INT64 tensor over {@code values} (not copied). */
    public static Tensor ofLongs(long[] values, long... shape) {
        return new Tensor(DataType.INT64, shape, values);
    }

    /** An INT32 tensor over {@code values} (not copied). */
    public static Tensor ofInts(int[] values, long... shape) {
        return new Tensor(DataType.INT32, shape, values);
    }

    /** An INT16 tensor over {@code values} (not copied). */
    public static Tensor ofShorts(short[] values, long... shape) {
        return new Tensor(DataType.INT16, shape, values);
    }

    /** An INT8 tensor over {@code values} (not copied). */
    public static Tensor ofInt8(byte[] values, long... shape) {
        return new Tensor(DataType.INT8, shape, values);
    }

    /** A UINT8 tensor over {@code values} (not copied); read elements as {@code value & 0xFF}. */
    public static Tensor ofUint8(byte[] values, long... shape) {
        return new Tensor(DataType.UINT8, shape, values);
    }

    /** A BOOL tensor holding {@code values} (copied into one byte per element). */
    public static Tensor ofBooleans(boolean[] values, long... shape) {
        byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            bytes[i] = values[i] ? (byte) 1 : (byte) 0;
        }
        return new Tensor(DataType.BOOL, shape, bytes);
    }

    /** An FP16 tensor over raw half-precision bits (not copied); see {@link #halfToFloat}. */
    public static Tensor ofFloat16(short[] bits, long... shape) {
        return new Tensor(DataType.FP16, shape, bits);
    }

    /** A BF16 tensor over raw bfloat16 bits (not copied); see {@link #bfloat16ToFloat}. */
    public static Tensor ofBFloat16(short[] bits, long... shape) {
        return new Tensor(DataType.BF16, shape, bits);
    }

    /** A BYTES tensor over {@code values} (not copied). Elements must not be null. */
    public static Tensor ofStrings(String[] values, long... shape) {
        for (int i = 0; i < values.length; i++) {
            if (values[i] == null) {
                throw new IllegalArgumentException("BYTES tensor element " + i + " is null");
            }
        }
        return new Tensor(DataType.BYTES, shape, null, values);
    }

    /**
     * A tensor over the remaining elements of {@code buffer}, which must be the buffer type this
     * class documents for {@code type}. The buffer is sliced, not copied; pass a direct buffer in
     * native order to feed ONNX Runtime without a copy.
     */
    public static Tensor of(DataType type, Buffer buffer, long... shape) {
        Objects.requireNonNull(type, "type");
        if (type == DataType.BYTES) {
            throw new IllegalArgumentException("BYTES tensors hold strings: use ofStrings");
        }
        Class<? extends Buffer> expected = bufferType(type);
        if (!expected.isInstance(buffer)) {
            throw new IllegalArgumentException(type + " tensor needs a " + expected.getSimpleName()
                    + ", got " + buffer.getClass().getSimpleName());
        }
        return new Tensor(type, shape, buffer.slice(), null);
    }

    /** A tensor of {@code type} filled with zeros (empty strings for BYTES). */
    public static Tensor zeros(DataType type, long... shape) {
        int n = elementCount(shape);
        switch (type) {
            case BYTES: {
                String[] s = new String[n];
                Arrays.fill(s, "");
                return new Tensor(type, shape, null, s);
            }
            case BOOL:
            case UINT8:
            case INT8:
                return new Tensor(type, shape, ByteBuffer.allocate(n), null);
            case INT16:
            case FP16:
            case BF16:
                return new Tensor(type, shape, ShortBuffer.allocate(n), null);
            case INT32:
                return new Tensor(type, shape, IntBuffer.allocate(n), null);
            case INT64:
                return new Tensor(type, shape, LongBuffer.allocate(n), null);
            case FP32:
                return new Tensor(type, shape, FloatBuffer.allocate(n), null);
            case FP64:
                return new Tensor(type, shape, DoubleBuffer.allocate(n), null);
            default:
                throw new AssertionError(type);
        }
    }

    /**
     * Decodes a tensor from its KServe v2 binary form: elements in little-endian order, and for
     * BYTES each element as a 4-byte little-endian length followed by that many UTF-8 bytes. Reads
     * exactly the remaining bytes of {@code bytes}.
     *
     * @throws IllegalArgumentException if the byte count does not match the shape
     */
    public static Tensor fromLittleEndian(DataType type, ByteBuffer bytes, long... shape) {
        int n = elementCount(shape);
        ByteBuffer le = bytes.slice().order(ByteOrder.LITTLE_ENDIAN);
        if (type == DataType.BYTES) {
            // Each element needs at least its 4-byte length prefix: check before allocating, so that an
            // untrusted shape cannot make us allocate a huge array for a few bytes of data.
            if ((long) n * 4 > le.remaining()) {
                throw new IllegalArgumentException("BYTES tensor of shape " + Arrays.toString(shape) + " needs at least "
                        + (long) n * 4 + " bytes for its length prefixes, got " + le.remaining());
            }
            String[] values = new String[n];
            for (int i = 0; i < n; i++) {
                if (le.remaining() < 4) {
                    throw new IllegalArgumentException("BYTES tensor of shape " + Arrays.toString(shape)
                            + ": data ends before element " + i + " of " + n);
                }
                int len = le.getInt();
                if (len < 0 || len > le.remaining()) {
                    throw new IllegalArgumentException("BYTES tensor element " + i + " declares "
                            + Integer.toUnsignedString(len) + " bytes but only " + le.remaining() + " remain");
                }
                byte[] utf8 = new byte[len];
                le.get(utf8);
                values[i] = new String(utf8, StandardCharsets.UTF_8);
            }
            if (le.hasRemaining()) {
                throw new IllegalArgumentException("BYTES tensor of shape " + Arrays.toString(shape)
                        + ": " + le.remaining() + " bytes left after " + n + " elements");
            }
            return new Tensor(type, shape, null, values);
        }
        long expected = (long) n * type.byteSize();
        if (le.remaining() != expected) {
            throw new IllegalArgumentException(type + " tensor of shape " + Arrays.toString(shape)
                    + " needs " + expected + " bytes, got " + le.remaining());
        }
        Buffer typed;
        switch (type) {
            case BOOL:
            case UINT8:
            case INT8: {
                byte[] a = new byte[n];
                le.get(a);
                typed = ByteBuffer.wrap(a);
                break;
            }
            case INT16:
            case FP16:
            case BF16: {
                short[] a = new short[n];
                le.asShortBuffer().get(a);
                typed = ShortBuffer.wrap(a);
                break;
            }
            case INT32: {
                int[] a = new int[n];
                le.asIntBuffer().get(a);
                typed = IntBuffer.wrap(a);
                break;
            }
            case INT64: {
                long[] a = new long[n];
                le.asLongBuffer().get(a);
                typed = LongBuffer.wrap(a);
                break;
            }
            case FP32: {
                float[] a = new float[n];
                le.asFloatBuffer().get(a);
                typed = FloatBuffer.wrap(a);
                break;
            }
            case FP64: {
                double[] a = new double[n];
                le.asDoubleBuffer().get(a);
                typed = DoubleBuffer.wrap(a);
                break;
            }
            default:
                throw new AssertionError(type);
        }
        return new Tensor(type, shape, typed, null);
    }

    // ---------------------------------------------------------------- shape

    /** The element type. */
    public DataType type() {
        return type;
    }

    /** A copy of the shape; an empty array for a scalar. */
    public long[] shape() {
        return shape.length == 0 ? SCALAR : shape.clone();
    }

    /** The number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** The extent of dimension {@code axis}. */
    public long dim(int axis) {
        return shape[axis];
    }

    /** The number of elements (the product of the shape). */
    public int size() {
        return size;
    }

    /** Whether the shape equals {@code other} without copying it. */
    public boolean hasShape(long... other) {
        return Arrays.equals(shape, other);
    }

    // ---------------------------------------------------------------- element readers

    /**
     * Element {@code index} (in row-major order) as a float, converting from any numeric or BOOL
     * type (FP16 and BF16 decoded, UINT8 unsigned).
     *
     * @throws IllegalStateException for a BYTES tensor
     */
    public float floatAt(int index) {
        if (array instanceof float[]) {
            return ((float[]) array)[index];
        }
        if (type == DataType.FP32) {
            return ((FloatBuffer) buffer0()).get(index);
        }
        return (float) doubleAt(index);
    }

    /** Element {@code index} as a double; see {@link #floatAt}. */
    public double doubleAt(int index) {
        if (array instanceof float[]) {
            return ((float[]) array)[index];
        } else if (array instanceof double[]) {
            return ((double[]) array)[index];
        }
        Buffer b = buffer0();
        switch (type) {
            case FP32:
                return ((FloatBuffer) b).get(index);
            case FP64:
                return ((DoubleBuffer) b).get(index);
            case FP16:
                return halfToFloat(((ShortBuffer) b).get(index));
            case BF16:
                return bfloat16ToFloat(((ShortBuffer) b).get(index));
            default:
                return longAt(index);
        }
    }

    /**
     * Element {@code index} as a long: integers widened (UINT8 unsigned), BOOL as 0 or 1,
     * floating point values truncated toward zero.
     */
    public long longAt(int index) {
        if (array instanceof long[]) {
            return ((long[]) array)[index];
        } else if (array instanceof int[]) {
            return ((int[]) array)[index];
        }
        Buffer b = buffer0();
        switch (type) {
            case BOOL:
            case UINT8:
                return ((ByteBuffer) b).get(index) & 0xFF;
            case INT8:
                return ((ByteBuffer) b).get(index);
            case INT16:
                return ((ShortBuffer) b).get(index);
            case INT32:
                return ((IntBuffer) b).get(index);
            case INT64:
                return ((LongBuffer) b).get(index);
            default:
                return (long) doubleAt(index);
        }
    }

    /** Element {@code index} as a boolean: non-zero is true. */
    public boolean booleanAt(int index) {
        return type.isFloatingPoint() ? doubleAt(index) != 0 : longAt(index) != 0;
    }

    /** Element {@code index} of a BYTES tensor. */
    public String stringAt(int index) {
        return strings0()[index];
    }

    // ---------------------------------------------------------------- bulk readers

    /** All elements as floats (a new array), converting as {@link #floatAt} does. */
    public float[] toFloatArray() {
        float[] out = new float[size];
        if (type == DataType.FP32) {
            ((FloatBuffer) buffer0()).get(0, out);
        } else {
            for (int i = 0; i < size; i++) {
                out[i] = floatAt(i);
            }
        }
        return out;
    }

    /** All elements as doubles (a new array). */
    public double[] toDoubleArray() {
        double[] out = new double[size];
        if (type == DataType.FP64) {
            ((DoubleBuffer) buffer0()).get(0, out);
        } else {
            for (int i = 0; i < size; i++) {
                out[i] = doubleAt(i);
            }
        }
        return out;
    }

    /** All elements as longs (a new array), converting as {@link #longAt} does. */
    public long[] toLongArray() {
        long[] out = new long[size];
        if (type == DataType.INT64) {
            ((LongBuffer) buffer0()).get(0, out);
        } else {
            for (int i = 0; i < size; i++) {
                out[i] = longAt(i);
            }
        }
        return out;
    }

    /** All elements as ints (a new array), narrowing longs. */
    public int[] toIntArray() {
        int[] out = new int[size];
        if (type == DataType.INT32) {
            ((IntBuffer) buffer0()).get(0, out);
        } else {
            for (int i = 0; i < size; i++) {
                out[i] = (int) longAt(i);
            }
        }
        return out;
    }

    /** All elements as booleans (a new array). */
    public boolean[] toBooleanArray() {
        boolean[] out = new boolean[size];
        for (int i = 0; i < size; i++) {
            out[i] = booleanAt(i);
        }
        return out;
    }

    /** The raw 16-bit elements of an INT16, FP16 or BF16 tensor (a new array). */
    public short[] toShortArray() {
        if (!(buffer0() instanceof ShortBuffer)) {
            throw new IllegalStateException(type + " tensor has no 16-bit elements");
        }
        short[] out = new short[size];
        ((ShortBuffer) buffer0()).get(0, out);
        return out;
    }

    /** The raw bytes of a BOOL, UINT8 or INT8 tensor (a new array). */
    public byte[] toByteArray() {
        if (!(buffer0() instanceof ByteBuffer)) {
            throw new IllegalStateException(type + " tensor has no 8-bit elements");
        }
        byte[] out = new byte[size];
        ((ByteBuffer) buffer0()).get(0, out);
        return out;
    }

    /** The elements of a BYTES tensor (a new array). */
    public String[] toStringArray() {
        return strings0().clone();
    }

    /**
     * A read-only view of the typed buffer (see the class documentation for its type), positioned
     * at 0 with one element per tensor element. Direct when the tensor was built on a direct buffer.
     *
     * @throws IllegalStateException for a BYTES tensor
     */
    public Buffer buffer() {
        Buffer b = buffer0();
        if (b instanceof FloatBuffer) {
            return ((FloatBuffer) b).asReadOnlyBuffer();
        } else if (b instanceof DoubleBuffer) {
            return ((DoubleBuffer) b).asReadOnlyBuffer();
        } else if (b instanceof LongBuffer) {
            return ((LongBuffer) b).asReadOnlyBuffer();
        } else if (b instanceof IntBuffer) {
            return ((IntBuffer) b).asReadOnlyBuffer();
        } else if (b instanceof ShortBuffer) {
            return ((ShortBuffer) b).asReadOnlyBuffer();
        }
        return ((ByteBuffer) b).asReadOnlyBuffer();
    }

    /** Whether the values live in a direct (off-heap) buffer. */
    public boolean isDirect() {
        Buffer b = data;
        return array == null && b != null && b.isDirect();
    }

    /**
     * Copies all elements into {@code target} starting at element {@code targetIndex}, without
     * allocating. {@code target} must be the buffer type of this tensor's data type; its position
     * is not changed. This is how backends fill reusable native buffers.
     */
    public void copyTo(Buffer target, int targetIndex) {
        Object a = array;
        if (a instanceof float[] && target instanceof FloatBuffer) {
            ((FloatBuffer) target).put(targetIndex, (float[]) a, 0, size);
            return;
        } else if (a instanceof double[] && target instanceof DoubleBuffer) {
            ((DoubleBuffer) target).put(targetIndex, (double[]) a, 0, size);
            return;
        } else if (a instanceof long[] && target instanceof LongBuffer) {
            ((LongBuffer) target).put(targetIndex, (long[]) a, 0, size);
            return;
        } else if (a instanceof int[] && target instanceof IntBuffer) {
            ((IntBuffer) target).put(targetIndex, (int[]) a, 0, size);
            return;
        } else if (a instanceof short[] && target instanceof ShortBuffer) {
            ((ShortBuffer) target).put(targetIndex, (short[]) a, 0, size);
            return;
        } else if (a instanceof byte[] && target instanceof ByteBuffer) {
            ((ByteBuffer) target).put(targetIndex, (byte[]) a, 0, size);
            return;
        }
        Buffer b = buffer0();
        if (b instanceof FloatBuffer && target instanceof FloatBuffer) {
            ((FloatBuffer) target).put(targetIndex, (FloatBuffer) b, 0, size);
        } else if (b instanceof DoubleBuffer && target instanceof DoubleBuffer) {
            ((DoubleBuffer) target).put(targetIndex, (DoubleBuffer) b, 0, size);
        } else if (b instanceof LongBuffer && target instanceof LongBuffer) {
            ((LongBuffer) target).put(targetIndex, (LongBuffer) b, 0, size);
        } else if (b instanceof IntBuffer && target instanceof IntBuffer) {
            ((IntBuffer) target).put(targetIndex, (IntBuffer) b, 0, size);
        } else if (b instanceof ShortBuffer && target instanceof ShortBuffer) {
            ((ShortBuffer) target).put(targetIndex, (ShortBuffer) b, 0, size);
        } else if (b instanceof ByteBuffer && target instanceof ByteBuffer) {
            ((ByteBuffer) target).put(targetIndex, (ByteBuffer) b, 0, size);
        } else {
            throw new IllegalArgumentException(type + " tensor cannot be copied into a "
                    + target.getClass().getSimpleName());
        }
    }

    /**
     * The number of bytes {@link #writeLittleEndian} writes: elements times element size, or for
     * BYTES the UTF-8 lengths plus a 4-byte prefix per element.
     */
    public long byteSize() {
        if (type != DataType.BYTES) {
            return (long) size * type.byteSize();
        }
        long n = 0;
        for (String s : strings0()) {
            n += 4 + utf8Length(s);
        }
        return n;
    }

    /**
     * Writes the elements in the KServe v2 binary form (little-endian; BYTES as 4-byte
     * little-endian length + UTF-8) at {@code target}'s position, advancing it by
     * {@link #byteSize()}.
     */
    public void writeLittleEndian(ByteBuffer target) {
        ByteOrder saved = target.order();
        target.order(ByteOrder.LITTLE_ENDIAN);
        try {
            if (type == DataType.BYTES) {
                for (String s : strings0()) {
                    byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
                    target.putInt(utf8.length).put(utf8);
                }
                return;
            }
            Buffer b = buffer0();
            int pos = target.position();
            ByteBuffer view = target.slice().order(ByteOrder.LITTLE_ENDIAN);
            if (b instanceof ByteBuffer) {
                view.put(0, (ByteBuffer) b, 0, size);
            } else {
                copyTo(typedView(view), 0);
            }
            target.position(pos + size * type.byteSize());
        } finally {
            target.order(saved);
        }
    }

    // ---------------------------------------------------------------- value semantics

    /**
     * Equal when data type, shape and every element are equal. Floating point elements compare as
     * {@link FloatBuffer#equals} does: NaN equals NaN, and -0.0 equals 0.0.
     */
    @Override
    public boolean equals(@Nullable Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof Tensor)) {
            return false;
        }
        Tensor t = (Tensor) o;
        if (type != t.type || !Arrays.equals(shape, t.shape)) {
            return false;
        }
        if (strings != null) {
            return Arrays.equals(strings, t.strings);
        }
        return buffer0().equals(t.buffer0());
    }

    @Override
    public int hashCode() {
        int h = type.hashCode() * 31 + Arrays.hashCode(shape);
        return h * 31 + (strings != null ? Arrays.hashCode(strings) : buffer0().hashCode());
    }

    /** Type and shape only, such as {@code FP32[1, 30]}: values are never printed, so logs carry no payload. */
    @Override
    public String toString() {
        return type + Arrays.toString(shape);
    }

    // ---------------------------------------------------------------- helpers

    /** Decodes IEEE 754 half-precision bits. */
    public static float halfToFloat(short bits) {
        int h = bits & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        if (exp == 0) {
            if (mant == 0) {
                return Float.intBitsToFloat(sign);
            }
            // subnormal: value = mant * 2^-24
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** Encodes a float as IEEE 754 half-precision bits, rounding to nearest even. */
    public static short floatToHalf(float value) {
        int f = Float.floatToRawIntBits(value);
        int sign = (f >>> 16) & 0x8000;
        int exp = (f >>> 23) & 0xFF;
        int mant = f & 0x7FFFFF;
        if (exp == 0xFF) {
            return (short) (sign | 0x7C00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0));
        }
        int e = exp - 127 + 15;
        if (e >= 0x1F) {
            return (short) (sign | 0x7C00);
        }
        if (e <= 0) {
            if (e < -10) {
                return (short) sign;
            }
            mant |= 0x800000;
            int shift = 14 - e;
            int half = mant >>> shift;
            int rem = mant & ((1 << shift) - 1);
            int mid = 1 << (shift - 1);
            if (rem > mid || (rem == mid && (half & 1) != 0)) {
                half++;
            }
            return (short) (sign | half);
        }
        int half = (e << 10) | (mant >>> 13);
        int rem = mant & 0x1FFF;
        if (rem > 0x1000 || (rem == 0x1000 && (half & 1) != 0)) {
            half++;
        }
        return (short) (sign | half);
    }

    /** Decodes bfloat16 bits. */
    public static float bfloat16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Encodes a float as bfloat16 bits, rounding to nearest even. */
    public static short floatToBfloat16(float value) {
        int f = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((f >>> 16) | 0x40);
        }
        int rounding = 0x7FFF + ((f >>> 16) & 1);
        return (short) ((f + rounding) >>> 16);
    }

    /** The buffer class that holds elements of {@code type} ({@code null} for BYTES). */
    public static @Nullable Class<? extends Buffer> bufferType(DataType type) {
        switch (type) {
            case BOOL:
            case UINT8:
            case INT8:
                return ByteBuffer.class;
            case INT16:
            case FP16:
            case BF16:
                return ShortBuffer.class;
            case INT32:
                return IntBuffer.class;
            case INT64:
                return LongBuffer.class;
            case FP32:
                return FloatBuffer.class;
            case FP64:
                return DoubleBuffer.class;
            default:
                return null;
        }
    }

    /** The product of {@code shape}, checked: dimensions must be non-negative and the count fit an int. */
    public static int elementCount(long... shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            // n and d both within the int range keep n * d within a long; a larger d would wrap around.
            n = d > Integer.MAX_VALUE && n != 0 ? Long.MAX_VALUE : n * d;
            if (n > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has more than "
                        + Integer.MAX_VALUE + " elements");
            }
        }
        return (int) n;
    }

    private Buffer typedView(ByteBuffer le) {
        switch (type) {
            case INT16:
            case FP16:
            case BF16:
                return le.asShortBuffer();
            case INT32:
                return le.asIntBuffer();
            case INT64:
                return le.asLongBuffer();
            case FP32:
                return le.asFloatBuffer();
            case FP64:
                return le.asDoubleBuffer();
            default:
                return le;
        }
    }

    private Buffer buffer0() {
        Buffer b = data;
        if (b == null) {
            if (array == null) {
                throw new IllegalStateException("BYTES tensor holds strings, not numbers");
            }
            b = wrap(array);
            data = b;
        }
        return b;
    }

    private static Buffer wrap(Object array) {
        if (array instanceof float[]) {
            return FloatBuffer.wrap((float[]) array);
        } else if (array instanceof double[]) {
            return DoubleBuffer.wrap((double[]) array);
        } else if (array instanceof long[]) {
            return LongBuffer.wrap((long[]) array);
        } else if (array instanceof int[]) {
            return IntBuffer.wrap((int[]) array);
        } else if (array instanceof short[]) {
            return ShortBuffer.wrap((short[]) array);
        }
        return ByteBuffer.wrap((byte[]) array);
    }

    private String[] strings0() {
        if (strings == null) {
            throw new IllegalStateException(type + " tensor holds numbers, not strings");
        }
        return strings;
    }

    private static int utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }
}
