package dev.nearline.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The "quality" and "challenger" objects of a pipeline file. */
@ExtendWith(ModelLeakChecker.class)
class QualityPipelineFileTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The score is the record's field {@code p}; the challenger halves it. */
    private static final String PIPELINE = """
            {
              "name": "q",
              "preprocessor": {"type": "json-features", "fields": [{"name": "p"}]},
              "steps": [{"name": "m", "type": "fake-linear", "weights": [1], "bias": 0}],
              "postprocessor": {"type": "score", "threshold": 0.7},
              "quality": {"id": "txId", "window": 100, "alerts": {"auc": 0.8}},
              "challenger": {"steps": [{"name": "m", "type": "fake-linear", "weights": [0.5], "bias": 0}],
                             "sample": 1.0, "queueCapacity": 100}
            }
            """;

    @BeforeEach
    void forgetCreatedModels() {
        FakeLinearModelProvider.CREATED.clear();
    }

    private static ManagedScorer<Object, Object> load(String json) {
        return Pipeline.fromJson(json, Path.of("."), PipelineLoaderTest.PLUGINS);
    }

    @Test
    void load_qualityAndChallenger_idsFromEveryRecordShape_thresholdFromThePostprocessor() throws Exception {
        try (ManagedScorer<Object, Object> scorer = load(PIPELINE)) {
            QualityMonitor quality = scorer.quality().orElseThrow();
            scorer.score(Map.of("txId", "a", "p", 0.6));
            scorer.score(JSON.readTree("{\"txId\": 42, \"p\": 0.2}"));
            scorer.score("{\"meta\": {\"txId\": \"nested, not the id\"}, \"p\": 0.9, \"txId\": \"c\"}");
            scorer.score(Map.of("p", 0.5)); // no id: scored, not tracked
            assertThat(quality.feedback("a", 1)).isEqualTo(FeedbackOutcome.JOINED);
            assertThat(quality.feedback("42", 0)).isEqualTo(FeedbackOutcome.JOINED);
            assertThat(quality.feedback("c", "true")).isEqualTo(FeedbackOutcome.JOINED);

            QualitySnapshot s = quality.snapshot();
            assertThat(s.predictions().untracked()).isEqualTo(1);
            QualitySnapshot.Window w = s.current().lastRecords();
            assertThat(w.count()).isEqualTo(3);
            // At the postprocessor's threshold 0.7, only c (0.9) is flagged: recall 1/2, precision 1.
            assertThat(w.recall()).isEqualTo(0.5);
            assertThat(w.precision()).isEqualTo(1.0);
            QualityFixtures.await("the challenger's three comparisons",
                    () -> quality.snapshot().version(1).orElseThrow().challenger().compared() == 3,
                    Duration.ofSeconds(10));
            QualitySnapshot.Comparison c = quality.snapshot().current().challenger();
            assertThat(c.difference().mean()).isCloseTo(-(0.6 + 0.2 + 0.9) / 2 / 3, org.assertj.core.api.Assertions.within(1e-6));
            QualityFixtures.await("the challenger's labelled records",
                    () -> quality.snapshot().current().challenger().challenger().count() == 3, Duration.ofSeconds(10));
            assertThat(quality.snapshot().challenger().sampled()).isEqualTo(3);
        }
        assertThat(FakeLinearModelProvider.CREATED).hasSize(2).allMatch(FakeModel::isClosed);
    }

    @Test
    void load_badQualityOrChallengerSettings_failWithTheirJsonPath() {
        assertThat(loadError(PIPELINE.replace("\"window\": 100", "\"windw\": 100"))).contains("$.quality.windw");
        assertThat(loadError(PIPELINE.replace("\"auc\": 0.8", "\"f1\": 0.8"))).contains("$.quality.alerts.f1")
                .contains("auc");
        assertThat(loadError(PIPELINE.replace("\"id\": \"txId\", ", ""))).contains("$.quality.id");
        assertThat(loadError(PIPELINE.replace("\"sample\": 1.0", "\"sample\": 1.5"))).contains("$.challenger.sample");
        assertThat(loadError(PIPELINE.replace("\"window\": 100", "\"window\": 0"))).contains("$.quality.window");
        String noQuality = PIPELINE.replace("\"quality\": {\"id\": \"txId\", \"window\": 100, \"alerts\": {\"auc\": 0.8}},",
                "");
        assertThat(loadError(noQuality)).contains("$.challenger").contains("quality");
    }

    private static String loadError(String json) {
        Throwable t = catchThrowable(() -> load(json).close());
        assertThat(t).isInstanceOf(IllegalArgumentException.class);
        assertThat(FakeLinearModelProvider.CREATED).allMatch(FakeModel::isClosed);
        FakeLinearModelProvider.CREATED.clear();
        return t.getMessage();
    }
}
