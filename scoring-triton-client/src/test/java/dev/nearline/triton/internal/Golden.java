package dev.nearline.triton.internal;

import dev.nearline.api.DataType;
import dev.nearline.api.Tensor;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Hand-written wire data for every datatype, worked out from the KServe v2 protocol description
 * (little-endian, row-major, BOOL as one byte, BYTES as a 4-byte little-endian length then UTF-8),
 * not produced by the code under test.
 */
final class Golden {

    /**
     * One datatype's golden values.
     *
     * @param type     datatype
     * @param tensor   the values as a Nearline tensor, shape [n]
     * @param json     the same values as the JSON "data" array, or null when JSON cannot carry them
     * @param hex      the same values in the binary layout
     */
    record Case(DataType type, Tensor tensor, String json, String hex) {
        @Override
        public String toString() {
            return type.name();
        }
    }

    static final List<Case> CASES = List.of(
            new Case(DataType.BOOL, Tensor.ofBooleans(new boolean[] {true, false, true}, 3),
                    "[true,false,true]", "01 00 01"),
            new Case(DataType.UINT8, Tensor.ofUint8(new byte[] {0, (byte) 200, (byte) 255}, 3),
                    "[0,200,255]", "00 c8 ff"),
            new Case(DataType.INT8, Tensor.ofInt8(new byte[] {-1, 0, 127}, 3),
                    "[-1,0,127]", "ff 00 7f"),
            new Case(DataType.INT16, Tensor.ofShorts(new short[] {-2, 300}, 2),
                    "[-2,300]", "fe ff 2c 01"),
            new Case(DataType.INT32, Tensor.ofInts(new int[] {1, -1}, 2),
                    "[1,-1]", "01 00 00 00 ff ff ff ff"),
            new Case(DataType.INT64, Tensor.ofLongs(new long[] {5_000_000_000L, -2}, 2),
                    "[5000000000,-2]", "00 f2 05 2a 01 00 00 00 fe ff ff ff ff ff ff ff"),
            new Case(DataType.FP16, Tensor.ofFloat16(new short[] {0x3C00, (short) 0xC000}, 2),
                    null, "00 3c 00 c0"),
            new Case(DataType.BF16, Tensor.ofBFloat16(new short[] {0x3F80, (short) 0xC000}, 2),
                    null, "80 3f 00 c0"),
            new Case(DataType.FP32, Tensor.ofFloats(new float[] {1.0f, -2.5f}, 2),
                    "[1.0,-2.5]", "00 00 80 3f 00 00 20 c0"),
            new Case(DataType.FP64, Tensor.ofDoubles(new double[] {0.5, -1.0}, 2),
                    "[0.5,-1.0]", "00 00 00 00 00 00 e0 3f 00 00 00 00 00 00 f0 bf"),
            new Case(DataType.BYTES, Tensor.ofStrings(new String[] {"ab", "", "é"}, 3),
                    "[\"ab\",\"\",\"é\"]", "02 00 00 00 61 62 00 00 00 00 02 00 00 00 c3 a9"));

    private Golden() {
    }

    /** Bytes from space-separated hex pairs. */
    static byte[] hex(String hex) {
        String[] parts = hex.trim().isEmpty() ? new String[0] : hex.trim().split("\\s+");
        byte[] b = new byte[parts.length];
        for (int i = 0; i < parts.length; i++) {
            b[i] = (byte) Integer.parseInt(parts[i], 16);
        }
        return b;
    }

    /** UTF-8 of {@code json} followed by {@code hex}. */
    static byte[] body(String json, String hex) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(json.getBytes(StandardCharsets.UTF_8));
        out.writeBytes(hex(hex));
        return out.toByteArray();
    }

    /** Byte length of {@code json} in UTF-8. */
    static int length(String json) {
        return json.getBytes(StandardCharsets.UTF_8).length;
    }
}
