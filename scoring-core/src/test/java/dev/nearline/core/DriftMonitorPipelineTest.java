package dev.nearline.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A monitor installed in a scorer, in code and from a pipeline file, seeing the input distribution shift. */
@ExtendWith(ModelLeakChecker.class)
class DriftMonitorPipelineTest {

    @Test
    void codePipeline_inputShiftsHalfway_firesDriftEventForShiftedFeatureAndScore() {
        DriftMonitorTest.RecordingDriftListener listener = new DriftMonitorTest.RecordingDriftListener();
        DriftMonitor monitor = DriftMonitor.builder().featureNames(List.of("amount", "age")).sampleEvery(1)
                .window(1000).captureReference(1000).checkEvery(100).listener(listener).build();
        Random random = new Random(3);
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(
                        (float[] r) -> Tensors.of("input", Tensor.ofFloats(r, 1, r.length)))
                .model(new FakeLinearModel(new float[] {1, 0}, 0))
                .monitor(monitor)
                .build(out -> out.get(0).floatAt(0))) {
            for (int i = 0; i < 2000; i++) {
                scorer.score(new float[] {random.nextFloat(), random.nextFloat()});
            }
            assertThat(listener.events).isEmpty();

            for (int i = 0; i < 2000; i++) {
                scorer.score(new float[] {random.nextFloat() + 0.5f, random.nextFloat()});
            }
        }

        // The score is the amount, so both cross at the same check, in row order.
        assertThat(listener.names()).containsExactly("amount", "score");
        DriftSnapshot s = monitor.snapshot();
        assertThat(s.observed()).isEqualTo(4000);
        assertThat(s.get("amount").mean()).isBetween(0.95, 1.05);
        assertThat(s.get("amount").psi()).isGreaterThan(0.2);
        assertThat(s.get("age").psi()).isLessThan(0.05);
    }

    @Test
    void codePipeline_failedRecords_areNotObserved() {
        DriftMonitor monitor = DriftMonitor.builder().sampleEvery(1).build();
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(
                        (float[] r) -> Tensors.of("input", Tensor.ofFloats(r, 1, r.length)))
                .model(new FakeLinearModel(new float[] {1}, 0))
                .monitor(monitor)
                .build(out -> out.get(0).floatAt(0))) {
            scorer.score(new float[] {1});
            catchThrowable(() -> scorer.score(new float[] {FakeLinearModel.POISON}));
        }

        assertThat(monitor.snapshot().observed()).isEqualTo(1);
        assertThat(monitor.snapshot().errors()).isZero();
    }

    private static final String PIPELINE = """
            {
              "name": "drifting",
              "preprocessor": {"type": "json-features", "fields": [{"name": "amount"}, {"name": "age"}]},
              "steps": [{"name": "linear", "type": "fake-linear", "weights": [1, 0]}],
              "postprocessor": {"type": "score"},
              "monitoring": {"featureNames": ["amount", "age"], "window": 500, "captureReference": 500,
                             "checkEvery": 50, "sampleEvery": 1, "psiThreshold": 0.25}
            }
            """;

    @Test
    void jsonPipeline_inputShiftsHalfway_logsDriftOfShiftedNamesAtWarn() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream saved = System.err;
        Random random = new Random(5);
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try (var scorer = Pipeline.fromJson(PIPELINE, Path.of("."), PluginRegistry.discover())) {
            for (int i = 0; i < 1000; i++) {
                scorer.score(Map.of("amount", 100 + random.nextInt(50), "age", 30));
            }
            for (int i = 0; i < 1000; i++) {
                scorer.score(Map.of("amount", 140 + random.nextInt(50), "age", 30));
            }
        } finally {
            System.setErr(saved);
        }

        String log = err.toString(StandardCharsets.UTF_8);
        assertThat(log).contains("WARN").contains("drift: PSI of 'amount' is ").contains("above the threshold 0.25")
                .contains("drift: PSI of 'score'").doesNotContain("'age'");
    }

    @Test
    void jsonPipeline_badMonitoringValue_failsWithItsPath() {
        String json = PIPELINE.replace("\"window\": 500", "\"window\": 0");

        Throwable t = catchThrowable(() -> Pipeline.fromJson(json, Path.of("."), PluginRegistry.discover()).close());

        assertThat(t).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("<json>: $.monitoring.window: expected a positive integer, got 0");
    }

    @Test
    void jsonPipeline_unknownMonitoringKey_failsWithItsPath() {
        String json = PIPELINE.replace("\"window\": 500", "\"windw\": 500");

        Throwable t = catchThrowable(() -> Pipeline.fromJson(json, Path.of("."), PluginRegistry.discover()).close());

        assertThat(t).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("$.monitoring.windw: unknown key");
    }
}
