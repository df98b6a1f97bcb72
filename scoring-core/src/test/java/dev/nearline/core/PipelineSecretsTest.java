package dev.nearline.core;

import static dev.nearline.core.testing.Causes.messages;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringListener;
import dev.nearline.core.internal.PipelineLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Secret references in pipeline files and what errors show: resolved values, values under secret keys and record
 * values never reach a message unless the pipeline opts in to record values.
 */
@ExtendWith(ModelLeakChecker.class)
class PipelineSecretsTest {
    private static final String SECRET = "s3cr3t-Label-7d1e";
    private static final Map<String, String> ENV = Map.of("OK_LABEL", SECRET, "THRESHOLD", "1.0");

    @TempDir
    Path dir;

    @BeforeEach
    void forgetCreatedModels() {
        FakeLinearModelProvider.CREATED.clear();
    }

    private static String pipeline(String threshold, String labels, String extra) {
        return """
                {
                  "preprocessor": {"type": "json-features", "fields": [{"name": "amount"}]},
                  "steps": [{"type": "fake-linear", "weights": [0.01], "bias": 0.5}],
                  "postprocessor": {"type": "score", "threshold": %s, "labels": %s}%s
                }
                """.formatted(threshold, labels, extra);
    }

    private ManagedScorer<Object, Object> load(String json) {
        return PipelineLoader.fromJson(json, "<test>", dir, PipelineLoaderTest.PLUGINS, ScoringListener.NONE, ENV::get);
    }

    @Test
    void load_envAndFileReferences_resolvedOnceAtLoad() throws Exception {
        Files.writeString(dir.resolve("label"), "fraud\n");
        try (ManagedScorer<Object, Object> scorer = load(pipeline("1.0", "[\"${env:OK_LABEL}\", \"${file:label}\"]",
                ""))) {
            assertThat(((Map<?, ?>) scorer.score(Map.of("amount", 1))).get("label")).isEqualTo(SECRET);
            assertThat(((Map<?, ?>) scorer.score(Map.of("amount", 100))).get("label")).isEqualTo("fraud");
        }
    }

    @Test
    void load_missingVariable_failsNamingPathAndVariable() {
        Throwable t = catchThrowable(() -> load(pipeline("\"${env:NOT_THERE}\"", "[\"a\", \"b\"]", "")).close());

        assertThat(t).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("<test>: $.postprocessor.threshold: environment variable 'NOT_THERE' is not set");
    }

    @Test
    void load_substitutedValueOfWrongType_errorNeverShowsTheValue() {
        Throwable t = catchThrowable(() -> load(pipeline("\"${env:OK_LABEL}\"", "[\"a\", \"b\"]", "")).close());

        assertThat(t).hasMessage("<test>: $.postprocessor.threshold: expected a number, got a string of "
                + SECRET.length() + " characters (hidden)");
        assertThat(messages(t)).noneMatch(m -> m.contains(SECRET));
        assertThat(FakeLinearModelProvider.CREATED).allMatch(FakeModel::isClosed);
    }

    @Test
    void load_secretLookingValueWrittenInClear_errorNeverShowsIt() {
        String sas = "https://acct.blob.core.windows.net/c?sv=2022&sig=AbCdEf0123456789%3D";
        Throwable t = catchThrowable(() -> load(pipeline("\"" + sas + "\"", "[\"a\", \"b\"]", "")).close());

        assertThat(t).hasMessageContaining("$.postprocessor.threshold: expected a number, got a string of");
        assertThat(messages(t)).noneMatch(m -> m.contains("AbCdEf0123456789"));
    }

    @Test
    void score_badRecordByDefault_messageNamesFieldAndTypeNotValue() {
        try (ManagedScorer<Object, Object> scorer = load(pipeline("1.0", "[\"a\", \"b\"]", ""))) {
            ScoringException e = (ScoringException) catchThrowable(() -> scorer.score("{\"amount\": \"Jane Doe\"}"));

            assertThat(e.kind()).isEqualTo(ScoringException.Kind.INVALID_INPUT);
            assertThat(e).hasMessage("field 'amount' expects a number, got a string of 8 characters");
        }
    }

    @Test
    void score_badRecordWithIncludeValues_messageQuotesValue() {
        try (ManagedScorer<Object, Object> scorer = load(pipeline("1.0", "[\"a\", \"b\"]",
                ", \"errors\": {\"includeValues\": true}"))) {
            Throwable t = catchThrowable(() -> scorer.score("{\"amount\": \"Jane Doe\"}"));

            assertThat(t).hasMessage("field 'amount' expects a number, got string \"Jane Doe\"");
        }
    }

    @Test
    void builder_includeValuesInErrors_quotesValuesOfBuiltInPreprocessor() throws Exception {
        String json = pipeline("1.0", "[\"a\", \"b\"]", "");
        try (ManagedScorer<Object, Object> quiet = load(json)) {
            assertThat(catchThrowable(() -> quiet.score(Map.of("amount", "Jane Doe")))).hasMessageNotContaining("Jane");
        }
        assertThat(catchThrowable(() -> load(pipeline("1.0", "[\"a\", \"b\"]",
                ", \"errors\": {\"includeValues\": \"yes\"}")).close()))
                .hasMessage("<test>: $.errors.includeValues: expected true or false, got string \"yes\"");
        assertThat(catchThrowable(() -> Pipeline.builder(Stages.floats("x", 1)).includeValuesInErrors(true)
                .includeValuesInErrors(false))).isInstanceOf(IllegalStateException.class);
    }
}
