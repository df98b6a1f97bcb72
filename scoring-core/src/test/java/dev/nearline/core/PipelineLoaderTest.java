package dev.nearline.core;

import static dev.nearline.core.Fixtures.scoringFailure;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nearline.api.Outcome;
import dev.nearline.api.Scorer;
import dev.nearline.api.ScoringException.Kind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** JSON pipelines end to end: built-in processors, test plugins from META-INF/services, and load errors. */
@ExtendWith(ModelLeakChecker.class)
class PipelineLoaderTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final PluginRegistry PLUGINS = PluginRegistry.discover();

    @TempDir
    Path dir;

    private static final String FRAUD = """
            {
              "name": "fraud",
              "preprocessor": {"type": "json-features", "fields": [
                {"name": "amount"},
                {"name": "age", "default": 30},
                {"name": "country", "categories": ["NL", "DE"]}
              ]},
              "steps": [{"name": "linear", "type": "fake-linear", "weights": [0.01, -0.02, 1, 2], "bias": 0.5}],
              "postprocessor": {"type": "score", "threshold": 1.0, "labels": ["ok", "fraud"]},
              "timeout": "30s"
            }
            """;

    @BeforeEach
    void forgetCreatedModels() {
        FakeLinearModelProvider.CREATED.clear();
    }

    private static Scorer<Object, Object> fromJson(String json) {
        return Pipeline.fromJson(json, Path.of("."), PLUGINS);
    }

    /** The IllegalArgumentException loading {@code json} fails with; checks that no fake-linear model stays open. */
    private static String loadError(String json) {
        Throwable t = org.assertj.core.api.Assertions.catchThrowable(() -> fromJson(json).close());
        assertThat(t).isInstanceOf(IllegalArgumentException.class);
        assertThat(FakeLinearModelProvider.CREATED).allMatch(FakeModel::isClosed);
        return t.getMessage();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object result) {
        assertThat(result).isInstanceOf(Map.class);
        return (Map<String, Object>) result;
    }

    private static float fraudScore(float amount, float age, float nl, float de) {
        float s = 0.5f;
        s += 0.01f * amount;
        s += -0.02f * age;
        s += 1f * nl;
        s += 2f * de;
        return s;
    }

    @Test
    void load_featuresLinearScore_scoresMapJsonNodeAndJsonStringRecordsAlike() throws Exception {
        try (Scorer<Object, Object> scorer = fromJson(FRAUD)) {
            Object fromMap = scorer.score(Map.of("amount", 100, "age", 20, "country", "DE"));
            Object fromNode = scorer.score(JSON.readTree("{\"amount\": 100, \"age\": 20, \"country\": \"DE\"}"));
            Object fromText = scorer.score("{\"amount\": \"100\", \"age\": 20, \"country\": \"DE\"}");

            assertThat(fromMap).isInstanceOf(Map.class);
            Map<String, Object> result = map(fromMap);
            assertThat(result.keySet()).containsExactly("score", "decision", "label");
            assertThat((Double) result.get("score")).isCloseTo(fraudScore(100, 20, 0, 1), within(1e-6));
            assertThat(result.get("decision")).isEqualTo(true);
            assertThat(result.get("label")).isEqualTo("fraud");
            assertThat(fromNode).isEqualTo(fromMap);
            assertThat(fromText).isEqualTo(fromMap);
            assertThat(((ManagedScorer<?, ?>) scorer).name()).isEqualTo("fraud");
        }
    }

    @Test
    void load_featuresLinearScore_belowThresholdAndDefaults() {
        try (Scorer<Object, Object> scorer = fromJson(FRAUD)) {
            Map<String, Object> result = map(scorer.score(Map.of("amount", 10, "country", "FR")));

            assertThat((Double) result.get("score")).isCloseTo(fraudScore(10, 30, 0, 0), within(1e-6));
            assertThat(result.get("decision")).isEqualTo(false);
            assertThat(result.get("label")).isEqualTo("ok");
        }
    }

    @Test
    void load_featuresLinearScore_invalidRecordsFailWithInvalidInputNamingField() {
        try (Scorer<Object, Object> scorer = fromJson(FRAUD)) {
            assertThat(scoringFailure(() -> scorer.score(Map.of("age", 3))).getMessage()).contains("'amount'", "missing");
            assertThat(scoringFailure(() -> scorer.score("{\"amount\": \"lots\"}")).getMessage())
                    .isEqualTo("field 'amount' expects a number, got a string of 4 characters");
            assertThat(scoringFailure(() -> scorer.score("not json")).kind()).isEqualTo(Kind.INVALID_INPUT);
            assertThat(scoringFailure(() -> scorer.score("[1, 2]")).getMessage()).contains("JSON object");
            assertThat(scoringFailure(() -> scorer.score(42)).getMessage()).contains("java.lang.Integer");
        }
    }

    @Test
    void load_scoreAll_matchesPerRecordScores() {
        try (Scorer<Object, Object> scorer = fromJson(FRAUD)) {
            List<Object> records = List.of(Map.of("amount", 1), Map.of("amount", 500, "country", "NL"), Map.of("x", 1));

            List<Outcome<Object>> outcomes = scorer.scoreAll(records);

            assertThat(outcomes.get(0).get()).isEqualTo(scorer.score(records.get(0)));
            assertThat(outcomes.get(1).get()).isEqualTo(scorer.score(records.get(1)));
            assertThat(outcomes.get(2).error().kind()).isEqualTo(Kind.INVALID_INPUT);
        }
    }

    @Test
    void load_fromFile_scoresAndClosesModels() throws Exception {
        Path file = dir.resolve("fraud.json");
        Files.writeString(file, FRAUD);

        try (Scorer<Object, Object> scorer = Pipeline.load(file, PLUGINS)) {
            assertThat(map(scorer.score(Map.of("amount", 200))).get("decision")).isEqualTo(true);
        }
        assertThat(FakeLinearModelProvider.CREATED).hasSize(1).allMatch(FakeModel::isClosed);
    }

    @Test
    void load_missingFile_failsNamingIt() {
        Path missing = dir.resolve("nope.json");

        assertThatThrownBy(() -> Pipeline.load(missing, PLUGINS))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("nope.json")
                .hasMessageContaining("does not exist");
    }

    @Test
    void load_classesWithTopKAndStringKeys_labelsFromKeysTensor() {
        String json = """
                {
                  "preprocessor": {"type": "json-features", "fields": [{"name": "a"}, {"name": "b"}, {"name": "c"}]},
                  "steps": [{"type": "fake-softmax", "classes": 3, "keys": ["cat", "dog", "fish"]}],
                  "postprocessor": {"type": "classes", "topK": 2}
                }
                """;
        try (Scorer<Object, Object> scorer = fromJson(json)) {
            Map<String, Object> result = map(scorer.score(Map.of("a", 1, "b", 3, "c", 2)));

            assertThat(result.keySet()).containsExactly("label", "probability", "top", "probabilities");
            assertThat(result.get("label")).isEqualTo("dog");
            double sum = Math.exp(1) + Math.exp(3) + Math.exp(2);
            assertThat((Double) result.get("probability")).isCloseTo(Math.exp(3) / sum, within(1e-6));
            assertThat((List<?>) result.get("top")).extracting(e -> map(e).get("label"))
                    .containsExactly("dog", "fish");
            assertThat(map(result.get("probabilities")).keySet()).containsExactly("cat", "dog", "fish");
        }
    }

    @Test
    void load_classesWithIntegerKeys_labelsAreTheKeys() {
        String json = """
                {
                  "preprocessor": {"type": "json-features", "fields": [{"name": "a"}, {"name": "b"}]},
                  "steps": [{"type": "fake-softmax", "classes": 2, "intKeys": [10, 20]}],
                  "postprocessor": {"type": "classes", "probabilities": false}
                }
                """;
        try (Scorer<Object, Object> scorer = fromJson(json)) {
            Map<String, Object> result = map(scorer.score(Map.of("a", 5, "b", 1)));

            assertThat(result.keySet()).containsExactly("label", "probability");
            assertThat(result.get("label")).isEqualTo("10");
        }
    }

    @Test
    void load_tensorsPreAndPost_roundTripEveryValue() throws Exception {
        String json = """
                {
                  "preprocessor": {"type": "tensors"},
                  "steps": [{"type": "fake-echo", "tensors": [
                    {"name": "x", "datatype": "FP32"}, {"name": "ids", "datatype": "INT64"},
                    {"name": "s", "datatype": "BYTES"}, {"name": "flags", "datatype": "BOOL"},
                    {"name": "h", "datatype": "FP16"}, {"name": "d", "datatype": "FP64"}, {"name": "u", "datatype": "UINT8"}
                  ]}],
                  "postprocessor": {"type": "tensors"}
                }
                """;
        String record = """
                {"inputs": [
                  {"name": "x", "datatype": "FP32", "shape": [1, 2], "data": [1.5, -2.25]},
                  {"name": "ids", "datatype": "INT64", "shape": [3], "data": [9007199254740993, -1, 9223372036854775807]},
                  {"name": "s", "datatype": "BYTES", "shape": [1], "data": ["héllo €"]},
                  {"name": "flags", "datatype": "BOOL", "shape": [2], "data": [true, false]},
                  {"name": "h", "datatype": "FP16", "shape": [1], "data": [0.5]},
                  {"name": "d", "datatype": "FP64", "shape": [1], "data": [0.1]},
                  {"name": "u", "datatype": "UINT8", "shape": [2], "data": [0, 255]}
                ]}
                """;
        try (Scorer<Object, Object> scorer = fromJson(json)) {
            // As a host writes it: JSON text.
            JsonNode out = JSON.readTree(JSON.writeValueAsString(scorer.score(record)));

            JsonNode expected = JSON.readTree(record.replace("\"inputs\"", "\"outputs\""));
            assertThat(out).isEqualTo(expected);
        }
    }

    @Test
    void load_transformStepAndInputBindings_chainModels() {
        String json = """
                {
                  "preprocessor": {"type": "json-features", "fields": [{"name": "a"}, {"name": "b"}]},
                  "steps": [
                    {"name": "first", "type": "fake-linear", "weights": [1, 1], "output": "s1"},
                    {"name": "scale", "type": "fake-scale", "from": "s1", "to": "scaled", "factor": 10},
                    {"name": "second", "type": "fake-linear", "weights": [1], "bias": 1, "input": "z",
                     "inputs": {"z": "scaled"}}
                  ],
                  "postprocessor": {"type": "score"}
                }
                """;
        try (Scorer<Object, Object> scorer = fromJson(json)) {
            assertThat(map(scorer.score(Map.of("a", 2, "b", 3))).get("score")).isEqualTo(51.0);
            assertThat(scorer.toString()).contains("first", "scale", "second");
        }
    }

    @Test
    void load_allEngineOptions_accepted() throws InterruptedException {
        String json = FRAUD.replace("\"timeout\": \"30s\"", """
                "timeout": "PT10S", "closeGracePeriod": "250us", "async": {"threads": 2, "queueCapacity": 4}
                """);
        try (Scorer<Object, Object> scorer = fromJson(json)) {
            assertThat(Fixtures.valueOf(scorer.scoreAsync(Map.of("amount", 1)))).isInstanceOf(Map.class);
        }
        // With a 250 us grace period, close() may hand closing the model to the thread of the record still
        // finishing (its future completes first): wait for that close, bounded, before the leak check counts.
        assertThat(FakeLinearModelProvider.CREATED).hasSize(1);
        for (FakeLinearModel m : FakeLinearModelProvider.CREATED) {
            assertThat(m.awaitClosed()).as("%s closed within 10 s", m).isTrue();
        }
    }

    @Test
    void load_batchingWithThreads_scoresThroughTheBatcher() {
        String json = FRAUD.replace("\"timeout\": \"30s\"", """
                "batching": {"maxBatchSize": 8, "maxQueueDelay": "0ms", "sync": "always", "threads": 1}
                """);
        try (Scorer<Object, Object> scorer = fromJson(json)) {
            assertThat(scorer.score(Map.of("amount", 1))).isEqualTo(Fixtures.valueOf(scorer.scoreAsync(Map.of("amount", 1))));
        }
        assertThat(loadError(FRAUD.replace("\"timeout\": \"30s\"", """
                "batching": {"threads": 0}
                """))).contains("batching", "threads", "at least 1");
    }

    // ------------------------------------------------------------------ load errors

    @Test
    void load_malformedJson_failsWithLineAndColumn() {
        String message = loadError("{\n  \"name\": \"x\",\n  \"steps\": [}\n}");

        assertThat(message).startsWith("<json>: malformed JSON at line 3, column");
    }

    @Test
    void load_duplicateKey_failsAsMalformed() {
        assertThat(loadError("{\"name\": \"a\", \"name\": \"b\"}")).contains("malformed JSON", "name");
    }

    @Test
    void load_notAnObject_fails() {
        assertThat(loadError("[1, 2]")).contains("$: expected an object, got an array");
        assertThat(loadError("")).contains("empty");
    }

    @Test
    void load_unknownTopLevelKey_failsWithItsPath() {
        assertThat(loadError(FRAUD.replace("\"timeout\"", "\"colour\": \"red\", \"timeout\"")))
                .contains("$.colour: unknown key");
    }

    @Test
    void load_misspeltStepKey_failsWithItsPathAndClosesTheModel() {
        String message = loadError(FRAUD.replace("\"bias\"", "\"bais\""));

        assertThat(message).contains("$.steps[0].bais: unknown key", "known keys here:", "bias");
        assertThat(FakeLinearModelProvider.CREATED).hasSize(1);
    }

    @Test
    void load_misspeltKeyInUnknownSection_failsWithItsPath() {
        assertThat(loadError(FRAUD.replace("\"timeout\": \"30s\"", "\"async\": {\"thread\": 2}")))
                .contains("$.async.thread: unknown key");
        assertThat(loadError(FRAUD.replace("{\"name\": \"amount\"}", "{\"name\": \"amount\", \"defualt\": 1}")))
                .contains("$.preprocessor.fields[0].defualt: unknown key");
    }

    @Test
    void load_missingRequiredKey_failsWithItsPath() {
        assertThat(loadError(FRAUD.replace("\"weights\": [0.01, -0.02, 1, 2], ", "")))
                .contains("$.steps[0].weights: required key is missing");
        assertThat(loadError(FRAUD.replace("\"type\": \"score\", ", "")))
                .contains("$.postprocessor.type: required key is missing");
        assertThat(loadError("{\"preprocessor\": {\"type\": \"tensors\"}, \"postprocessor\": {\"type\": \"tensors\"}}"))
                .contains("$.steps: required key is missing");
    }

    @Test
    void load_wrongValueType_failsWithItsPathAndWhatItGot() {
        assertThat(loadError(FRAUD.replace("[0.01, -0.02, 1, 2]", "\"abc\"")))
                .contains("$.steps[0].weights: expected an array of numbers, got string \"abc\"");
        assertThat(loadError(FRAUD.replace("\"threshold\": 1.0", "\"threshold\": \"high\"")))
                .contains("$.postprocessor.threshold: expected a number, got string \"high\"");
        assertThat(loadError(FRAUD.replace("\"steps\": [", "\"steps\": [42, ")))
                .contains("$.steps[0]: expected an object, got number 42");
    }

    @Test
    void load_unknownModelType_failsListingFoundTypesAndArtifact() {
        assertThat(loadError(FRAUD.replace("fake-linear", "onnx")))
                .contains("$.steps[0]", "no model provider of type 'onnx'", "fake-linear", "fake-softmax",
                        "dev.nearline:scoring-onnx");
    }

    @Test
    void load_unknownPreprocessorType_failsListingFoundTypes() {
        assertThat(loadError(FRAUD.replace("json-features", "csv-features")))
                .contains("$.preprocessor", "'csv-features'", "json-features", "tensors");
    }

    @Test
    void load_badDuration_failsWithItsPath() {
        assertThat(loadError(FRAUD.replace("30s", "5 parsecs")))
                .contains("$.timeout: expected a duration", "\"5 parsecs\"");
    }

    @Test
    void load_optionRejectedByBuilder_failsWithItsPath() {
        assertThat(loadError(FRAUD.replace("30s", "0ms"))).contains("$.timeout:", "positive");
        assertThat(loadError(FRAUD.replace("\"timeout\": \"30s\"", "\"async\": {\"threads\": 0}")))
                .contains("$.async.threads:", "at least 1");
    }

    @Test
    void load_errorAfterModelCreated_closesTheModel() {
        loadError(FRAUD.replace("\"type\": \"score\"", "\"type\": \"scoer\""));

        assertThat(FakeLinearModelProvider.CREATED).hasSize(1).allMatch(FakeModel::isClosed);
    }

    @Test
    void load_secondStepFails_closesTheFirstModel() {
        String json = FRAUD.replace("\"bias\": 0.5}]", "\"bias\": 0.5}, {\"type\": \"fake-linear\", \"weights\": []}]");

        assertThat(loadError(json)).contains("$.steps[1].weights: needs at least one weight");
        assertThat(FakeLinearModelProvider.CREATED).hasSize(1).allMatch(FakeModel::isClosed);
    }

    @Test
    void load_bindingToUnknownModelInput_failsAndClosesModel() {
        assertThat(loadError(FRAUD.replace("\"bias\": 0.5", "\"bias\": 0.5, \"inputs\": {\"nope\": \"input\"}")))
                .contains("'nope'");
        assertThat(FakeLinearModelProvider.CREATED).hasSize(1).allMatch(FakeModel::isClosed);
    }

    @Test
    void load_noSteps_fails() {
        assertThat(loadError(FRAUD.replace(FRAUD.substring(FRAUD.indexOf("[{\"name\": \"linear\""),
                FRAUD.indexOf("\"postprocessor\"")), "[],\n  ")))
                .contains("$.steps: needs at least one step");
    }
}
