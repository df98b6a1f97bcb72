package dev.nearline.core.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nearline.api.DataType;
import dev.nearline.api.Postprocessor;
import dev.nearline.api.Preprocessor;
import dev.nearline.api.ScoringException;
import dev.nearline.api.RowPreprocessor;
import dev.nearline.api.RowWriter;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.api.Ticker;
import dev.nearline.api.spi.PostprocessorProvider;
import dev.nearline.api.spi.PreprocessorProvider;
import dev.nearline.api.spi.Settings;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Built-in {@code tensors} preprocessor and postprocessor: records and results as tensors in the
 * KServe v2 JSON layout, so any model can be scored from a pipeline file without code. A record is
 * {@code {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4], "data": [...]}]}} (data
 * flattened in row-major order; FP16 and BF16 given as numbers); a result is
 * {@code {"outputs": [{"name", "datatype", "shape", "data"}]}}. The preprocessor bounds the work per
 * record by {@code maxRecordBytes} (default 16 MiB of JSON) and {@code maxDepth} (default 64), for JSON
 * text, maps and trees alike, and by the record's deadline.
 */
public final class TensorsJson {
    /** Default {@code maxRecordBytes} of the preprocessor: 16 MiB, room for a few images as JSON numbers. */
    static final int DEFAULT_MAX_RECORD_BYTES = 16 << 20;
    /** Longest tensor name a record may use. */
    static final int MAX_NAME_LENGTH = 256;
    private static final Reader DEFAULT = new Reader(new RecordLimits("tensors", DEFAULT_MAX_RECORD_BYTES,
            RecordLimits.DEFAULT_DEPTH), false);

    private TensorsJson() {
    }

    /** Parses a record into tensors under the default limits. */
    static Tensors parse(Object record) {
        return DEFAULT.preprocess(record);
    }

    /** The {@code tensors} preprocessor. Thread-safe and immutable. */
    static final class Reader implements BoundedPreprocessor<Object>, RowPreprocessor<Object>, EchoesValues<Object> {
        private final RecordLimits limits;
        private final boolean quoteValues;

        Reader(RecordLimits limits, boolean quoteValues) {
            this.limits = limits;
            this.quoteValues = quoteValues;
        }

        /** The same reader, its INVALID_INPUT messages quoting record values (clipped). */
        @Override
        public Reader quotingValues() {
            return quoteValues ? this : new Reader(limits, true);
        }

        @Override
        public Tensors preprocess(Object record) {
            return preprocess(record, Ticker.system(), NO_DEADLINE);
        }

        @Override
        public Tensors preprocess(Object record, Ticker ticker, long deadline) {
            RecordLimits.Budget budget = limits.budget(ticker, deadline);
            JsonNode root;
            if (record instanceof JsonNode) {
                root = (JsonNode) record;
                limits.checkRecord(root, budget);
            } else if (record instanceof CharSequence) {
                root = limits.parseObject((CharSequence) record, budget, quoteValues);
            } else if (record instanceof Map) {
                root = limits.toTree(record, budget);
            } else {
                throw ScoringException.invalidInput("record must be a JSON object, a Map or JSON text, got "
                        + record.getClass().getName());
            }
            return TensorsJson.read(root, budget, quoteValues);
        }

        /** Records name their own tensors: the engine checks each against the model's inputs as it is written. */
        @Override
        public @Nullable List<TensorSpec> rowLayout() {
            return null;
        }

        @Override
        public void preprocessRow(Object record, RowWriter row) {
            Tensors t = preprocess(record);
            for (int i = 0; i < t.size(); i++) {
                row.set(t.name(i), t.get(i));
            }
        }

        @Override
        public String toString() {
            return "tensors[maxRecordBytes=" + limits.maxBytes() + ", maxDepth=" + limits.maxDepth() + "]";
        }
    }

    private static Tensors read(JsonNode root, RecordLimits.Budget budget, boolean quoteValues) {
        JsonNode inputs = root.get("inputs");
        if (inputs == null || !inputs.isArray()) {
            throw ScoringException.invalidInput("record needs an 'inputs' array of tensors");
        }
        Tensors.Builder b = Tensors.builder();
        java.util.Set<String> names = new java.util.HashSet<>();
        for (int i = 0; i < inputs.size(); i++) {
            JsonNode t = inputs.get(i);
            String where = "inputs[" + i + "]";
            String name = text(t, "name", where);
            if (name.length() > MAX_NAME_LENGTH) {
                // Names travel into messages and logs; a huge one is an attack, not a tensor.
                throw ScoringException.invalidInput(where + " has a name of " + name.length() + " characters; tensor names"
                        + " have at most " + MAX_NAME_LENGTH);
            }
            where = "input '" + Records.clip(name) + "'";
            if (!names.add(name)) {
                // As Tensors.Builder says it (the engine reports it as INVALID_INPUT), with the name clipped.
                throw new IllegalArgumentException("duplicate tensor name '" + Records.clip(name) + "'");
            }
            String typeName = text(t, "datatype", where);
            DataType type = dataType(typeName);
            if (type == null) {
                throw ScoringException.invalidInput(where + " has unknown datatype '" + Records.clip(typeName)
                        + "', expected one of " + java.util.Arrays.toString(DataType.values()));
            }
            JsonNode shapeNode = t.get("shape");
            JsonNode data = t.get("data");
            if (shapeNode == null || !shapeNode.isArray() || data == null || !data.isArray()) {
                throw ScoringException.invalidInput(where + " needs a 'shape' array and a 'data' array");
            }
            long[] shape = new long[shapeNode.size()];
            for (int d = 0; d < shape.length; d++) {
                JsonNode dim = shapeNode.get(d);
                if (!dim.isIntegralNumber() || !dim.canConvertToLong() || dim.longValue() < 0) {
                    throw ScoringException.invalidInput(where + " has an invalid dimension " + (dim.isNumber()
                            || (quoteValues && !dim.isContainerNode()) ? Records.clip(dim.toString())
                            : JsonSettings.typeOf(dim)) + " at shape["
                            + d + "]; expected a non-negative integer");
                }
                shape[d] = dim.longValue();
            }
            budget.work(shape.length);
            int n;
            try {
                n = Tensor.elementCount(shape);
            } catch (IllegalArgumentException e) {
                throw ScoringException.invalidInput(where + ": " + e.getMessage());
            }
            if (data.size() != n) {
                throw ScoringException.invalidInput(where + " of shape " + java.util.Arrays.toString(shape) + " needs "
                        + n + " values, got " + data.size());
            }
            b.add(name, tensor(where, type, data, shape, budget, quoteValues));
        }
        return b.build();
    }

    private static @Nullable DataType dataType(String name) {
        for (DataType t : DataType.values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }

    private static Tensor tensor(String where, DataType type, JsonNode data, long[] shape, RecordLimits.Budget budget,
                                 boolean quoteValues) {
        int n = data.size();
        switch (type) {
            case BYTES: {
                String[] s = new String[n];
                for (int i = 0; i < n; i++) {
                    budget.work(1);
                    s[i] = bytesElement(data.get(i));
                }
                return Tensor.ofStrings(s, shape);
            }
            case BOOL: {
                boolean[] v = new boolean[n];
                for (int i = 0; i < n; i++) {
                    budget.work(1);
                    if (!data.get(i).isBoolean()) {
                        throw ScoringException.invalidInput(where + " element " + i + " expects true or false, got "
                                + Records.kind(data.get(i), quoteValues));
                    }
                    v[i] = data.get(i).booleanValue();
                }
                return Tensor.ofBooleans(v, shape);
            }
            default:
                break;
        }
        for (int i = 0; i < n; i++) {
            budget.work(1);
            if (!data.get(i).isNumber()) {
                throw ScoringException.invalidInput(where + " element " + i + " expects a number, got "
                        + Records.kind(data.get(i), quoteValues));
            }
        }
        if (!type.isFloatingPoint()) {
            // Read integers as longs, not through a double, which would round INT64 values beyond 2^53.
            long[] l = new long[n];
            for (int i = 0; i < n; i++) {
                JsonNode e = data.get(i);
                double d = e.doubleValue();
                if (e.isIntegralNumber() && e.canConvertToLong()) {
                    l[i] = e.longValue();
                } else if (!e.isIntegralNumber() && d == Math.rint(d) && Math.abs(d) < 0x1p63) {
                    l[i] = (long) d;
                } else {
                    throw ScoringException.invalidInput(where + " element " + i + " expects an integer within INT64, got "
                            + Records.kind(e, quoteValues));
                }
            }
            return narrow(where, type, l, shape, quoteValues);
        }
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = data.get(i).doubleValue();
        }
        switch (type) {
            case FP64:
                return Tensor.ofDoubles(v, shape);
            case FP32: {
                float[] f = new float[n];
                for (int i = 0; i < n; i++) {
                    f[i] = (float) v[i];
                }
                return Tensor.ofFloats(f, shape);
            }
            case FP16:
            case BF16: {
                short[] s = new short[n];
                for (int i = 0; i < n; i++) {
                    s[i] = type == DataType.FP16 ? Tensor.floatToHalf((float) v[i]) : Tensor.floatToBfloat16((float) v[i]);
                }
                return type == DataType.FP16 ? Tensor.ofFloat16(s, shape) : Tensor.ofBFloat16(s, shape);
            }
            default:
                throw new AssertionError(type);
        }
    }

    private static Tensor narrow(String where, DataType type, long[] l, long[] shape, boolean quoteValues) {
        long min;
        long max;
        switch (type) {
            case UINT8: min = 0; max = 255; break;
            case INT8: min = Byte.MIN_VALUE; max = Byte.MAX_VALUE; break;
            case INT16: min = Short.MIN_VALUE; max = Short.MAX_VALUE; break;
            case INT32: min = Integer.MIN_VALUE; max = Integer.MAX_VALUE; break;
            default: return Tensor.ofLongs(l, shape);
        }
        for (int i = 0; i < l.length; i++) {
            if (l[i] < min || l[i] > max) {
                throw ScoringException.invalidInput(where + " element " + i + (quoteValues ? " = " + l[i] : "")
                        + " is outside " + type + " [" + min + ", " + max + "]");
            }
        }
        switch (type) {
            case UINT8:
            case INT8: {
                byte[] b = new byte[l.length];
                for (int i = 0; i < l.length; i++) {
                    b[i] = (byte) l[i];
                }
                return type == DataType.UINT8 ? Tensor.ofUint8(b, shape) : Tensor.ofInt8(b, shape);
            }
            case INT16: {
                short[] s = new short[l.length];
                for (int i = 0; i < l.length; i++) {
                    s[i] = (short) l[i];
                }
                return Tensor.ofShorts(s, shape);
            }
            default: {
                int[] v = new int[l.length];
                for (int i = 0; i < l.length; i++) {
                    v[i] = (int) l[i];
                }
                return Tensor.ofInts(v, shape);
            }
        }
    }

    /** Writes tensors as {@code {"outputs": [...]}}. */
    static Map<String, Object> write(Tensors outputs) {
        List<Object> list = new ArrayList<>(outputs.size());
        for (int i = 0; i < outputs.size(); i++) {
            Tensor t = outputs.get(i);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", outputs.name(i));
            m.put("datatype", t.type().name());
            m.put("shape", t.shape());
            Object data;
            switch (t.type()) {
                case BYTES: data = t.toStringArray(); break;
                case BOOL: data = t.toBooleanArray(); break;
                case FP16: case BF16: case FP32: data = t.toFloatArray(); break;
                case FP64: data = t.toDoubleArray(); break;
                default: data = t.toLongArray(); break;
            }
            m.put("data", data);
            list.add(m);
        }
        return Map.of("outputs", list);
    }

    /** A BYTES element: a string as it is, anything else as its JSON text (bounded by the record's limits). */
    private static String bytesElement(JsonNode e) {
        return e.isTextual() ? e.textValue() : e.toString();
    }

    private static String text(JsonNode n, String key, String where) {
        JsonNode v = n.get(key);
        if (v == null || !v.isTextual()) {
            throw ScoringException.invalidInput(where + " needs a string '" + key + "'");
        }
        return v.textValue();
    }

    /** Registers the {@code tensors} preprocessor. */
    public static final class PreProvider implements PreprocessorProvider {
        /** For ServiceLoader. */
        public PreProvider() {
        }

        @Override
        public String type() {
            return "tensors";
        }

        @Override
        public Preprocessor<Object> create(Settings settings) {
            return new Reader(RecordLimits.fromSettings(settings, "tensors", DEFAULT_MAX_RECORD_BYTES), false);
        }
    }

    /** Registers the {@code tensors} postprocessor. */
    public static final class PostProvider implements PostprocessorProvider {
        /** For ServiceLoader. */
        public PostProvider() {
        }

        @Override
        public String type() {
            return "tensors";
        }

        @Override
        public Postprocessor<Object> create(Settings settings) {
            return TensorsJson::write;
        }
    }
}
