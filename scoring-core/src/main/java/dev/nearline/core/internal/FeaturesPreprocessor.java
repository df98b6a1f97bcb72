package dev.nearline.core.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nearline.api.DataType;
import dev.nearline.api.Preprocessor;
import dev.nearline.api.ScoringException;
import dev.nearline.api.RowPreprocessor;
import dev.nearline.api.RowWriter;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.api.Ticker;
import dev.nearline.api.spi.PreprocessorProvider;
import dev.nearline.api.spi.Settings;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Built-in preprocessor {@code json-features}: reads named fields of a record (a JSON object, a
 * {@code Map<String, ?>} or JSON text) into one feature row {@code [1, width]} of FP32 or FP64.
 * Numeric fields take numbers, numeric strings or booleans, with an optional default for missing
 * values; categorical fields look their value up in a list of categories and one-hot encode it (or
 * write its index). The work per record is bounded: JSON text by {@code maxRecordBytes} (default 1 MiB)
 * and {@code maxDepth} (default 64), a map or tree record by the same limits applied to the values of
 * the configured fields, and by the record's deadline. Thread-safe and immutable.
 */
public final class FeaturesPreprocessor implements BoundedPreprocessor<Object>, RowPreprocessor<Object>,
        Bindings.DeclaresOutputs, EchoesValues<Object> {
    /** Default {@code maxRecordBytes}: 1 MiB of JSON text. */
    static final int DEFAULT_MAX_RECORD_BYTES = 1 << 20;
    /** Units of work one field counts for: the deadline is looked at every 64 fields. */
    private static final int FIELD_WORK = 16;

    /** One input field. */
    private static final class Field {
        final String name;
        final boolean hasDefault;
        final double defaultValue;
        final Map<String, Integer> categories;
        final boolean oneHot;
        final boolean unknownIsError;
        final int offset;
        final int width;

        Field(String name, boolean hasDefault, double defaultValue, Map<String, Integer> categories, boolean oneHot,
              boolean unknownIsError, int offset) {
            this.name = name;
            this.hasDefault = hasDefault;
            this.defaultValue = defaultValue;
            this.categories = categories;
            this.oneHot = oneHot;
            this.unknownIsError = unknownIsError;
            this.offset = offset;
            this.width = oneHot && !categories.isEmpty() ? categories.size() : 1;
        }
    }

    private final String output;
    private final boolean fp64;
    private final boolean allowNaN;
    private final Field[] fields;
    private final int width;
    private final long[] shape;
    private final RecordLimits limits;
    private final boolean quoteValues;

    private FeaturesPreprocessor(String output, boolean fp64, boolean allowNaN, List<Field> fields,
                                 RecordLimits limits, boolean quoteValues) {
        this.limits = limits;
        this.quoteValues = quoteValues;
        this.output = output;
        this.fp64 = fp64;
        this.allowNaN = allowNaN;
        this.fields = fields.toArray(new Field[0]);
        int w = 0;
        for (Field f : fields) {
            w += f.width;
        }
        this.width = w;
        this.shape = new long[] {1, w};
    }

    /** The one tensor every record becomes, named by {@code output}. */
    @Override
    public List<String> outputNames() {
        return List.of(output);
    }

    /** Creates the preprocessor from its settings; see the README for the keys. */
    static FeaturesPreprocessor create(Settings s) {
        String output = s.string("output", "input");
        boolean fp64 = s.choice("dtype", "FP32", "FP32", "FP64").equals("FP64");
        boolean allowNaN = s.bool("allowNaN", false);
        RecordLimits limits = RecordLimits.fromSettings(s, "json-features", DEFAULT_MAX_RECORD_BYTES);
        List<Field> fields = new ArrayList<>();
        int offset = 0;
        java.util.Set<String> names = new java.util.HashSet<>();
        for (Settings f : s.objects("fields")) {
            String name = f.string("name");
            if (!names.add(name)) {
                throw f.error("name", "duplicate field '" + name + "'");
            }
            boolean hasDefault = f.has("default");
            double def = hasDefault ? numberOrBoolean(f, "default") : f.number("default", 0);
            if (Double.isNaN(def) || Math.abs(def) > (fp64 ? Double.MAX_VALUE : Float.MAX_VALUE)) {
                throw f.error("default", "expected a finite number within the " + (fp64 ? "FP64" : "FP32")
                        + " range, got " + def);
            }
            Map<String, Integer> categories = new HashMap<>();
            List<String> cats = f.strings("categories", List.of());
            for (int i = 0; i < cats.size(); i++) {
                if (categories.putIfAbsent(cats.get(i), i) != null) {
                    throw f.error("categories", "duplicate category \"" + cats.get(i) + "\"");
                }
            }
            boolean oneHot = f.choice("encoding", "onehot", "onehot", "index").equals("onehot");
            boolean unknownIsError = f.choice("unknown", "ignore", "ignore", "error").equals("error");
            Field field = new Field(name, hasDefault, def, Map.copyOf(categories), oneHot, unknownIsError, offset);
            offset += field.width;
            fields.add(field);
        }
        if (fields.isEmpty()) {
            throw s.error("fields", "needs at least one field");
        }
        return new FeaturesPreprocessor(output, fp64, allowNaN, fields, limits, false);
    }

    /** The same preprocessor, its INVALID_INPUT messages quoting record values (clipped to 40 characters). */
    @Override
    public FeaturesPreprocessor quotingValues() {
        return quoteValues ? this : new FeaturesPreprocessor(output, fp64, allowNaN, List.of(fields), limits, true);
    }

    /** A number, or a boolean as 1 or 0 (booleans are features too: card present, foreign, ...). */
    private static double numberOrBoolean(Settings s, String key) {
        try {
            return s.number(key);
        } catch (IllegalArgumentException notNumber) {
            try {
                return s.bool(key, false) ? 1 : 0;
            } catch (IllegalArgumentException notBoolean) {
                throw s.error(key, "expected a number or a boolean, got " + JsonSettings.describe(s, key));
            }
        }
    }

    /** The number of feature columns. */
    public int width() {
        return width;
    }

    @Override
    public Tensors preprocess(Object record) {
        return preprocess(record, Ticker.system(), NO_DEADLINE);
    }

    @Override
    public Tensors preprocess(Object record, Ticker ticker, long deadline) {
        double[] row = features(record, ticker, deadline);
        Tensor t;
        if (fp64) {
            t = Tensor.ofDoubles(row, shape);
        } else {
            float[] floats = new float[width];
            for (int i = 0; i < width; i++) {
                floats[i] = (float) row[i];
            }
            t = Tensor.ofFloats(floats, shape);
        }
        return Tensors.of(output, t);
    }

    /** One row: every field read, checked and encoded, or INVALID_INPUT naming the field. */
    @Override
    public List<TensorSpec> rowLayout() {
        return List.of(TensorSpec.of(output, fp64 ? DataType.FP64 : DataType.FP32, 1, width));
    }

    @Override
    public void preprocessRow(Object record, RowWriter row) {
        double[] values = features(record, Ticker.system(), NO_DEADLINE);
        int input = row.input(output);
        if (input < 0) {
            return;
        }
        row.setDoubles(input, values);
    }

    private double[] features(Object record, Ticker ticker, long deadline) {
        RecordLimits.Budget budget = limits.budget(ticker, deadline);
        Object r = Records.normalize(record, limits, budget, quoteValues);
        double[] row = new double[width];
        for (Field f : fields) {
            budget.work(FIELD_WORK);
            Object v = Records.field(r, f.name);
            if (f.categories.isEmpty()) {
                double x;
                if (v == null) {
                    if (!f.hasDefault) {
                        throw ScoringException.invalidInput("field '" + f.name + "' is missing and has no default");
                    }
                    x = f.defaultValue;
                } else {
                    x = Records.number(f.name, v, quoteValues);
                }
                if (!allowNaN && (Double.isNaN(x) || Double.isInfinite(x))) {
                    throw ScoringException.invalidInput("field '" + f.name + "' is " + x
                            + "; this pipeline expects finite numbers (set allowNaN to accept NaN)");
                }
                if (!allowNaN && !fp64 && Math.abs(x) > Float.MAX_VALUE) {
                    // It would reach the model as an FP32 infinity.
                    throw ScoringException.invalidInput("field '" + f.name + "' is " + (quoteValues ? x + ", " : "")
                            + "beyond the FP32 range; this pipeline expects finite numbers");
                }
                row[f.offset] = x;
            } else {
                encodeCategory(f, v, row, budget);
            }
        }
        return row;
    }

    private void encodeCategory(Field f, @Nullable Object v, double[] row, RecordLimits.Budget budget) {
        Integer index = null;
        boolean container = RecordLimits.isContainer(v);
        if (container) {
            // Never a category, but walked within the limits, so that a deep or cyclic value fails cleanly.
            limits.checkField(f.name, v, budget);
        } else if (v != null) {
            if (v instanceof CharSequence) {
                budget.spend(((CharSequence) v).length(), "field '" + f.name + "'");
            } else if (v instanceof JsonNode && ((JsonNode) v).isTextual()) {
                budget.spend(((JsonNode) v).textValue().length(), "field '" + f.name + "'");
            }
            index = f.categories.get(Records.text(v));
        }
        if (index == null) {
            if (v == null && !f.hasDefault && f.unknownIsError) {
                throw ScoringException.invalidInput("categorical field '" + f.name + "' is missing");
            }
            if (v != null && f.unknownIsError) {
                throw ScoringException.invalidInput("categorical field '" + f.name + "' has "
                        + (container ? Records.describe(v) + " value" : quoteValues ? "unknown value \""
                        + Records.clip(Records.text(v)) + "\"" : "an unknown value (" + unknownKind(v) + ")")
                        + "; expected one of " + f.categories.keySet());
            }
            if (!f.oneHot) {
                row[f.offset] = f.hasDefault ? f.defaultValue : -1;
            }
            return;
        }
        if (f.oneHot) {
            row[f.offset + index] = 1;
        } else {
            row[f.offset] = index;
        }
    }

    /** What an unknown category value is, without its content. */
    private static String unknownKind(Object v) {
        if (v instanceof JsonNode) {
            return JsonSettings.typeOf((JsonNode) v);
        }
        if (v instanceof CharSequence) {
            return Records.kind((CharSequence) v, false);
        }
        if (v instanceof Number) {
            return "a number";
        }
        return v instanceof Boolean ? "a boolean" : Records.describe(v);
    }

    /** Registers {@code json-features}. */
    public static final class Provider implements PreprocessorProvider {
        /** For ServiceLoader. */
        public Provider() {
        }

        @Override
        public String type() {
            return "json-features";
        }

        @Override
        public Preprocessor<Object> create(Settings settings) {
            return FeaturesPreprocessor.create(settings);
        }
    }

    /** The output tensor's data type. */
    DataType dataType() {
        return fp64 ? DataType.FP64 : DataType.FP32;
    }

    @Override
    public String toString() {
        return "json-features[" + output + " " + dataType() + " [1, " + width + "]]";
    }
}
