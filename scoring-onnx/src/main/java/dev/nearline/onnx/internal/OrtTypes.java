package dev.nearline.onnx.internal;

import ai.onnxruntime.MapInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.SequenceInfo;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.ValueInfo;
import dev.nearline.api.DataType;
import dev.nearline.api.Tensor;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Maps between ONNX Runtime's Java types and Nearline's {@link DataType}, and creates
 * {@link OnnxTensor}s from Nearline tensors. Element types are mapped by enum name, never by
 * ONNX Runtime's numeric codes (which differ from ONNX's). Stateless.
 */
public final class OrtTypes {
    private static final String ELEMENT_PREFIX = "ONNX_TENSOR_ELEMENT_DATA_TYPE_";

    private OrtTypes() {
    }

    /**
     * The ONNX element type name of a tensor, lower case as ONNX writes it ({@code float},
     * {@code uint16}, {@code bfloat16}).
     */
    public static String elementName(TensorInfo info) {
        String n = info.onnxType.name();
        return (n.startsWith(ELEMENT_PREFIX) ? n.substring(ELEMENT_PREFIX.length()) : n).toLowerCase(Locale.ROOT);
    }

    /**
     * The data type that carries tensors of {@code info}'s element type, or {@code null} when
     * Nearline has none. Unsigned 16/32/64-bit integers widen to INT32/INT64/INT64 (outputs only:
     * ONNX Runtime's Java API cannot create such inputs).
     */
    public static @Nullable DataType dataType(TensorInfo info) {
        switch (elementName(info)) {
            case "float":
                return DataType.FP32;
            case "double":
                return DataType.FP64;
            case "int8":
                return DataType.INT8;
            case "uint8":
                return DataType.UINT8;
            case "int16":
                return DataType.INT16;
            case "int32":
                return DataType.INT32;
            case "int64":
                return DataType.INT64;
            case "bool":
                return DataType.BOOL;
            case "string":
                return DataType.BYTES;
            case "float16":
                return DataType.FP16;
            case "bfloat16":
                return DataType.BF16;
            case "uint16":
                return DataType.INT32;
            case "uint32":
            case "uint64":
                return DataType.INT64;
            default:
                return null;
        }
    }

    /** Whether ONNX Runtime's Java API can create an input tensor of {@code info}'s element type. */
    public static boolean isFeedable(TensorInfo info) {
        DataType t = dataType(info);
        return t != null && elementName(info).equals(onnxName(t));
    }

    /** The data type of the Java values ONNX Runtime returns for {@code type} (maps and sequences). */
    public static @Nullable DataType dataType(OnnxJavaType type) {
        switch (type.name()) {
            case "FLOAT":
                return DataType.FP32;
            case "DOUBLE":
                return DataType.FP64;
            case "INT8":
                return DataType.INT8;
            case "UINT8":
                return DataType.UINT8;
            case "INT16":
                return DataType.INT16;
            case "INT32":
                return DataType.INT32;
            case "INT64":
                return DataType.INT64;
            case "BOOL":
                return DataType.BOOL;
            case "STRING":
                return DataType.BYTES;
            case "FLOAT16":
                return DataType.FP16;
            case "BFLOAT16":
                return DataType.BF16;
            default:
                return null;
        }
    }

    /** How ONNX writes {@code info}'s type: {@code float[-1, 4]}, {@code map<int64,float>}, {@code sequence<tensor<float>>}. */
    public static String describe(ValueInfo info) {
        if (info instanceof TensorInfo) {
            return elementName((TensorInfo) info);
        } else if (info instanceof MapInfo) {
            MapInfo m = (MapInfo) info;
            return "map<" + javaTypeName(m.keyType) + "," + javaTypeName(m.valueType) + ">";
        } else if (info instanceof SequenceInfo) {
            SequenceInfo s = (SequenceInfo) info;
            if (s.isSequenceOfMaps()) {
                return "sequence<map<" + javaTypeName(s.mapInfo.keyType) + "," + javaTypeName(s.mapInfo.valueType) + ">>";
            }
            return "sequence<tensor<" + javaTypeName(s.sequenceType) + ">>";
        }
        return String.valueOf(info);
    }

    /** The ONNX name of a Java-side element type ({@code FLOAT} is {@code float}, {@code INT64} is {@code int64}). */
    static String javaTypeName(OnnxJavaType type) {
        DataType t = dataType(type);
        return t == null ? type.name().toLowerCase(Locale.ROOT) : onnxName(t);
    }

    /** The ONNX element type name of {@code type}. */
    public static String onnxName(DataType type) {
        switch (type) {
            case FP32:
                return "float";
            case FP64:
                return "double";
            case FP16:
                return "float16";
            case BF16:
                return "bfloat16";
            case BYTES:
                return "string";
            default:
                return type.name().toLowerCase(Locale.ROOT);
        }
    }

    /** ONNX Runtime's Java type for {@code type}. */
    public static OnnxJavaType javaType(DataType type) {
        switch (type) {
            case BOOL:
                return OnnxJavaType.BOOL;
            case UINT8:
                return OnnxJavaType.UINT8;
            case INT8:
                return OnnxJavaType.INT8;
            case INT16:
                return OnnxJavaType.INT16;
            case INT32:
                return OnnxJavaType.INT32;
            case INT64:
                return OnnxJavaType.INT64;
            case FP16:
                return OnnxJavaType.FLOAT16;
            case BF16:
                return OnnxJavaType.BFLOAT16;
            case FP32:
                return OnnxJavaType.FLOAT;
            case FP64:
                return OnnxJavaType.DOUBLE;
            case BYTES:
                return OnnxJavaType.STRING;
            default:
                throw new AssertionError(type);
        }
    }

    /**
     * A direct, native-order buffer of {@code count} elements of {@code type}, of the buffer class
     * {@link Tensor} documents for it.
     */
    public static Buffer allocateDirect(DataType type, int count) {
        return typedView(ByteBuffer.allocateDirect(count * type.byteSize()).order(ByteOrder.nativeOrder()), type);
    }

    /** The typed view of {@code bytes} (its remaining bytes, in its byte order) that holds elements of {@code type}. */
    public static Buffer typedView(ByteBuffer bytes, DataType type) {
        switch (type) {
            case BOOL:
            case UINT8:
            case INT8:
                return bytes;
            case INT16:
            case FP16:
            case BF16:
                return bytes.asShortBuffer();
            case INT32:
                return bytes.asIntBuffer();
            case INT64:
                return bytes.asLongBuffer();
            case FP32:
                return bytes.asFloatBuffer();
            case FP64:
                return bytes.asDoubleBuffer();
            default:
                throw new IllegalArgumentException(type + " has no fixed-width buffer");
        }
    }

    /**
     * A tensor over {@code buffer} (the whole remaining range), which ONNX Runtime wraps without a
     * copy when the buffer is direct and in native order and copies otherwise.
     */
    public static OnnxTensor createTensor(OrtEnvironment env, DataType type, Buffer buffer, long[] shape)
            throws OrtException {
        switch (type) {
            case BOOL:
            case UINT8:
            case INT8:
                return OnnxTensor.createTensor(env, (ByteBuffer) buffer, shape, javaType(type));
            case INT16:
            case FP16:
            case BF16:
                return OnnxTensor.createTensor(env, (ShortBuffer) buffer, shape, javaType(type));
            case INT32:
                return OnnxTensor.createTensor(env, (IntBuffer) buffer, shape);
            case INT64:
                return OnnxTensor.createTensor(env, (LongBuffer) buffer, shape);
            case FP32:
                return OnnxTensor.createTensor(env, (FloatBuffer) buffer, shape);
            case FP64:
                return OnnxTensor.createTensor(env, (DoubleBuffer) buffer, shape);
            default:
                throw new IllegalArgumentException(type + " tensors hold strings");
        }
    }

    /**
     * An ONNX Runtime tensor holding {@code tensor}'s values: a zero-copy wrap of its buffer when that
     * buffer is direct and in native byte order, otherwise a copy. The caller closes it.
     */
    public static OnnxTensor toOnnx(OrtEnvironment env, Tensor tensor) throws OrtException {
        long[] shape = tensor.shape();
        if (tensor.type() == DataType.BYTES) {
            return OnnxTensor.createTensor(env, tensor.toStringArray(), shape);
        }
        Buffer data = tensor.buffer();
        if (data.isDirect() && !isNativeOrder(data)) {
            // ONNX Runtime would read a direct buffer as native order without checking: reorder it.
            Buffer copy = allocateDirect(tensor.type(), tensor.size());
            tensor.copyTo(copy, 0);
            data = copy;
        }
        return createTensor(env, tensor.type(), data, shape);
    }

    /** Whether a typed buffer's elements are in the platform's byte order (always true for bytes). */
    static boolean isNativeOrder(Buffer b) {
        ByteOrder order;
        if (b instanceof FloatBuffer) {
            order = ((FloatBuffer) b).order();
        } else if (b instanceof DoubleBuffer) {
            order = ((DoubleBuffer) b).order();
        } else if (b instanceof LongBuffer) {
            order = ((LongBuffer) b).order();
        } else if (b instanceof IntBuffer) {
            order = ((IntBuffer) b).order();
        } else if (b instanceof ShortBuffer) {
            order = ((ShortBuffer) b).order();
        } else {
            return true;
        }
        return order == ByteOrder.nativeOrder();
    }
}
