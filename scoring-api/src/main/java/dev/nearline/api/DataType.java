package dev.nearline.api;

/**
 * Element type of a {@link Tensor}. Constant names are the KServe v2 / Open Inference Protocol
 * datatype names, so a remote backend maps them one to one; {@link #byteSize()} is the width of
 * one element in bytes (0 for {@link #BYTES}, whose elements vary in length).
 */
public enum DataType {
    /** Boolean, one byte per element (0 or 1). */
    BOOL(1),
    /** Unsigned 8-bit integer. */
    UINT8(1),
    /** Signed 8-bit integer. */
    INT8(1),
    /** Signed 16-bit integer. */
    INT16(2),
    /** Signed 32-bit integer. */
    INT32(4),
    /** Signed 64-bit integer. */
    INT64(8),
    /** IEEE 754 half precision float, carried as its 16 raw bits. */
    FP16(2),
    /** bfloat16 (the upper 16 bits of an FP32), carried as its 16 raw bits. */
    BF16(2),
    /** IEEE 754 single precision float. */
    FP32(4),
    /** IEEE 754 double precision float. */
    FP64(8),
    /** Variable-length strings (ONNX {@code string}); elements are UTF-8 encoded on the wire. */
    BYTES(0);

    private final int byteSize;

    DataType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element, or 0 for {@link #BYTES}. */
    public int byteSize() {
        return byteSize;
    }

    /** Whether elements are floating point numbers (FP16, BF16, FP32, FP64). */
    public boolean isFloatingPoint() {
        return this == FP16 || this == BF16 || this == FP32 || this == FP64;
    }

    /** Whether elements are numbers (every type except {@link #BOOL} and {@link #BYTES}). */
    public boolean isNumeric() {
        return this != BOOL && this != BYTES;
    }

    /**
     * The constant for a KServe v2 datatype name such as {@code "FP32"}.
     *
     * @throws IllegalArgumentException naming the accepted names when {@code name} is not one
     */
    public static DataType fromName(String name) {
        for (DataType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown datatype '" + name + "', expected one of "
                + java.util.Arrays.toString(values()));
    }
}
