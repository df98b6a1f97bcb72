package dev.nearline.core.internal;

import static dev.nearline.core.internal.JsonFixtures.invalidInput;
import static dev.nearline.core.internal.JsonFixtures.node;
import static dev.nearline.core.internal.JsonFixtures.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nearline.api.DataType;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FeaturesPreprocessorTest {

    private static FeaturesPreprocessor create(String json) {
        JsonSettings s = settings("$.preprocessor", json);
        FeaturesPreprocessor p = (FeaturesPreprocessor) new FeaturesPreprocessor.Provider().create(s);
        s.markRead("type");
        s.checkAllRead();
        return p;
    }

    private static FeaturesPreprocessor numeric(String extra) {
        return create("{\"type\": \"json-features\"" + extra
                + ", \"fields\": [{\"name\": \"amount\"}, {\"name\": \"age\", \"default\": 30}]}");
    }

    private static Tensor row(FeaturesPreprocessor p, Object record) {
        Tensors t = p.preprocess(record);
        assertThat(t.names()).hasSize(1);
        return t.get(0);
    }

    @Test
    void preprocess_mapJsonNodeAndText_giveTheSameFp32Row() {
        FeaturesPreprocessor p = numeric("");

        Tensors fromMap = p.preprocess(Map.of("amount", 12.5, "age", 40));
        Tensors fromNode = p.preprocess(node("{\"amount\": 12.5, \"age\": 40, \"ignored\": \"x\"}"));
        Tensors fromText = p.preprocess("{\"age\": 40, \"amount\": 12.5}");

        assertThat(fromMap.names()).containsExactly("input");
        assertThat(fromMap.get(0).type()).isEqualTo(DataType.FP32);
        assertThat(fromMap.get(0).shape()).containsExactly(1, 2);
        assertThat(fromMap.get(0).toFloatArray()).containsExactly(12.5f, 40f);
        assertThat(fromNode).isEqualTo(fromMap);
        assertThat(fromText).isEqualTo(fromMap);
        assertThat(p.width()).isEqualTo(2);
    }

    @Test
    void preprocess_missingOrNullFieldWithDefault_usesDefault() {
        FeaturesPreprocessor p = numeric("");
        Map<String, Object> withNull = new HashMap<>();
        withNull.put("amount", 1);
        withNull.put("age", null);

        assertThat(row(p, Map.of("amount", 1)).toFloatArray()).containsExactly(1f, 30f);
        assertThat(row(p, withNull).toFloatArray()).containsExactly(1f, 30f);
        assertThat(row(p, "{\"amount\": 1, \"age\": null}").toFloatArray()).containsExactly(1f, 30f);
    }

    @Test
    void preprocess_missingRequiredField_failsNamingIt() {
        FeaturesPreprocessor p = numeric("");

        assertThat(invalidInput(() -> p.preprocess(Map.of("age", 3))).getMessage())
                .isEqualTo("field 'amount' is missing and has no default");
        assertThat(invalidInput(() -> p.preprocess("{\"amount\": null}")).getMessage()).contains("'amount'", "missing");
    }

    @Test
    void preprocess_nonNumericString_failsNamingFieldAndTypeNotValue() {
        FeaturesPreprocessor p = numeric("");

        assertThat(invalidInput(() -> p.preprocess(Map.of("amount", "twelve"))).getMessage())
                .isEqualTo("field 'amount' expects a number, got a string of 6 characters");
        assertThat(invalidInput(() -> p.preprocess("{\"amount\": \"twelve\"}")).getMessage())
                .isEqualTo("field 'amount' expects a number, got a string of 6 characters");
        assertThat(invalidInput(() -> p.preprocess("{\"amount\": [1]}")).getMessage()).contains("'amount'", "array");
        assertThat(invalidInput(() -> p.preprocess(Map.of("amount", new Object()))).getMessage()).contains("'amount'");
    }

    @Test
    void preprocess_quotingValues_messagesQuoteTheValue() {
        FeaturesPreprocessor p = numeric("").quotingValues();

        assertThat(invalidInput(() -> p.preprocess(Map.of("amount", "twelve"))).getMessage())
                .isEqualTo("field 'amount' expects a number, got string \"twelve\"");
        assertThat(invalidInput(() -> p.preprocess("{\"amount\": \"twelve\"}")).getMessage())
                .contains("'amount'", "\"twelve\"");
        assertThat(invalidInput(() -> p.preprocess("{\"amount\": twelve}")).getMessage()).contains("'twelve'");
        assertThat(p.quotingValues()).isSameAs(p);
    }

    @Test
    void preprocess_malformedRecordText_tokenNotQuotedByDefault() {
        FeaturesPreprocessor p = numeric("");

        String message = invalidInput(() -> p.preprocess("{\"amount\": twelveEuros}")).getMessage();

        assertThat(message).startsWith("record is not valid JSON at line 1, column ").contains("Unrecognized token")
                .doesNotContain("twelve");
    }

    @Test
    void preprocess_longValue_clippedInMessage() {
        FeaturesPreprocessor p = numeric("").quotingValues();
        String longText = "x".repeat(500);

        assertThat(invalidInput(() -> p.preprocess(Map.of("amount", longText))).getMessage()).hasSizeLessThan(120)
                .contains("x".repeat(40) + "...");
    }

    @Test
    void preprocess_numericStringsAndBooleans_accepted() {
        FeaturesPreprocessor p = numeric("");

        assertThat(row(p, Map.of("amount", " 12.5 ", "age", "1e2")).toFloatArray()).containsExactly(12.5f, 100f);
        assertThat(row(p, "{\"amount\": \"-3\", \"age\": true}").toFloatArray()).containsExactly(-3f, 1f);
        assertThat(row(p, Map.of("amount", false, "age", 7L)).toFloatArray()).containsExactly(0f, 7f);
    }

    @Test
    void preprocess_nanOrInfinity_rejectedUnlessAllowNaN() {
        FeaturesPreprocessor strict = numeric("");
        FeaturesPreprocessor lenient = numeric(", \"allowNaN\": true");

        assertThat(invalidInput(() -> strict.preprocess(Map.of("amount", Double.NaN))).getMessage())
                .contains("'amount'", "NaN", "allowNaN");
        assertThat(invalidInput(() -> strict.preprocess(Map.of("amount", "NaN"))).getMessage()).contains("'amount'");
        assertThat(invalidInput(() -> strict.preprocess(Map.of("amount", "-Infinity"))).getMessage()).contains("'amount'");
        assertThat(row(lenient, Map.of("amount", "NaN")).floatAt(0)).isNaN();
    }

    @Test
    void preprocess_valueBeyondFp32Range_rejectedUnlessAllowNaN() {
        FeaturesPreprocessor strict = numeric("");

        assertThat(invalidInput(() -> strict.preprocess(Map.of("amount", 1e39))).getMessage()).contains("'amount'");
        assertThat(row(numeric(", \"dtype\": \"FP64\""), Map.of("amount", 1e39)).doubleAt(0)).isEqualTo(1e39);
    }

    @Test
    void preprocess_fp64_keepsDoublePrecision() {
        FeaturesPreprocessor p = numeric(", \"dtype\": \"fp64\", \"output\": \"features\"");

        Tensors t = p.preprocess(Map.of("amount", 0.1, "age", 1));

        assertThat(t.names()).containsExactly("features");
        assertThat(t.get(0).type()).isEqualTo(DataType.FP64);
        assertThat(t.get(0).toDoubleArray()).containsExactly(0.1, 1.0);
        assertThat(p.toString()).isEqualTo("json-features[features FP64 [1, 2]]");
    }

    @Test
    void preprocess_categoricalOneHot_setsOneColumn() {
        FeaturesPreprocessor p = create("{\"fields\": [{\"name\": \"x\"},"
                + " {\"name\": \"country\", \"categories\": [\"NL\", \"DE\", \"FR\"]}, {\"name\": \"y\"}]}");

        assertThat(p.width()).isEqualTo(5);
        assertThat(row(p, Map.of("x", 1, "country", "DE", "y", 2)).toFloatArray()).containsExactly(1, 0, 1, 0, 2);
        assertThat(row(p, "{\"x\": 1, \"country\": \"FR\", \"y\": 2}").toFloatArray()).containsExactly(1, 0, 0, 1, 2);
        // unknown and missing values are ignored by default: all zeros
        assertThat(row(p, Map.of("x", 1, "country", "BE", "y", 2)).toFloatArray()).containsExactly(1, 0, 0, 0, 2);
        assertThat(row(p, Map.of("x", 1, "y", 2)).toFloatArray()).containsExactly(1, 0, 0, 0, 2);
    }

    @Test
    void preprocess_categoricalIndex_writesIndexOrDefault() {
        FeaturesPreprocessor p = create("{\"fields\": [{\"name\": \"c\", \"categories\": [\"a\", \"b\"], "
                + "\"encoding\": \"index\"}, {\"name\": \"d\", \"categories\": [\"1\", \"2\"], \"encoding\": \"INDEX\", "
                + "\"default\": 9}]}");

        assertThat(p.width()).isEqualTo(2);
        assertThat(row(p, Map.of("c", "b", "d", 2)).toFloatArray()).containsExactly(1, 1);
        assertThat(row(p, "{\"c\": \"a\", \"d\": 1}").toFloatArray()).containsExactly(0, 0);
        assertThat(row(p, Map.of("c", "z", "d", "z")).toFloatArray()).containsExactly(-1, 9);
    }

    @Test
    void preprocess_categoricalUnknownIsError_failsNamingFieldAndCategoriesNotValue() {
        FeaturesPreprocessor p = create("{\"fields\": [{\"name\": \"country\", \"categories\": [\"NL\"],"
                + " \"unknown\": \"error\"}]}");

        assertThat(invalidInput(() -> p.preprocess(Map.of("country", "BE"))).getMessage())
                .isEqualTo("categorical field 'country' has an unknown value (a string of 2 characters); expected one of [NL]");
        assertThat(invalidInput(() -> p.quotingValues().preprocess(Map.of("country", "BE"))).getMessage())
                .isEqualTo("categorical field 'country' has unknown value \"BE\"; expected one of [NL]");
        assertThat(invalidInput(() -> p.preprocess(Map.of())).getMessage()).contains("'country'", "missing");
        assertThat(row(p, Map.of("country", "NL")).toFloatArray()).containsExactly(1f);
    }

    @Test
    void preprocess_notAnObject_failsWithInvalidInput() {
        FeaturesPreprocessor p = numeric("");

        assertThat(invalidInput(() -> p.preprocess("[1, 2]")).getMessage()).contains("JSON object");
        assertThat(invalidInput(() -> p.preprocess("{\"amount\":")).getMessage()).contains("not valid JSON");
        assertThat(invalidInput(() -> p.preprocess(node("42"))).getMessage()).contains("JSON object");
        assertThat(invalidInput(() -> p.preprocess(3.5)).getMessage()).contains("java.lang.Double");
    }

    @Test
    void create_duplicateFieldName_failsWithPath() {
        assertThatThrownBy(() -> create("{\"fields\": [{\"name\": \"a\"}, {\"name\": \"a\"}]}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("$.preprocessor.fields[1].name: duplicate field 'a'");
    }

    @Test
    void create_duplicateCategory_failsWithPath() {
        assertThatThrownBy(() -> create("{\"fields\": [{\"name\": \"a\", \"categories\": [\"x\", \"x\"]}]}"))
                .hasMessageContaining("$.preprocessor.fields[0].categories: duplicate category \"x\"");
    }

    @Test
    void create_noFields_fails() {
        assertThatThrownBy(() -> create("{\"fields\": []}")).hasMessageContaining("$.preprocessor.fields: needs at least one field");
        assertThatThrownBy(() -> create("{}")).hasMessageContaining("$.preprocessor.fields: required key is missing");
    }

    @Test
    void create_badChoice_failsListingAllowedValues() {
        assertThatThrownBy(() -> numeric(", \"dtype\": \"FP16\""))
                .hasMessageContaining("$.preprocessor.dtype: expected one of [FP32, FP64], got \"FP16\"");
        assertThatThrownBy(() -> create("{\"fields\": [{\"name\": \"a\", \"encoding\": \"hash\"}]}"))
                .hasMessageContaining("$.preprocessor.fields[0].encoding");
    }

    @Test
    void create_misspeltFieldKey_reportedAsUnknown() {
        assertThatThrownBy(() -> create("{\"fields\": [{\"name\": \"a\", \"defualt\": 1}]}"))
                .hasMessageContaining("$.preprocessor.fields[0].defualt: unknown key");
    }
}
