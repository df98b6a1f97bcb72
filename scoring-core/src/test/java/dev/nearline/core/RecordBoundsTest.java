package dev.nearline.core;

import static dev.nearline.core.Fixtures.scoringFailure;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.nearline.api.Scorer;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Hostile records through the built-in preprocessors, end to end: content after the JSON value, numeric
 * strings that made a regex backtrack, values nested deep enough (or cyclic) to overflow the stack, and
 * records larger than the limits. Each must fail alone, as INVALID_INPUT, quickly, without echoing values.
 */
@ExtendWith(ModelLeakChecker.class)
class RecordBoundsTest {
    private static final PluginRegistry PLUGINS = PluginRegistry.discover();
    /** Generous: these records take milliseconds now, and took seconds to minutes (or overflowed) before. */
    private static final Duration QUICKLY = Duration.ofSeconds(5);

    private static final String FEATURES = """
            {
              "preprocessor": {"type": "json-features"%s, "fields": [
                {"name": "amount"},
                {"name": "age", "default": 30},
                {"name": "country", "categories": ["NL", "DE"]}
              ]},
              "steps": [{"name": "linear", "type": "fake-linear", "weights": [0.01, -0.02, 1, 2], "bias": 0.5}],
              "postprocessor": {"type": "score"}
            }
            """;

    private static final String TENSORS = """
            {
              "preprocessor": {"type": "tensors"%s},
              "steps": [{"name": "linear", "type": "fake-linear", "weights": [1, 1, 1]}],
              "postprocessor": {"type": "%s"}
            }
            """;

    private static Scorer<Object, Object> features() {
        return features("");
    }

    private static Scorer<Object, Object> features(String preprocessorSettings) {
        return Pipeline.fromJson(String.format(FEATURES, preprocessorSettings), Path.of("."), PLUGINS);
    }

    private static Scorer<Object, Object> tensors(String postprocessor) {
        return tensors("", postprocessor);
    }

    private static Scorer<Object, Object> tensors(String preprocessorSettings, String postprocessor) {
        return Pipeline.fromJson(String.format(TENSORS, preprocessorSettings, postprocessor), Path.of("."), PLUGINS);
    }

    /** A map nesting {@code levels} maps under key "a", built without recursion. */
    private static Map<String, Object> deepMap(int levels) {
        Map<String, Object> root = new HashMap<>();
        Map<String, Object> current = root;
        for (int i = 1; i < levels; i++) {
            Map<String, Object> next = new HashMap<>();
            current.put("a", next);
            current = next;
        }
        return root;
    }

    private static ScoringException invalid(Scorer<Object, Object> scorer, Object record) {
        ScoringException e = assertTimeoutPreemptively(QUICKLY, () -> scoringFailure(() -> scorer.score(record)));
        assertThat(e.kind()).as(e.toString()).isEqualTo(Kind.INVALID_INPUT);
        return e;
    }

    // ------------------------------------------------------------------ content after the value

    @Test
    void score_jsonTextWithASecondObject_failsNamingThePosition() {
        try (Scorer<Object, Object> scorer = features()) {
            String message = invalid(scorer, "{\"amount\": 5} {\"amount\": 6}").getMessage();

            assertThat(message).contains("content after", "line 1, column 15");
        }
    }

    @Test
    void score_jsonTextWithTrailingGarbage_failsNamingThePosition() {
        try (Scorer<Object, Object> scorer = features()) {
            assertThat(invalid(scorer, "{\"amount\": 5}\n  ]x").getMessage()).contains("content after", "line 2, column 3");
            assertThat(invalid(scorer, "{\"amount\": 5},").getMessage()).contains("content after");
            assertThat(scorer.score("  {\"amount\": 5}\n\t ")).isInstanceOf(Map.class);
        }
    }

    @Test
    void score_tensorsTextWithASecondObject_fails() {
        try (Scorer<Object, Object> scorer = tensors("score")) {
            String one = "{\"inputs\": [{\"name\": \"input\", \"datatype\": \"FP32\", \"shape\": [1, 3], \"data\": [1, 2, 3]}]}";

            assertThat(scorer.score(one)).isInstanceOf(Map.class);
            assertThat(invalid(scorer, one + one).getMessage()).contains("content after", "column " + (one.length() + 1));
        }
    }

    @Test
    void score_emptyOrBlankText_saysTheRecordIsEmpty() {
        try (Scorer<Object, Object> scorer = features()) {
            assertThat(invalid(scorer, "").getMessage()).contains("record is empty; expected a JSON object");
            assertThat(invalid(scorer, " \n ").getMessage()).contains("record is empty");
        }
    }

    // ------------------------------------------------------------------ numeric strings

    @Test
    void score_longNumericStringEndingInALetter_failsQuicklyWithoutEchoingIt() {
        // 100,000 digits: the backtracking regex needed about 90 s for this (2.4 s at 16,000 digits).
        String digits = "7".repeat(100_000) + "x";
        try (Scorer<Object, Object> scorer = features()) {
            ScoringException fromText = invalid(scorer, "{\"amount\": \"" + digits + "\"}");
            ScoringException fromMap = invalid(scorer, Map.of("amount", digits));

            assertThat(fromText.getMessage()).contains("'amount'", "expects a number").hasSizeLessThan(200);
            assertThat(fromMap.getMessage()).contains("'amount'", "expects a number").hasSizeLessThan(200);
        }
    }

    @Test
    void score_numericStringsNearTheLengthLimit_stillParse() {
        try (Scorer<Object, Object> scorer = features()) {
            String longButFine = "0".repeat(990) + "12.5";

            assertThat(scorer.score(Map.of("amount", longButFine))).isEqualTo(scorer.score(Map.of("amount", 12.5)));
            assertThat(invalid(scorer, Map.of("amount", "1" + "0".repeat(2000))).getMessage())
                    .contains("'amount'", "2001 characters");
        }
    }

    // ------------------------------------------------------------------ deep and cyclic values

    @Test
    void score_tenThousandLevelMapInCategoricalField_failsNamingFieldAndLimit() {
        try (Scorer<Object, Object> scorer = features()) {
            Map<String, Object> record = Map.of("amount", 1, "country", deepMap(10_000));

            String message = invalid(scorer, record).getMessage();

            assertThat(message).contains("field 'country'", "64", "maxDepth");
        }
    }

    @Test
    void score_mapsHoldingEachOther_failCleanly() {
        Map<String, Object> a = new HashMap<>();
        Map<String, Object> b = new HashMap<>();
        a.put("b", b);
        b.put("a", a);
        List<Object> selfList = new ArrayList<>();
        selfList.add(selfList);
        try (Scorer<Object, Object> scorer = features()) {
            assertThat(invalid(scorer, Map.of("amount", 1, "country", a)).getMessage()).contains("'country'", "maxDepth");
            assertThat(invalid(scorer, Map.of("amount", 1, "country", selfList)).getMessage()).contains("maxDepth");
            assertThat(invalid(scorer, Map.of("amount", a)).getMessage()).contains("'amount'", "expects a number");
        }
        try (Scorer<Object, Object> scorer = tensors("score")) {
            assertThat(invalid(scorer, Map.of("inputs", List.of(a))).getMessage()).contains("maxDepth");
        }
    }

    @Test
    void score_deepJsonText_failsNamingFieldAndLimit() {
        String deep = "[".repeat(5_000) + "]".repeat(5_000);
        try (Scorer<Object, Object> scorer = features()) {
            String message = invalid(scorer, "{\"amount\": 1, \"country\": " + deep + "}").getMessage();

            assertThat(message).contains("$.country", "64", "maxDepth");
        }
    }

    @Test
    void score_deepTensorsRecordAsMap_failsNamingLimit() {
        try (Scorer<Object, Object> scorer = tensors("score")) {
            Map<String, Object> record = Map.of("inputs", List.of(Map.of("name", "input", "datatype", "FP32",
                    "shape", List.of(1, 3), "data", deepMap(10_000))));

            assertThat(invalid(scorer, record).getMessage()).contains("$.inputs[0].data", "maxDepth");
        }
    }

    @Test
    void score_shallowMapInCategoricalField_isAnUnknownCategory() {
        try (Scorer<Object, Object> scorer = features()) {
            Object withMap = scorer.score(Map.of("amount", 1, "country", deepMap(3)));

            assertThat(withMap).isEqualTo(scorer.score(Map.of("amount", 1, "country", "FR")));
        }
    }

    // ------------------------------------------------------------------ size

    @Test
    void score_textLargerThanMaxRecordBytes_failsNamingTheSettingWithoutEchoing() {
        try (Scorer<Object, Object> scorer = features(", \"maxRecordBytes\": 1024")) {
            String secret = "s3cr3t-" + "y".repeat(2000);

            String message = invalid(scorer, "{\"amount\": 1, \"note\": \"" + secret + "\"}").getMessage();

            assertThat(message).contains("1024", "maxRecordBytes", "json-features").doesNotContain("s3cr3t");
            assertThat(scorer.score("{\"amount\": 1, \"note\": \"" + "y".repeat(900) + "\"}")).isInstanceOf(Map.class);
        }
    }

    @Test
    void score_multiByteTextCountedInUtf8Bytes() {
        try (Scorer<Object, Object> scorer = features(", \"maxRecordBytes\": 1024")) {
            // 400 characters, 1200 bytes of UTF-8.
            String record = "{\"amount\": 1, \"note\": \"" + "€".repeat(400) + "\"}";

            assertThat(invalid(scorer, record).getMessage()).contains("maxRecordBytes");
        }
    }

    @Test
    void score_hugeStringInCategoricalFieldOfMapRecord_failsNamingField() {
        try (Scorer<Object, Object> scorer = features()) {
            String huge = "N".repeat(2 << 20);

            String message = invalid(scorer, Map.of("amount", 1, "country", huge)).getMessage();

            assertThat(message).contains("field 'country'", "maxRecordBytes").hasSizeLessThan(300);
        }
    }

    @Test
    void score_tensorsMapRecordOverMaxRecordBytes_failsNamingLimit() {
        try (Scorer<Object, Object> scorer = tensors(", \"maxRecordBytes\": 4096", "score")) {
            Map<String, Object> small = Map.of("inputs", List.of(Map.of("name", "input", "datatype", "FP32",
                    "shape", List.of(100, 3), "data", new float[300])));
            Map<String, Object> large = Map.of("inputs", List.of(Map.of("name", "input", "datatype", "FP32",
                    "shape", List.of(1000, 3), "data", new float[3000])));
            List<Float> boxed = new ArrayList<>();
            for (int i = 0; i < 3000; i++) {
                boxed.add(0f);
            }

            assertThat(scorer.scoreAll(List.of(small)).get(0).isSuccess()).isTrue();
            assertThat(invalid(scorer, large).getMessage()).contains("4096", "maxRecordBytes", "tensors");
            assertThat(invalid(scorer, Map.of("inputs", List.of(Map.of("name", "input", "datatype", "FP32",
                    "shape", List.of(1000, 3), "data", boxed)))).getMessage()).contains("maxRecordBytes");
        }
    }

    // ------------------------------------------------------------------ zero-row records

    @Test
    void score_zeroRowRecordThroughScore_isInvalidInputSayingNoRows() {
        try (Scorer<Object, Object> scorer = tensors("score")) {
            String zeroRows = "{\"inputs\": [{\"name\": \"input\", \"datatype\": \"FP32\", \"shape\": [0, 3], \"data\": []}]}";

            ScoringException e = scoringFailure(() -> scorer.score(zeroRows));

            assertThat(e.kind()).isEqualTo(Kind.INVALID_INPUT);
            assertThat(e.isRetryable()).isFalse();
            assertThat(e.getMessage()).contains("model returned no rows for the record");
        }
    }

    @Test
    void score_zeroRowRecordThroughClasses_isInvalidInputSayingNoRows() {
        try (Scorer<Object, Object> scorer = tensors("classes")) {
            String zeroRows = "{\"inputs\": [{\"name\": \"input\", \"datatype\": \"FP32\", \"shape\": [0, 3], \"data\": []}]}";

            ScoringException e = scoringFailure(() -> scorer.score(zeroRows));

            assertThat(e.kind()).isEqualTo(Kind.INVALID_INPUT);
            assertThat(e.getMessage()).contains("model returned no rows for the record");
        }
    }
}
