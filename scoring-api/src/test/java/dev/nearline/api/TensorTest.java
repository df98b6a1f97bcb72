package dev.nearline.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TensorTest {

    // ---------------------------------------------------------------- factories and readers, per type

    @Test
    void ofFloats_readBackThroughEveryReader_returnsValues() {
        Tensor t = Tensor.ofFloats(new float[] {1.5f, -2.25f, 0f, 3.75f}, 2, 2);

        assertThat(t.type()).isEqualTo(DataType.FP32);
        assertThat(t.shape()).containsExactly(2, 2);
        assertThat(t.rank()).isEqualTo(2);
        assertThat(t.dim(1)).isEqualTo(2);
        assertThat(t.size()).isEqualTo(4);
        assertThat(t.floatAt(1)).isEqualTo(-2.25f);
        assertThat(t.doubleAt(3)).isEqualTo(3.75);
        assertThat(t.longAt(0)).isEqualTo(1L);
        assertThat(t.longAt(1)).isEqualTo(-2L);
        assertThat(t.booleanAt(2)).isFalse();
        assertThat(t.booleanAt(1)).isTrue();
        assertThat(t.toFloatArray()).containsExactly(1.5f, -2.25f, 0f, 3.75f);
        assertThat(t.toDoubleArray()).containsExactly(1.5, -2.25, 0, 3.75);
        assertThat(t.toLongArray()).containsExactly(1, -2, 0, 3);
        assertThat(t.toIntArray()).containsExactly(1, -2, 0, 3);
        assertThat(t.toBooleanArray()).containsExactly(true, true, false, true);
    }

    @Test
    void ofDoubles_readBack_returnsValues() {
        Tensor t = Tensor.ofDoubles(new double[] {0.1, -7.9, 1e300}, 3);

        assertThat(t.type()).isEqualTo(DataType.FP64);
        assertThat(t.doubleAt(0)).isEqualTo(0.1);
        assertThat(t.floatAt(0)).isEqualTo(0.1f);
        assertThat(t.longAt(1)).isEqualTo(-7L);
        assertThat(t.floatAt(2)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(t.toDoubleArray()).containsExactly(0.1, -7.9, 1e300);
        assertThat(t.toFloatArray()).containsExactly(0.1f, -7.9f, Float.POSITIVE_INFINITY);
        assertThat(t.toBooleanArray()).containsExactly(true, true, true);
    }

    @Test
    void ofLongs_readBack_returnsValues() {
        Tensor t = Tensor.ofLongs(new long[] {Long.MAX_VALUE, -3, 0}, 1, 3);

        assertThat(t.type()).isEqualTo(DataType.INT64);
        assertThat(t.longAt(0)).isEqualTo(Long.MAX_VALUE);
        assertThat(t.doubleAt(1)).isEqualTo(-3.0);
        assertThat(t.floatAt(1)).isEqualTo(-3f);
        assertThat(t.booleanAt(2)).isFalse();
        assertThat(t.toLongArray()).containsExactly(Long.MAX_VALUE, -3, 0);
        assertThat(t.toIntArray()).containsExactly(-1, -3, 0); // narrowing keeps the low 32 bits
        assertThat(t.toBooleanArray()).containsExactly(true, true, false);
    }

    @Test
    void ofInts_readBack_returnsValues() {
        Tensor t = Tensor.ofInts(new int[] {Integer.MIN_VALUE, 7}, 2);

        assertThat(t.type()).isEqualTo(DataType.INT32);
        assertThat(t.longAt(0)).isEqualTo(Integer.MIN_VALUE);
        assertThat(t.doubleAt(1)).isEqualTo(7.0);
        assertThat(t.toIntArray()).containsExactly(Integer.MIN_VALUE, 7);
        assertThat(t.toLongArray()).containsExactly(Integer.MIN_VALUE, 7);
        assertThat(t.toFloatArray()).containsExactly(-2.14748365E9f, 7f);
    }

    @Test
    void ofShorts_readBack_returnsValues() {
        Tensor t = Tensor.ofShorts(new short[] {-32768, 12}, 2);

        assertThat(t.type()).isEqualTo(DataType.INT16);
        assertThat(t.longAt(0)).isEqualTo(-32768);
        assertThat(t.floatAt(1)).isEqualTo(12f);
        assertThat(t.toShortArray()).containsExactly((short) -32768, (short) 12);
        assertThat(t.toIntArray()).containsExactly(-32768, 12);
    }

    @Test
    void ofInt8_readBack_isSigned() {
        Tensor t = Tensor.ofInt8(new byte[] {(byte) 0xFF, 5}, 2);

        assertThat(t.type()).isEqualTo(DataType.INT8);
        assertThat(t.longAt(0)).isEqualTo(-1);
        assertThat(t.floatAt(0)).isEqualTo(-1f);
        assertThat(t.toByteArray()).containsExactly((byte) 0xFF, (byte) 5);
        assertThat(t.toIntArray()).containsExactly(-1, 5);
    }

    @Test
    void ofUint8_readBack_isUnsigned() {
        Tensor t = Tensor.ofUint8(new byte[] {(byte) 0xFF, 0}, 2);

        assertThat(t.type()).isEqualTo(DataType.UINT8);
        assertThat(t.longAt(0)).isEqualTo(255);
        assertThat(t.doubleAt(0)).isEqualTo(255.0);
        assertThat(t.booleanAt(1)).isFalse();
        assertThat(t.toByteArray()).containsExactly((byte) 0xFF, (byte) 0);
        assertThat(t.toLongArray()).containsExactly(255, 0);
    }

    @Test
    void ofBooleans_readBack_returnsZeroOrOne() {
        Tensor t = Tensor.ofBooleans(new boolean[] {true, false, true}, 3);

        assertThat(t.type()).isEqualTo(DataType.BOOL);
        assertThat(t.booleanAt(0)).isTrue();
        assertThat(t.booleanAt(1)).isFalse();
        assertThat(t.longAt(2)).isEqualTo(1);
        assertThat(t.floatAt(0)).isEqualTo(1f);
        assertThat(t.toBooleanArray()).containsExactly(true, false, true);
        assertThat(t.toByteArray()).containsExactly(1, 0, 1);
    }

    @Test
    void ofFloat16_readBack_decodesBits() {
        Tensor t = Tensor.ofFloat16(new short[] {0x3C00, (short) 0xC000, 0x3800}, 3);

        assertThat(t.type()).isEqualTo(DataType.FP16);
        assertThat(t.floatAt(0)).isEqualTo(1f);
        assertThat(t.doubleAt(1)).isEqualTo(-2.0);
        assertThat(t.toFloatArray()).containsExactly(1f, -2f, 0.5f);
        assertThat(t.longAt(2)).isZero();
        assertThat(t.booleanAt(2)).isTrue();
        assertThat(t.toShortArray()).containsExactly((short) 0x3C00, (short) 0xC000, (short) 0x3800);
    }

    @Test
    void ofBFloat16_readBack_decodesBits() {
        Tensor t = Tensor.ofBFloat16(new short[] {0x3F80, (short) 0xC000}, 2);

        assertThat(t.type()).isEqualTo(DataType.BF16);
        assertThat(t.floatAt(0)).isEqualTo(1f);
        assertThat(t.toDoubleArray()).containsExactly(1.0, -2.0);
        assertThat(t.longAt(1)).isEqualTo(-2);
        assertThat(t.toShortArray()).containsExactly((short) 0x3F80, (short) 0xC000);
    }

    @Test
    void ofStrings_readBack_returnsStrings() {
        Tensor t = Tensor.ofStrings(new String[] {"a", "", "ünï"}, 3);

        assertThat(t.type()).isEqualTo(DataType.BYTES);
        assertThat(t.stringAt(2)).isEqualTo("ünï");
        assertThat(t.toStringArray()).containsExactly("a", "", "ünï");
        assertThat(t.isDirect()).isFalse();
    }

    @Test
    void ofStrings_nullElement_failsNamingIndex() {
        assertThatThrownBy(() -> Tensor.ofStrings(new String[] {"a", null}, 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("element 1");
    }

    @Test
    void scalar_emptyShape_holdsOneValue() {
        Tensor t = Tensor.ofFloats(new float[] {4f});

        assertThat(t.rank()).isZero();
        assertThat(t.shape()).isEmpty();
        assertThat(t.size()).isEqualTo(1);
        assertThat(t.floatAt(0)).isEqualTo(4f);
    }

    @Test
    void shape_returnedArrayModified_tensorUnchanged() {
        Tensor t = Tensor.ofFloats(new float[6], 2, 3);

        t.shape()[0] = 99;

        assertThat(t.shape()).containsExactly(2, 3);
        assertThat(t.hasShape(2, 3)).isTrue();
        assertThat(t.hasShape(3, 2)).isFalse();
    }

    @Test
    void numericReaders_onBytesTensor_failWithIllegalState() {
        Tensor t = Tensor.ofStrings(new String[] {"x"}, 1);

        assertThatThrownBy(() -> t.floatAt(0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> t.doubleAt(0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> t.longAt(0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(t::toFloatArray).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(t::buffer).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void stringReaders_onNumericTensor_failWithIllegalState() {
        Tensor t = Tensor.ofFloats(new float[] {1}, 1);

        assertThatThrownBy(() -> t.stringAt(0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(t::toStringArray).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void rawReaders_onWrongWidth_failWithIllegalState() {
        assertThatThrownBy(() -> Tensor.ofFloats(new float[] {1}, 1).toShortArray())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("FP32");
        assertThatThrownBy(() -> Tensor.ofInts(new int[] {1}, 1).toByteArray())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("INT32");
    }

    @ParameterizedTest
    @EnumSource(DataType.class)
    void zeros_everyType_holdsZeroValues(DataType type) {
        Tensor t = Tensor.zeros(type, 2, 3);

        assertThat(t.type()).isEqualTo(type);
        assertThat(t.size()).isEqualTo(6);
        if (type == DataType.BYTES) {
            assertThat(t.toStringArray()).containsOnly("");
        } else {
            assertThat(t.toDoubleArray()).containsOnly(0.0);
            assertThat(t.toBooleanArray()).containsOnly(false);
        }
    }

    // ---------------------------------------------------------------- shape checks

    @Test
    void ofFloats_valueCountDiffersFromShape_failsNamingBoth() {
        assertThatThrownBy(() -> Tensor.ofFloats(new float[5], 2, 3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("[2, 3]")
                .hasMessageContaining("needs 6 values, got 5");
    }

    @Test
    void ofStrings_valueCountDiffersFromShape_failsNamingBoth() {
        assertThatThrownBy(() -> Tensor.ofStrings(new String[] {"a"}, 1, 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("[1, 2]")
                .hasMessageContaining("needs 2 values, got 1");
    }

    @Test
    void ofFloats_negativeDimension_fails() {
        assertThatThrownBy(() -> Tensor.ofFloats(new float[0], -1, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("negative dimension");
    }

    @Test
    void elementCount_productAboveIntRange_fails() {
        assertThatThrownBy(() -> Tensor.elementCount(65536, 65536))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("more than");
    }

    @Test
    void elementCount_productOverflowsLong_failsInsteadOfWrapping() {
        // 4 * 2^62 wraps to 0 in a long: such a shape must not pass as an empty tensor.
        assertThatThrownBy(() -> Tensor.elementCount(4, 1L << 62))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Tensor.ofFloats(new float[0], 4, 1L << 62))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void elementCount_zeroDimension_isZero() {
        assertThat(Tensor.elementCount(3, 0, 5)).isZero();
        assertThat(Tensor.elementCount()).isEqualTo(1);
    }

    // ---------------------------------------------------------------- of(DataType, Buffer, shape)

    @Test
    void of_heapFloatBuffer_slicesFromPosition() {
        FloatBuffer b = FloatBuffer.wrap(new float[] {9f, 1f, 2f});
        b.position(1);

        Tensor t = Tensor.of(DataType.FP32, b, 2);

        assertThat(t.toFloatArray()).containsExactly(1f, 2f);
        assertThat(t.isDirect()).isFalse();
        assertThat(b.position()).isEqualTo(1);
    }

    @Test
    void of_directNativeOrderBuffers_readBackAndStayDirect() {
        FloatBuffer f = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder()).asFloatBuffer();
        f.put(0, 1.25f).put(1, -4f);
        DoubleBuffer d = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder()).asDoubleBuffer();
        d.put(0, 2.5).put(1, 3.5);
        LongBuffer l = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder()).asLongBuffer();
        l.put(0, 7).put(1, -8);
        IntBuffer i = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder()).asIntBuffer();
        i.put(0, 70).put(1, -80);
        ShortBuffer s = ByteBuffer.allocateDirect(4).order(ByteOrder.nativeOrder()).asShortBuffer();
        s.put(0, (short) 0x3C00).put(1, (short) 0xC000);
        ByteBuffer bytes = ByteBuffer.allocateDirect(2);
        bytes.put(0, (byte) 200).put(1, (byte) 1);

        Tensor tf = Tensor.of(DataType.FP32, f, 1, 2);
        Tensor td = Tensor.of(DataType.FP64, d, 2);
        Tensor tl = Tensor.of(DataType.INT64, l, 2);
        Tensor ti = Tensor.of(DataType.INT32, i, 2);
        Tensor th = Tensor.of(DataType.FP16, s, 2);
        Tensor tu = Tensor.of(DataType.UINT8, bytes, 2);

        assertThat(tf.isDirect()).isTrue();
        assertThat(tf.buffer().isDirect()).isTrue();
        assertThat(tf.toFloatArray()).containsExactly(1.25f, -4f);
        assertThat(td.toDoubleArray()).containsExactly(2.5, 3.5);
        assertThat(tl.toLongArray()).containsExactly(7, -8);
        assertThat(ti.toIntArray()).containsExactly(70, -80);
        assertThat(th.toFloatArray()).containsExactly(1f, -2f);
        assertThat(tu.toLongArray()).containsExactly(200, 1);
        assertThat(tf).isEqualTo(Tensor.ofFloats(new float[] {1.25f, -4f}, 1, 2));
    }

    @Test
    void of_wrongBufferType_failsNamingExpectedAndActual() {
        assertThatThrownBy(() -> Tensor.of(DataType.FP32, ByteBuffer.allocate(8), 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("FloatBuffer")
                .hasMessageContaining("ByteBuffer");
        assertThatThrownBy(() -> Tensor.of(DataType.INT64, IntBuffer.allocate(2), 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("LongBuffer");
    }

    @Test
    void of_bytesType_failsPointingToOfStrings() {
        assertThatThrownBy(() -> Tensor.of(DataType.BYTES, ByteBuffer.allocate(1), 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ofStrings");
    }

    @Test
    void of_bufferSizeDiffersFromShape_fails() {
        assertThatThrownBy(() -> Tensor.of(DataType.FP32, FloatBuffer.allocate(3), 2, 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("needs 4 values, got 3");
    }

    @Test
    void buffer_isReadOnlyViewAtZero() {
        Tensor t = Tensor.ofFloats(new float[] {1, 2}, 2);

        Buffer b = t.buffer();

        assertThat(b).isInstanceOf(FloatBuffer.class);
        assertThat(b.isReadOnly()).isTrue();
        assertThat(b.position()).isZero();
        assertThat(b.remaining()).isEqualTo(2);
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = "BYTES", mode = EnumSource.Mode.EXCLUDE)
    void bufferType_everyNumericType_matchesBufferOfZeros(DataType type) {
        assertThat(Tensor.zeros(type, 1).buffer()).isInstanceOf(Tensor.bufferType(type));
    }

    @Test
    void bufferType_bytes_isNull() {
        assertThat(Tensor.bufferType(DataType.BYTES)).isNull();
    }

    // ---------------------------------------------------------------- copyTo

    @Test
    void copyTo_typedBuffers_copiesAtIndexWithoutMovingPosition() {
        FloatBuffer f = FloatBuffer.allocate(5);
        Tensor.ofFloats(new float[] {1, 2}, 2).copyTo(f, 3);
        assertThat(f.position()).isZero();
        assertThat(f.array()).containsExactly(0, 0, 0, 1, 2);

        DoubleBuffer d = ByteBuffer.allocateDirect(24).order(ByteOrder.nativeOrder()).asDoubleBuffer();
        Tensor.ofDoubles(new double[] {5, 6}, 2).copyTo(d, 1);
        assertThat(d.get(1)).isEqualTo(5);
        assertThat(d.get(2)).isEqualTo(6);

        LongBuffer l = LongBuffer.allocate(2);
        Tensor.ofLongs(new long[] {-1, 9}, 2).copyTo(l, 0);
        assertThat(l.array()).containsExactly(-1, 9);

        IntBuffer i = IntBuffer.allocate(1);
        Tensor.ofInts(new int[] {42}, 1).copyTo(i, 0);
        assertThat(i.get(0)).isEqualTo(42);

        ShortBuffer s = ShortBuffer.allocate(1);
        Tensor.ofBFloat16(new short[] {0x3F80}, 1).copyTo(s, 0);
        assertThat(s.get(0)).isEqualTo((short) 0x3F80);

        ByteBuffer b = ByteBuffer.allocate(3);
        Tensor.ofBooleans(new boolean[] {true, true}, 2).copyTo(b, 1);
        assertThat(b.array()).containsExactly(0, 1, 1);
    }

    @Test
    void copyTo_wrongBufferType_failsNamingTypes() {
        assertThatThrownBy(() -> Tensor.ofFloats(new float[] {1}, 1).copyTo(DoubleBuffer.allocate(1), 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("FP32")
                .hasMessageContaining("DoubleBuffer");
    }

    // ---------------------------------------------------------------- value semantics

    @Test
    void equals_sameTypeShapeValues_equalWithEqualHash() {
        Tensor a = Tensor.ofFloats(new float[] {1, 2, 3, 4}, 2, 2);
        Tensor b = Tensor.ofFloats(new float[] {1, 2, 3, 4}, 2, 2);

        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(Tensor.ofStrings(new String[] {"x"}, 1)).isEqualTo(Tensor.ofStrings(new String[] {"x"}, 1))
                .hasSameHashCodeAs(Tensor.ofStrings(new String[] {"x"}, 1));
    }

    @Test
    void equals_differentShapeTypeOrValue_notEqual() {
        Tensor a = Tensor.ofFloats(new float[] {1, 2, 3, 4}, 2, 2);

        assertThat(a).isNotEqualTo(Tensor.ofFloats(new float[] {1, 2, 3, 4}, 4));
        assertThat(a).isNotEqualTo(Tensor.ofFloats(new float[] {1, 2, 3, 5}, 2, 2));
        assertThat(Tensor.ofInt8(new byte[] {1}, 1)).isNotEqualTo(Tensor.ofUint8(new byte[] {1}, 1));
        assertThat(Tensor.ofStrings(new String[] {"x"}, 1)).isNotEqualTo(Tensor.ofStrings(new String[] {"y"}, 1));
        assertThat(a).isNotEqualTo("FP32[2, 2]");
    }

    @Test
    void equals_nanAndSignedZero_compareAsBufferEquals() {
        Tensor a = Tensor.ofFloats(new float[] {Float.NaN, 0f}, 2);
        Tensor b = Tensor.ofFloats(new float[] {Float.intBitsToFloat(0x7FC00001), -0f}, 2);

        assertThat(a).isEqualTo(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(Tensor.ofDoubles(new double[] {Double.NaN}, 1)).isEqualTo(Tensor.ofDoubles(new double[] {Double.NaN}, 1));
    }

    @Test
    void equals_heapAndDirectBuffersWithSameValues_equalWithEqualHash() {
        LongBuffer direct = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder()).asLongBuffer();
        direct.put(0, 3).put(1, 4);
        Tensor heap = Tensor.ofLongs(new long[] {3, 4}, 2);

        assertThat(Tensor.of(DataType.INT64, direct, 2)).isEqualTo(heap).hasSameHashCodeAs(heap);
    }

    @Test
    void toString_printsTypeAndShapeButNoValues() {
        Tensor t = Tensor.ofFloats(new float[] {123.456f, 789.5f}, 1, 2);

        assertThat(t.toString()).isEqualTo("FP32[1, 2]");
        assertThat(Tensor.ofStrings(new String[] {"secret"}, 1).toString()).isEqualTo("BYTES[1]")
                .doesNotContain("secret");
    }
}
