package dev.nearline.onnx.internal;

import ai.onnxruntime.MapInfo;
import ai.onnxruntime.OnnxMap;
import ai.onnxruntime.OnnxSequence;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtUtil;
import ai.onnxruntime.TensorInfo;
import dev.nearline.api.DataType;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import java.nio.ByteBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Copies ONNX Runtime outputs into heap-backed {@link Tensor}s. Tensors map one to one; a
 * {@code sequence<map<K,V>>} (ZipMap) becomes a {@code [rows, keys]} tensor of the values in
 * sorted key order plus a {@code <name>.keys} tensor; a {@code map<K,V>} becomes a values tensor and
 * {@code <name>.keys}; a {@code sequence<tensor>} becomes {@code <name>.0}, {@code <name>.1}, ...
 * Closes every native value it obtains from a sequence. Stateless.
 */
public final class OutputReader {
    /** Suffix of the tensor that holds the sorted keys of a map or ZipMap output. */
    public static final String KEYS_SUFFIX = ".keys";

    private OutputReader() {
    }

    /** Appends the tensors for output {@code name} with value {@code value} to {@code out}. */
    public static void read(String model, String name, OnnxValue value, TensorList out) throws OrtException {
        if (value instanceof OnnxTensor) {
            out.add(name, toTensor(model, name, (OnnxTensor) value));
        } else if (value instanceof OnnxSequence) {
            readSequence(model, name, (OnnxSequence) value, out);
        } else if (value instanceof OnnxMap) {
            readMap(model, name, (OnnxMap) value, out);
        } else {
            throw new ScoringException(ScoringException.Kind.INTERNAL, "model '" + model + "': output '" + name
                    + "' is a " + value.getType() + ", which Nearline cannot convert to a tensor");
        }
    }

    /** A heap copy of {@code t}. */
    public static Tensor toTensor(String model, String name, OnnxTensor t) throws OrtException {
        TensorInfo info = t.getInfo();
        long[] shape = info.getShape();
        String element = OrtTypes.elementName(info);
        DataType type = OrtTypes.dataType(info);
        if (type == null) {
            throw new ScoringException(ScoringException.Kind.INTERNAL, "model '" + model + "': output '" + name
                    + "' has element type " + element + ", which Nearline has no data type for");
        }
        if (info.getNumElements() == 0) {
            return Tensor.zeros(type, shape);
        }
        switch (element) {
            case "float":
                return Tensor.ofFloats(t.getFloatBuffer().array(), shape);
            case "double":
                return Tensor.ofDoubles(t.getDoubleBuffer().array(), shape);
            case "int8":
                return Tensor.ofInt8(t.getByteBuffer().array(), shape);
            case "uint8":
                return Tensor.ofUint8(t.getByteBuffer().array(), shape);
            case "bool":
                return Tensor.of(DataType.BOOL, t.getByteBuffer(), shape);
            case "int16":
                return Tensor.ofShorts(t.getShortBuffer().array(), shape);
            case "float16":
                return Tensor.ofFloat16(t.getShortBuffer().array(), shape);
            case "bfloat16":
                return Tensor.ofBFloat16(t.getShortBuffer().array(), shape);
            case "int32":
                return Tensor.ofInts(t.getIntBuffer().array(), shape);
            case "int64":
                return Tensor.ofLongs(t.getLongBuffer().array(), shape);
            case "string": {
                Object v = t.getValue();
                String[] strings = v instanceof String ? new String[] {(String) v} : OrtUtil.flattenString(v);
                return Tensor.ofStrings(strings, shape);
            }
            case "uint16": {
                ShortBuffer raw = t.getByteBuffer().asShortBuffer();
                int[] widened = new int[raw.remaining()];
                for (int i = 0; i < widened.length; i++) {
                    widened[i] = raw.get(i) & 0xFFFF;
                }
                return Tensor.ofInts(widened, shape);
            }
            case "uint32": {
                IntBuffer raw = t.getByteBuffer().asIntBuffer();
                long[] widened = new long[raw.remaining()];
                for (int i = 0; i < widened.length; i++) {
                    widened[i] = raw.get(i) & 0xFFFFFFFFL;
                }
                return Tensor.ofLongs(widened, shape);
            }
            case "uint64": {
                LongBuffer raw = t.getByteBuffer().asLongBuffer();
                long[] bits = new long[raw.remaining()];
                raw.get(bits);
                return Tensor.ofLongs(bits, shape);
            }
            default:
                throw new AssertionError(element);
        }
    }

    private static void readSequence(String model, String name, OnnxSequence seq, TensorList out) throws OrtException {
        List<? extends OnnxValue> items = seq.getValue();
        try {
            if (seq.getInfo().isSequenceOfMaps()) {
                readZipMap(model, name, seq.getInfo().mapInfo, items, out);
            } else {
                for (int i = 0; i < items.size(); i++) {
                    read(model, name + "." + i, items.get(i), out);
                }
            }
        } finally {
            for (OnnxValue v : items) {
                v.close();
            }
        }
    }

    private static void readZipMap(String model, String name, MapInfo info, List<? extends OnnxValue> maps,
            TensorList out) throws OrtException {
        int rows = maps.size();
        Object[] keys = null;
        Object[] values = null;
        for (int r = 0; r < rows; r++) {
            Map<? extends Object, ? extends Object> m = ((OnnxMap) maps.get(r)).getValue();
            if (keys == null) {
                keys = sortedKeys(m);
                values = new Object[rows * keys.length];
            } else if (m.size() != keys.length) {
                throw new ScoringException(ScoringException.Kind.INTERNAL, "model '" + model + "': output '" + name
                        + "' row " + r + " has " + m.size() + " keys, row 0 has " + keys.length);
            }
            for (int c = 0; c < keys.length; c++) {
                Object v = m.get(keys[c]);
                if (v == null) {
                    throw new ScoringException(ScoringException.Kind.INTERNAL, "model '" + model + "': output '"
                            + name + "' row " + r + " lacks key " + keys[c] + " found in row 0");
                }
                values[r * keys.length + c] = v;
            }
        }
        if (keys == null) {
            keys = new Object[0];
            values = new Object[0];
        }
        out.add(name, valuesTensor(info, values, rows, keys.length));
        out.add(name + KEYS_SUFFIX, keysTensor(info, keys));
    }

    private static void readMap(String model, String name, OnnxMap map, TensorList out) throws OrtException {
        Map<? extends Object, ? extends Object> m = map.getValue();
        Object[] keys = sortedKeys(m);
        Object[] values = new Object[keys.length];
        for (int i = 0; i < keys.length; i++) {
            values[i] = m.get(keys[i]);
        }
        out.add(name, valuesTensor(map.getInfo(), values, -1, keys.length));
        out.add(name + KEYS_SUFFIX, keysTensor(map.getInfo(), keys));
    }

    private static Object[] sortedKeys(Map<? extends Object, ? extends Object> m) {
        Object[] keys = m.keySet().toArray();
        // ONNX Runtime returns hash maps; class order is key order (int64 or string keys).
        Arrays.sort(keys);
        return keys;
    }

    /** Values as a tensor of shape {@code [rows, columns]}, or {@code [columns]} when rows is -1. */
    private static Tensor valuesTensor(MapInfo info, Object[] values, int rows, int columns) {
        long[] shape = rows < 0 ? new long[] {columns} : new long[] {rows, columns};
        DataType type = mapValueType(info);
        switch (type) {
            case FP32: {
                float[] f = new float[values.length];
                for (int i = 0; i < f.length; i++) {
                    f[i] = ((Number) values[i]).floatValue();
                }
                return Tensor.ofFloats(f, shape);
            }
            case FP64: {
                double[] d = new double[values.length];
                for (int i = 0; i < d.length; i++) {
                    d[i] = ((Number) values[i]).doubleValue();
                }
                return Tensor.ofDoubles(d, shape);
            }
            case INT64: {
                long[] l = new long[values.length];
                for (int i = 0; i < l.length; i++) {
                    l[i] = ((Number) values[i]).longValue();
                }
                return Tensor.ofLongs(l, shape);
            }
            default: {
                String[] s = new String[values.length];
                for (int i = 0; i < s.length; i++) {
                    s[i] = String.valueOf(values[i]);
                }
                return Tensor.ofStrings(s, shape);
            }
        }
    }

    private static Tensor keysTensor(MapInfo info, Object[] keys) {
        long[] shape = {keys.length};
        if (mapKeyType(info) == DataType.BYTES) {
            String[] s = new String[keys.length];
            for (int i = 0; i < s.length; i++) {
                s[i] = (String) keys[i];
            }
            return Tensor.ofStrings(s, shape);
        }
        long[] l = new long[keys.length];
        for (int i = 0; i < l.length; i++) {
            l[i] = ((Number) keys[i]).longValue();
        }
        return Tensor.ofLongs(l, shape);
    }

    /** The data type of a map's values as Nearline exposes them (FP32, FP64, INT64 or BYTES). */
    public static DataType mapValueType(MapInfo info) {
        @Nullable DataType t = OrtTypes.dataType(info.valueType);
        if (t == DataType.FP32 || t == DataType.FP64 || t == DataType.INT64) {
            return t;
        }
        return DataType.BYTES;
    }

    /** The data type of a map's keys as Nearline exposes them (INT64 or BYTES). */
    public static DataType mapKeyType(MapInfo info) {
        return OrtTypes.dataType(info.keyType) == DataType.BYTES ? DataType.BYTES : DataType.INT64;
    }
}
