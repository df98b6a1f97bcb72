package dev.nearline.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.nearline.api.Scorer;
import dev.nearline.core.internal.ConfigException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every numeric setting of a pipeline has a range, checked at load (the message names the JSON path) and
 * in the builder (the message names the property); nothing may follow the pipeline's JSON object; and load
 * errors are typed, carrying their path.
 */
@ExtendWith(ModelLeakChecker.class)
class PipelineSettingsRangesTest {
    private static final PluginRegistry PLUGINS = PluginRegistry.discover();

    /** A pipeline with {@code %s} where top-level keys go. */
    private static final String PIPELINE = """
            {
              "preprocessor": {"type": "json-features", "fields": [{"name": "amount"}]},
              "steps": [{"name": "linear", "type": "fake-linear", "weights": [2]}],
              "postprocessor": {"type": "score"}%s
            }
            """;

    private static String with(String keys) {
        return String.format(PIPELINE, keys.isEmpty() ? "" : ", " + keys);
    }

    /** The exception loading {@code json} fails with; no fake model may stay open. */
    private static ConfigException loadError(String json) {
        Throwable t = catchThrowable(() -> Pipeline.fromJson(json, Path.of("."), PLUGINS).close());
        assertThat(t).isInstanceOf(IllegalArgumentException.class).isInstanceOf(ConfigException.class);
        assertThat(FakeLinearModelProvider.CREATED).allMatch(FakeModel::isClosed);
        return (ConfigException) t;
    }

    @Test
    void load_pipelineWithAllLimitsInRange_scores() {
        String json = with("""
                "timeout": "1h", "closeGracePeriod": "1h", "maxInFlight": 1000000, "warmup": 2,
                "batching": {"maxBatchSize": 4096, "maxQueueDelay": "1s", "threads": 1},
                "async": {"threads": 1, "queueCapacity": 1000000},
                "monitoring": {"window": 1000, "captureReference": 1000, "sampleEvery": 1, "checkEvery": 1000}
                """).replace("\"type\": \"json-features\"", "\"type\": \"json-features\", \"maxRecordBytes\": 67108864,"
                + " \"maxDepth\": 1000");
        try (Scorer<Object, Object> scorer = Pipeline.fromJson(json, Path.of("."), PLUGINS)) {
            assertThat(scorer.score(Map.of("amount", 2))).isEqualTo(Map.of("score", 4.0));
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "\"batching\": {\"maxBatchSize\": 2147483647} | $.batching.maxBatchSize | must be between 1 and 4096, got 2147483647",
        "\"batching\": {\"maxBatchSize\": 0}          | $.batching.maxBatchSize | must be at least 1 (and at most 4096), got 0",
        "\"batching\": {\"threads\": 257}             | $.batching.threads      | must be between 1 and 256, got 257",
        "\"batching\": {\"maxQueueDelay\": \"2s\"}    | $.batching.maxQueueDelay | must be between PT0S and PT1S, got PT2S",
        "\"async\": {\"queueCapacity\": 2147483647}   | $.async.queueCapacity   | must be between 1 and 1000000, got 2147483647",
        "\"async\": {\"threads\": 100000}             | $.async.threads         | must be between 1 and 256, got 100000",
        "\"maxInFlight\": 1000001                     | $.maxInFlight           | must be between 1 and 1000000, got 1000001",
        "\"warmup\": 1000000000                       | $.warmup                | must be between 0 and 10000, got 1000000000",
        "\"warmup\": -1                               | $.warmup                | must be at least 0 (and at most 10000), got -1",
        "\"timeout\": \"PT100000000H\"                | $.timeout               | must be more than PT0S and at most PT1H, got PT100000000H",
        "\"timeout\": \"0ms\"                         | $.timeout               | must be positive (and at most PT1H), got PT0S",
        "\"closeGracePeriod\": \"2h\"                 | $.closeGracePeriod      | must be between PT0S and PT1H, got PT2H",
        "\"monitoring\": {\"window\": 2147483647}     | $.monitoring.window     | must be between 1 and 1000000, got 2147483647",
        "\"monitoring\": {\"captureReference\": 1000001} | $.monitoring.captureReference | must be between 1 and 1000000, got 1000001",
        "\"monitoring\": {\"sampleEvery\": 2147483647} | $.monitoring.sampleEvery | must be between 1 and 1000000, got 2147483647",
        "\"monitoring\": {\"checkEvery\": 2147483647} | $.monitoring.checkEvery | must be between 1 and 1000000, got 2147483647",
    })
    void load_topLevelSettingOutOfRange_failsNamingPathAndRange(String keys, String path, String problem) {
        ConfigException e = loadError(with(keys));

        assertThat(e.getMessage()).isEqualTo("<json>: " + path + ": " + problem);
        assertThat(e.path()).isEqualTo(path);
    }

    @Test
    void load_unknownTopLevelKey_listsEveryKnownKey() {
        ConfigException e = loadError(with("\"maxBatchSize\": 8"));

        assertThat(e.path()).isEqualTo("$.maxBatchSize");
        assertThat(e.getMessage()).startsWith("<json>: $.maxBatchSize: unknown key; known keys here: [")
                .contains("timeout", "maxInFlight", "warmup", "batching", "closeGracePeriod", "async", "monitoring");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "\"maxRecordBytes\": 1                 | $.preprocessor.maxRecordBytes | must be at least 1024 (and at most 67108864), got 1",
        "\"maxRecordBytes\": 2147483647        | $.preprocessor.maxRecordBytes | must be between 1024 and 67108864, got 2147483647",
        "\"maxDepth\": 0                       | $.preprocessor.maxDepth       | must be at least 1 (and at most 1000), got 0",
        "\"maxDepth\": 100000                  | $.preprocessor.maxDepth       | must be between 1 and 1000, got 100000",
        "\"maxDepth\": 1e3                     | $.preprocessor.maxDepth       | expected an integer, got number 1000.0",
    })
    void load_preprocessorLimitOutOfRange_failsNamingPathAndRange(String keys, String path, String problem) {
        String features = with("").replace("\"type\": \"json-features\"", "\"type\": \"json-features\", " + keys);
        String tensors = with("").replace("{\"type\": \"json-features\", \"fields\": [{\"name\": \"amount\"}]}",
                "{\"type\": \"tensors\", " + keys + "}");

        assertThat(loadError(features).getMessage()).isEqualTo("<json>: " + path + ": " + problem);
        assertThat(loadError(tensors).getMessage()).isEqualTo("<json>: " + path + ": " + problem);
    }

    @Test
    void load_nonFiniteStageNumbers_failNamingPath() {
        assertThat(loadError(with("").replace("{\"name\": \"amount\"}", "{\"name\": \"amount\", \"default\": 1e400}"))
                .getMessage()).contains("$.preprocessor.fields[0].default: expected a finite number");
        assertThat(loadError(with("").replace("{\"name\": \"amount\"}", "{\"name\": \"amount\", \"default\": 1e39}"))
                .getMessage()).contains("$.preprocessor.fields[0].default", "FP32");
        assertThat(loadError(with("").replace("\"type\": \"score\"", "\"type\": \"score\", \"threshold\": -1e999"))
                .getMessage()).contains("$.postprocessor.threshold: expected a finite number");
        assertThat(loadError(with("").replace("\"type\": \"score\"", "\"type\": \"classes\", \"topK\": 2147483647"))
                .getMessage()).contains("$.postprocessor.topK: must be between 0 and 100000");
    }

    // ------------------------------------------------------------------ trailing content, typed errors

    @Test
    void load_contentAfterThePipelineObject_failsNamingThePosition() {
        String json = with("") + "{ \"steps\": [] }";

        ConfigException e = loadError(json);

        assertThat(e.getMessage()).startsWith("<json>: $: unexpected content after the pipeline's JSON object at line 6,"
                + " column 1");
        assertThat(e.path()).isEqualTo("$");
        assertThat(loadError(with("") + "]").getMessage()).contains("unexpected content after", "line 6, column 1");
        assertThat(loadError(with("").replace("\"type\": \"score\"}", "\"type\": \"score\"}}{ \"steps\": []")).path())
                .isEqualTo("$");
    }

    @Test
    void load_malformedJson_typedWithThePathWhereParsingStopped() {
        ConfigException e = loadError(with("").replace("\"weights\": [2]", "\"weights\": [2,,]"));

        assertThat(e.path()).isEqualTo("$.steps[0].weights[1]");
        assertThat(e.getMessage()).startsWith("<json>: malformed JSON at line 3, column").contains("(in $.steps[0].weights[1])");
    }

    @Test
    void load_errorsFromTheEngineAndStages_typedWithTheirPath() {
        assertThat(loadError(with("").replace("\"weights\": [2]}", "\"weights\": [2], \"inputs\": {\"nope\": \"amount\"}}"))
                .path()).isEqualTo("$.steps[0].inputs");
        assertThat(loadError(with("").replace("\"weights\": [2]", "\"weights\": []")).path()).isEqualTo("$.steps[0].weights");
        assertThat(loadError(with("").replace("\"type\": \"score\"", "\"type\": \"scoer\"")).path()).isEqualTo("$.postprocessor");
    }

    @Test
    void load_onlyTransformSteps_failsNamingSteps() {
        String json = with("").replace("{\"name\": \"linear\", \"type\": \"fake-linear\", \"weights\": [2]}",
                "{\"type\": \"fake-scale\", \"from\": \"input\", \"to\": \"scaled\", \"factor\": 2}");

        ConfigException e = loadError(json);

        assertThat(e.getMessage()).isEqualTo("<json>: $.steps: needs at least one model step; transforms run between models");
    }

    // ------------------------------------------------------------------ the builder

    private static void rejects(ThrowingCallable call, String message) {
        assertThatThrownBy(call).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
    }

    @Test
    void builder_settersOutOfRange_failNamingPropertyAndRange() {
        Pipeline.Builder<float[]> b = Pipeline.builder(Fixtures.ROW);

        rejects(() -> b.batching(Integer.MAX_VALUE, Duration.ZERO), "maxBatchSize must be between 1 and 4096, got 2147483647");
        rejects(() -> b.batching(8, Duration.ofSeconds(2)), "maxQueueDelay must be between PT0S and PT1S, got PT2S");
        rejects(() -> b.batchingThreads(1000), "batchingThreads must be between 1 and 256, got 1000");
        rejects(() -> b.asyncThreads(Integer.MAX_VALUE), "asyncThreads must be between 1 and 256, got 2147483647");
        rejects(() -> b.asyncQueueCapacity(Integer.MAX_VALUE),
                "asyncQueueCapacity must be between 1 and 1000000, got 2147483647");
        rejects(() -> b.asyncQueueCapacity(0), "asyncQueueCapacity must be at least 1 (and at most 1000000), got 0");
        rejects(() -> b.maxInFlight(Integer.MAX_VALUE), "maxInFlight must be between 1 and 1000000, got 2147483647");
        rejects(() -> b.warmup(Integer.MAX_VALUE), "warmup must be between 0 and 10000, got 2147483647");
        rejects(() -> b.timeout(Duration.ofDays(365)), "timeout must be more than PT0S and at most PT1H, got PT8760H");
        rejects(() -> b.closeGracePeriod(Duration.ofDays(1)), "closeGracePeriod must be between PT0S and PT1H, got PT24H");
        // Rejected values leave the options unset: the largest allowed values are still accepted.
        b.batching(4096, Duration.ofSeconds(1)).batchingThreads(256).asyncThreads(256).asyncQueueCapacity(1_000_000)
                .maxInFlight(1_000_000).warmup(10_000).timeout(Duration.ofHours(1)).closeGracePeriod(Duration.ofHours(1));
    }

    @Test
    void builder_hugeQueueCapacityOnceAllowed_nowFailsAtTheSetter() {
        // Before: accepted, then the first scoreAsync threw OutOfMemoryError allocating the queue.
        Pipeline.Builder<float[]> b = Pipeline.builder(Fixtures.ROW);

        assertThatThrownBy(() -> b.asyncQueueCapacity(Integer.MAX_VALUE)).isInstanceOf(IllegalArgumentException.class);
    }
}
