package dev.nearline.onnx.testing;

import dev.nearline.api.DataType;
import dev.nearline.api.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads serialized {@code onnx.TensorProto} and {@code onnx.SequenceProto} files (the ONNX backend
 * test data layout) into {@link Tensor}s with a small protobuf decoder of its own, so the tests need
 * no protobuf dependency. Field numbers follow the public {@code onnx.proto}.
 */
public final class TensorProtos {
    private TensorProtos() {
    }

    /** A decoded tensor: its name in the file (may be empty) and its value. */
    public record Named(String name, Tensor tensor) {
    }

    /** Reads a TensorProto file. */
    public static Named readTensor(Path file) throws IOException {
        return tensor(new Reader(Files.readAllBytes(file)), file.toString());
    }

    /** Reads a SequenceProto file of tensors. */
    public static List<Tensor> readSequence(Path file) throws IOException {
        Reader r = new Reader(Files.readAllBytes(file));
        List<Tensor> out = new ArrayList<>();
        while (r.more()) {
            long tag = r.varint();
            int field = (int) (tag >>> 3);
            if (field == 3 && (tag & 7) == 2) {
                out.add(tensor(new Reader(r.bytes()), file.toString()).tensor());
            } else {
                r.skip((int) (tag & 7));
            }
        }
        return out;
    }

    private static Named tensor(Reader r, String where) {
        LongList dims = new LongList();
        int dataType = 0;
        String name = "";
        byte[] raw = null;
        List<byte[]> strings = new ArrayList<>();
        List<Number> numbers = new ArrayList<>();
        while (r.more()) {
            long tag = r.varint();
            int field = (int) (tag >>> 3);
            int wire = (int) (tag & 7);
            switch (field) {
                case 1:
                    readVarints(r, wire, dims);
                    break;
                case 2:
                    dataType = (int) r.varint();
                    break;
                case 4: // float_data
                    if (wire == 2) {
                        Reader p = new Reader(r.bytes());
                        while (p.more()) {
                            numbers.add(Float.intBitsToFloat(p.fixed32()));
                        }
                    } else {
                        numbers.add(Float.intBitsToFloat(r.fixed32()));
                    }
                    break;
                case 5: // int32_data
                case 7: // int64_data
                case 11: { // uint64_data
                    LongList l = new LongList();
                    readVarints(r, wire, l);
                    for (int i = 0; i < l.size; i++) {
                        numbers.add(l.values[i]);
                    }
                    break;
                }
                case 6:
                    strings.add(r.bytes());
                    break;
                case 8:
                    name = new String(r.bytes(), StandardCharsets.UTF_8);
                    break;
                case 9:
                    raw = r.bytes();
                    break;
                case 10: // double_data
                    if (wire == 2) {
                        Reader p = new Reader(r.bytes());
                        while (p.more()) {
                            numbers.add(Double.longBitsToDouble(p.fixed64()));
                        }
                    } else {
                        numbers.add(Double.longBitsToDouble(r.fixed64()));
                    }
                    break;
                default:
                    r.skip(wire);
            }
        }
        long[] shape = dims.toArray();
        DataType type = dataType(dataType, where);
        if (type == DataType.BYTES) {
            String[] s = new String[strings.size()];
            for (int i = 0; i < s.length; i++) {
                s[i] = new String(strings.get(i), StandardCharsets.UTF_8);
            }
            return new Named(name, Tensor.ofStrings(s, shape));
        }
        if (raw != null) {
            return new Named(name, Tensor.fromLittleEndian(type, ByteBuffer.wrap(raw), shape));
        }
        // typed fields: write them little-endian and reuse the same decoder
        ByteBuffer le = ByteBuffer.allocate(numbers.size() * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (Number n : numbers) {
            switch (type) {
                case FP32:
                    le.putFloat(n.floatValue());
                    break;
                case FP64:
                    le.putDouble(n.doubleValue());
                    break;
                case INT64:
                    le.putLong(n.longValue());
                    break;
                case INT32:
                    le.putInt(n.intValue());
                    break;
                case INT16:
                case FP16:
                case BF16:
                    le.putShort((short) n.intValue());
                    break;
                default:
                    le.put((byte) n.intValue());
            }
        }
        le.flip();
        return new Named(name, Tensor.fromLittleEndian(type, le, shape));
    }

    private static DataType dataType(int code, String where) {
        switch (code) {
            case 1:
                return DataType.FP32;
            case 2:
                return DataType.UINT8;
            case 3:
                return DataType.INT8;
            case 5:
                return DataType.INT16;
            case 6:
                return DataType.INT32;
            case 7:
                return DataType.INT64;
            case 8:
                return DataType.BYTES;
            case 9:
                return DataType.BOOL;
            case 10:
                return DataType.FP16;
            case 11:
                return DataType.FP64;
            case 16:
                return DataType.BF16;
            default:
                throw new IllegalArgumentException(where + ": ONNX data type " + code + " has no Nearline type");
        }
    }

    private static void readVarints(Reader r, int wire, LongList into) {
        if (wire == 2) {
            Reader p = new Reader(r.bytes());
            while (p.more()) {
                into.add(p.varint());
            }
        } else {
            into.add(r.varint());
        }
    }

    /** Protobuf wire-format reader over a byte array. */
    private static final class Reader {
        private final byte[] b;
        private int pos;

        Reader(byte[] b) {
            this.b = b;
        }

        boolean more() {
            return pos < b.length;
        }

        long varint() {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                byte x = b[pos++];
                v |= (long) (x & 0x7F) << shift;
                if (x >= 0) {
                    return v;
                }
            }
            throw new IllegalArgumentException("malformed varint at " + pos);
        }

        int fixed32() {
            int v = 0;
            for (int i = 0; i < 4; i++) {
                v |= (b[pos++] & 0xFF) << (8 * i);
            }
            return v;
        }

        long fixed64() {
            long v = 0;
            for (int i = 0; i < 8; i++) {
                v |= (long) (b[pos++] & 0xFF) << (8 * i);
            }
            return v;
        }

        byte[] bytes() {
            int n = (int) varint();
            byte[] out = java.util.Arrays.copyOfRange(b, pos, pos + n);
            pos += n;
            return out;
        }

        void skip(int wire) {
            switch (wire) {
                case 0:
                    varint();
                    break;
                case 1:
                    pos += 8;
                    break;
                case 2: {
                    int length = (int) varint(); // read before pos is used: varint() advances it
                    pos += length;
                    break;
                }
                case 5:
                    pos += 4;
                    break;
                default:
                    throw new IllegalArgumentException("unsupported wire type " + wire);
            }
        }
    }

    private static final class LongList {
        long[] values = new long[8];
        int size;

        void add(long v) {
            if (size == values.length) {
                values = java.util.Arrays.copyOf(values, size * 2);
            }
            values[size++] = v;
        }

        long[] toArray() {
            return java.util.Arrays.copyOf(values, size);
        }
    }
}
