package dev.nearline.onnx.testing;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A minimal protocol buffers wire-format encoder: varints, fixed-width numbers and length-delimited
 * fields, appended in call order so that the same calls always produce the same bytes. Enough to
 * write ONNX {@code ModelProto} files without a protobuf dependency; not thread-safe.
 */
final class ProtoWriter {
    private static final int VARINT = 0;
    private static final int FIXED64 = 1;
    private static final int LENGTH_DELIMITED = 2;
    private static final int FIXED32 = 5;

    private byte[] bytes = new byte[64];
    private int size;

    /** Appends a varint field (int32, int64, bool and enum values); negative values take ten bytes. */
    public ProtoWriter int64(int field, long value) {
        tag(field, VARINT);
        varint(value);
        return this;
    }

    /** Appends a 32-bit float field. */
    public ProtoWriter float32(int field, float value) {
        return fixed(field, FIXED32, Float.floatToRawIntBits(value), Integer.BYTES);
    }

    /** Appends a 64-bit double field. */
    public ProtoWriter float64(int field, double value) {
        return fixed(field, FIXED64, Double.doubleToRawLongBits(value), Long.BYTES);
    }

    /** Appends a string field, UTF-8 encoded. */
    public ProtoWriter string(int field, String value) {
        return bytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    /** Appends a bytes field. */
    public ProtoWriter bytes(int field, byte[] value) {
        tag(field, LENGTH_DELIMITED);
        varint(value.length);
        ensure(value.length);
        System.arraycopy(value, 0, bytes, size, value.length);
        size += value.length;
        return this;
    }

    /** Appends an embedded message field holding everything written to {@code message} so far. */
    public ProtoWriter message(int field, ProtoWriter message) {
        tag(field, LENGTH_DELIMITED);
        varint(message.size);
        ensure(message.size);
        System.arraycopy(message.bytes, 0, bytes, size, message.size);
        size += message.size;
        return this;
    }

    /** The bytes written so far (a copy). */
    public byte[] toByteArray() {
        return Arrays.copyOf(bytes, size);
    }

    /** A fixed-width field: the low {@code bytes} bytes of {@code bits}, little-endian. */
    private ProtoWriter fixed(int field, int wireType, long bits, int bytes) {
        tag(field, wireType);
        for (int i = 0; i < bytes; i++) {
            append((byte) (bits >>> (8 * i)));
        }
        return this;
    }

    private void tag(int field, int wireType) {
        if (field <= 0) {
            throw new IllegalArgumentException("field number must be positive, got " + field);
        }
        varint(((long) field << 3) | wireType);
    }

    private void varint(long value) {
        long v = value;
        while ((v & ~0x7FL) != 0) {
            append((byte) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        append((byte) v);
    }

    private void append(byte b) {
        ensure(1);
        bytes[size++] = b;
    }

    private void ensure(int extra) {
        if (size + extra > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + extra));
        }
    }
}
