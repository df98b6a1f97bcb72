package dev.nearline.core;

import static dev.nearline.core.DriftMonitorTest.in;
import static dev.nearline.core.DriftMonitorTest.out;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.core.internal.JsonSettings;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@link DriftMonitor#fromSettings}: the {@code "monitoring"} object of a pipeline file. */
class DriftMonitorSettingsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonSettings settings(String json) {
        try {
            return JsonSettings.of(JSON.readTree(json), "$.monitoring", Path.of("."));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** Reads {@code json} as the pipeline loader does: build, then insist that every key was read. */
    private static DriftMonitor monitor(String json) {
        JsonSettings s = settings(json);
        DriftMonitor monitor = DriftMonitor.fromSettings(s);
        s.checkAllRead();
        return monitor;
    }

    @Test
    void fromSettings_everyKey_configuresMonitor() {
        DriftMonitor monitor = monitor("""
                {"features": "x", "featureNames": ["amount", "age"], "score": {"output": "p", "index": 0},
                 "window": 4, "captureReference": 2, "bins": 2, "psiThreshold": 0.5, "sampleEvery": 1,
                 "checkEvery": 2,
                 "reference": {"amount": {"edges": [10], "proportions": [0.5, 0.5]}}}
                """);
        Tensors inputs = Tensors.of("other", Tensor.ofFloats(new float[] {99}, 1, 1), "x",
                Tensor.ofFloats(new float[] {5, 40}, 1, 2));
        Tensors outputs = Tensors.of("q", Tensor.ofFloats(new float[] {7}, 1), "p",
                Tensor.ofFloats(new float[] {0.25f, 0.75f}, 1, 2));

        monitor.observe(inputs, outputs);

        DriftSnapshot s = monitor.snapshot();
        assertThat(s.errors()).isZero();
        assertThat(s.sampleEvery()).isEqualTo(1);
        assertThat(s.get("amount").mean()).isEqualTo(5);
        assertThat(s.get("age").mean()).isEqualTo(40);
        assertThat(s.score().mean()).isEqualTo(0.25);
        // Explicit reference: ready at once. One value below the edge against half: (1 - .5) ln 2 + (1e-4 - .5) ln(2e-4).
        assertThat(s.get("amount").psi()).isCloseTo(0.5 * Math.log(2) + (1e-4 - 0.5) * Math.log(2e-4), within(1e-9));
        assertThat(s.get("age").referenceReady()).isFalse();
        assertThat(s.get("amount").reference().edges()).containsExactly(10);
    }

    @Test
    void fromSettings_readmeExample_isValid() {
        DriftMonitor monitor = monitor("""
                {
                  "featureNames": ["amount", "hour", "grocery", "electronics", "travel"],
                  "reference": {"score": {"edges": [0.1, 0.5, 0.9], "proportions": [0.62, 0.25, 0.09, 0.04]}}
                }
                """);

        DriftSnapshot s = monitor.snapshot();
        assertThat(s.features()).hasSize(5);
        assertThat(s.sampleEvery()).isEqualTo(2);
        assertThat(s.score().reference().proportions()).containsExactly(0.62, 0.25, 0.09, 0.04);
    }

    @Test
    void fromSettings_emptyObject_usesDefaults() {
        DriftMonitor monitor = monitor("{}");

        monitor.observe(in(1, 2), out(3));

        assertThat(monitor.snapshot().features()).extracting(DriftSnapshot.Stats::name).containsExactly("f0", "f1");
        assertThat(monitor.snapshot().score().mean()).isEqualTo(3);
        assertThat(monitor.toString()).isEqualTo("DriftMonitor[window=10000, psiThreshold=0.2, sampleEvery=1]");
    }

    @Test
    void fromSettings_scoreIndexOmitted_readsLastElement() {
        DriftMonitor monitor = monitor("{\"score\": {\"output\": \"p\"}, \"sampleEvery\": 1}");

        monitor.observe(in(1), Tensors.of("p", Tensor.ofFloats(new float[] {0.25f, 0.75f}, 1, 2)));

        assertThat(monitor.snapshot().score().mean()).isEqualTo(0.75);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "{\"window\": 0}                  | $.monitoring.window: expected a positive integer, got 0",
        "{\"window\": \"big\"}            | $.monitoring.window: expected an integer, got string \"big\"",
        "{\"captureReference\": -1}       | $.monitoring.captureReference: expected a positive integer, got -1",
        "{\"sampleEvery\": 0}             | $.monitoring.sampleEvery: expected a positive integer, got 0",
        "{\"checkEvery\": 0}              | $.monitoring.checkEvery: expected a positive integer, got 0",
        "{\"bins\": 1}                    | $.monitoring.bins: expected an integer from 2 to 100, got 1",
        "{\"psiThreshold\": 0}            | $.monitoring.psiThreshold: expected a positive number such as 0.2, got 0.0",
        "{\"features\": 3}                | $.monitoring.features: expected a string, got number 3",
        "{\"featureNames\": [\"a\", \"a\"]} | $.monitoring.featureNames: expected distinct names, got 'a' twice",
        "{\"score\": {\"index\": -2}}     | $.monitoring.score.index: expected an element index of 0 or more, got -2",
        "{\"featureNames\": [\"a\"], \"reference\": {\"b\": {\"edges\": [], \"proportions\": [1]}}}"
                + " | $.monitoring.reference.b: names no feature; expected one of [a] or 'score'",
        "{\"reference\": {\"score\": {\"edges\": [2, 1], \"proportions\": [0.2, 0.3, 0.5]}}}"
                + " | $.monitoring.reference.score.edges: expected strictly ascending numbers, got 1.0 after 2.0",
        "{\"reference\": {\"score\": {\"edges\": [1], \"proportions\": [0.2, 0.3]}}}"
                + " | $.monitoring.reference.score.proportions: expected proportions summing to 1, got a sum of 0.5",
        "{\"reference\": {\"score\": {\"edges\": [1]}}}"
                + " | $.monitoring.reference.score.proportions: required key is missing",
    })
    void fromSettings_badValue_failsNamingItsPath(String json, String message) {
        assertThatThrownBy(() -> monitor(json)).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
    }

    @Test
    void fromSettings_unknownKey_isReportedByTheLoaderCheck() {
        assertThatThrownBy(() -> monitor("{\"windw\": 10}")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("$.monitoring.windw: unknown key");
        assertThatThrownBy(() -> monitor("{\"score\": {\"output\": \"p\", \"idx\": 1}}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("$.monitoring.score.idx: unknown key");
    }
}
