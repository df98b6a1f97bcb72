package dev.nearline.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The KServe v2 binary form: {@link Tensor#writeLittleEndian} and {@link Tensor#fromLittleEndian}. */
class TensorWireFormatTest {

    static Stream<Arguments> oneTensorPerType() {
        return Stream.of(
                Arguments.of(Tensor.ofBooleans(new boolean[] {true, false, true, true}, 2, 2)),
                Arguments.of(Tensor.ofUint8(new byte[] {(byte) 255, 0, 7}, 3)),
                Arguments.of(Tensor.ofInt8(new byte[] {-128, 127}, 1, 2)),
                Arguments.of(Tensor.ofShorts(new short[] {-32768, 1, 32767}, 3)),
                Arguments.of(Tensor.ofInts(new int[] {Integer.MIN_VALUE, -1, 0x01020304}, 3, 1)),
                Arguments.of(Tensor.ofLongs(new long[] {Long.MIN_VALUE, 0x0102030405060708L}, 2)),
                Arguments.of(Tensor.ofFloat16(new short[] {0x3C00, (short) 0xFC00}, 2)),
                Arguments.of(Tensor.ofBFloat16(new short[] {0x3F80, 0x7FC0}, 2)),
                Arguments.of(Tensor.ofFloats(new float[] {1.5f, Float.NaN, -0f, Float.MIN_VALUE}, 2, 2)),
                Arguments.of(Tensor.ofDoubles(new double[] {Math.PI, -1e-300}, 2)),
                Arguments.of(Tensor.ofStrings(new String[] {"", "plain", "é€𝄞 multi-byte", "日本"}, 2, 2)),
                Arguments.of(Tensor.ofFloats(new float[0], 0, 3)),
                Arguments.of(Tensor.ofLongs(new long[] {42})));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("oneTensorPerType")
    void writeLittleEndian_thenFromLittleEndian_roundTrips(Tensor t) {
        ByteBuffer out = ByteBuffer.allocate((int) t.byteSize() + 3);
        out.position(3);

        t.writeLittleEndian(out);

        assertThat(out.position() - 3).as("bytes written").isEqualTo(t.byteSize());
        assertThat(out.order()).isEqualTo(ByteOrder.BIG_ENDIAN);
        out.flip().position(3);
        Tensor back = Tensor.fromLittleEndian(t.type(), out, t.shape());
        assertThat(back).isEqualTo(t);
        assertThat(back.shape()).isEqualTo(t.shape());
        assertThat(out.position()).as("reading does not consume the caller's buffer").isEqualTo(3);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("oneTensorPerType")
    void writeLittleEndian_directNativeTarget_writesSameBytesAsHeap(Tensor t) {
        ByteBuffer heap = ByteBuffer.allocate((int) t.byteSize());
        ByteBuffer direct = ByteBuffer.allocateDirect((int) t.byteSize()).order(ByteOrder.nativeOrder());

        t.writeLittleEndian(heap);
        t.writeLittleEndian(direct);

        assertThat(direct.order()).isEqualTo(ByteOrder.nativeOrder());
        heap.flip();
        direct.flip();
        assertThat(direct).isEqualTo(heap);
    }

    @Test
    void writeLittleEndian_int32_isLittleEndian() {
        ByteBuffer out = ByteBuffer.allocate(4);

        Tensor.ofInts(new int[] {0x01020304}, 1).writeLittleEndian(out);

        assertThat(out.array()).containsExactly(4, 3, 2, 1);
    }

    @Test
    void writeLittleEndian_bytes_writesLengthPrefixAndUtf8() {
        String s = "é€";
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        Tensor t = Tensor.ofStrings(new String[] {s}, 1);
        ByteBuffer out = ByteBuffer.allocate((int) t.byteSize());

        t.writeLittleEndian(out);

        assertThat(t.byteSize()).isEqualTo(4 + 5);
        assertThat(utf8).hasSize(5);
        assertThat(out.array()).startsWith(5, 0, 0, 0);
        assertThat(out.array()).endsWith(utf8);
    }

    @Test
    void writeLittleEndian_directNativeSourceTensor_writesLittleEndian() {
        ByteBuffer native4 = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder());
        native4.asIntBuffer().put(0, 0x01020304).put(1, -2);
        Tensor t = Tensor.of(DataType.INT32, native4.asIntBuffer(), 2);
        ByteBuffer out = ByteBuffer.allocate(8);

        t.writeLittleEndian(out);

        assertThat(out.array()).containsExactly(4, 3, 2, 1, -2, -1, -1, -1);
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = "BYTES", mode = EnumSource.Mode.EXCLUDE)
    void fromLittleEndian_truncatedData_failsWithIllegalArgument(DataType type) {
        ByteBuffer bytes = ByteBuffer.allocate(3 * type.byteSize() - 1);

        assertThatThrownBy(() -> Tensor.fromLittleEndian(type, bytes, 3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("needs " + 3 * type.byteSize() + " bytes, got " + (3 * type.byteSize() - 1));
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = "BYTES", mode = EnumSource.Mode.EXCLUDE)
    void fromLittleEndian_extraData_failsWithIllegalArgument(DataType type) {
        assertThatThrownBy(() -> Tensor.fromLittleEndian(type, ByteBuffer.allocate(2 * type.byteSize() + 1), 2))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void fromLittleEndian_bytesTruncatedBeforeLengthPrefix_failsNamingElement() {
        ByteBuffer b = ByteBuffer.allocate(4 + 3 + 2).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(3).put((byte) 'a').put((byte) 'b').put((byte) 'c').put((byte) 0).put((byte) 0).flip();

        assertThatThrownBy(() -> Tensor.fromLittleEndian(DataType.BYTES, b, 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("element 1");
    }

    @Test
    void fromLittleEndian_bytesLengthBeyondData_failsWithIllegalArgument() {
        ByteBuffer b = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(10).put((byte) 'a').put((byte) 'b').flip();

        assertThatThrownBy(() -> Tensor.fromLittleEndian(DataType.BYTES, b, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("declares 10 bytes but only 2 remain");
    }

    @Test
    void fromLittleEndian_bytesNegativeLength_failsWithIllegalArgument() {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(-1).putInt(0).flip();

        assertThatThrownBy(() -> Tensor.fromLittleEndian(DataType.BYTES, b, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("4294967295");
    }

    @Test
    void fromLittleEndian_bytesTrailingData_failsWithIllegalArgument() {
        ByteBuffer b = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(1).put((byte) 'a').put((byte) 'b').flip();

        assertThatThrownBy(() -> Tensor.fromLittleEndian(DataType.BYTES, b, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1 bytes left");
    }

    @Test
    void fromLittleEndian_bytesFewerBytesThanLengthPrefixes_failsWithIllegalArgument() {
        assertThatThrownBy(() -> Tensor.fromLittleEndian(DataType.BYTES, ByteBuffer.allocate(7), 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("needs at least 8 bytes");
    }

    @Test
    void fromLittleEndian_bytesHugeShapeTinyData_failsWithIllegalArgumentNotOutOfMemory() {
        // An untrusted response may declare far more elements than its bytes can hold.
        ByteBuffer b = ByteBuffer.allocate(8);

        assertThatThrownBy(() -> Tensor.fromLittleEndian(DataType.BYTES, b, Integer.MAX_VALUE))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void fromLittleEndian_negativeOrOverflowingShape_failsWithIllegalArgument() {
        assertThatThrownBy(() -> Tensor.fromLittleEndian(DataType.FP32, ByteBuffer.allocate(0), -1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Tensor.fromLittleEndian(DataType.FP32, ByteBuffer.allocate(0), 4, 1L << 62))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Tensor.fromLittleEndian(DataType.BYTES, ByteBuffer.allocate(0), 4, 1L << 62))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** Random bytes and shapes: decoding fails with IllegalArgumentException or succeeds, nothing else. */
    @Test
    void fromLittleEndian_randomInput_onlyEverThrowsIllegalArgument() {
        Random random = new Random(42);
        DataType[] types = DataType.values();
        for (int i = 0; i < 20_000; i++) {
            byte[] data = new byte[random.nextInt(40)];
            random.nextBytes(data);
            if (random.nextBoolean() && data.length >= 4) {
                // A plausible small length prefix so BYTES decoding gets past the first element sometimes.
                data[0] = (byte) random.nextInt(8);
                data[1] = 0;
                data[2] = 0;
                data[3] = 0;
            }
            DataType type = types[random.nextInt(types.length)];
            long[] shape = new long[random.nextInt(3)];
            for (int d = 0; d < shape.length; d++) {
                shape[d] = random.nextInt(10) == 0 ? random.nextLong() : random.nextInt(6);
            }
            try {
                Tensor t = Tensor.fromLittleEndian(type, ByteBuffer.wrap(data), shape);
                assertThat(t.size()).isEqualTo(Tensor.elementCount(shape));
                if (type != DataType.BYTES) { // invalid UTF-8 decodes to U+FFFD, which re-encodes longer
                    assertThat(t.byteSize()).isEqualTo(data.length);
                }
            } catch (IllegalArgumentException expected) {
                assertThat(expected.getMessage()).isNotBlank();
            }
        }
    }
}
