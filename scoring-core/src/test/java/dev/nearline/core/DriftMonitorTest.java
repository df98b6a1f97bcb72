package dev.nearline.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** Window statistics, reference capture, events, bad records and builder rules of {@link DriftMonitor}. */
class DriftMonitorTest {

    static Tensors in(float... features) {
        return Tensors.of("input", Tensor.ofFloats(features, 1, features.length));
    }

    static Tensors out(float score) {
        return Tensors.of("score", Tensor.ofFloats(new float[] {score}, 1, 1));
    }

    /** Records drift events in order. */
    static final class RecordingDriftListener implements DriftListener {
        final List<DriftEvent> events = new CopyOnWriteArrayList<>();

        @Override
        public void onDrift(DriftEvent event) {
            events.add(event);
        }

        List<String> names() {
            return events.stream().map(DriftEvent::name).toList();
        }
    }

    /** One feature {@code f0} and a score, both with reference bins [below 0.5, from 0.5] at half each. */
    private static DriftMonitor.Builder halfAndHalf() {
        DriftMonitor.Reference half = new DriftMonitor.Reference(new double[] {0.5}, new double[] {0.5, 0.5});
        return DriftMonitor.builder().sampleEvery(1).reference(Map.of("f0", half, "score", half));
    }

    @Test
    void window_moreRecordsThanWindow_statisticsCoverLastRecordsOnly() {
        DriftMonitor monitor = DriftMonitor.builder().sampleEvery(1).window(100).build();
        for (int i = 1; i <= 300; i++) {
            monitor.observe(in(i, -i), out(i / 1000f));
        }

        DriftSnapshot s = monitor.snapshot();
        DriftSnapshot.Stats f0 = s.get("f0");
        assertThat(s.observed()).isEqualTo(300);
        assertThat(f0.count()).isEqualTo(100);
        assertThat(f0.mean()).isEqualTo(250.5);
        assertThat(f0.p50()).isEqualTo(250);
        assertThat(f0.p90()).isEqualTo(290);
        assertThat(f0.p99()).isEqualTo(299);
        assertThat(s.get("f1").mean()).isEqualTo(-250.5);
        assertThat(s.score().mean()).isCloseTo(0.2505, within(1e-6));
        assertThat(s.features()).extracting(DriftSnapshot.Stats::name).containsExactly("f0", "f1");
    }

    @Test
    void snapshot_beforeFirstRecord_isEmpty() {
        DriftSnapshot s = DriftMonitor.builder().build().snapshot();

        assertThat(s.observed()).isZero();
        assertThat(s.features()).isEmpty();
        assertThat(s.score().count()).isZero();
        assertThat(s.score().mean()).isNaN();
        assertThat(s.score().psi()).isNaN();
        assertThat(s.referenceReady()).isFalse();
    }

    @Test
    void snapshot_featureNamesConfigured_listsFeaturesBeforeFirstRecord() {
        DriftSnapshot s = DriftMonitor.builder().featureNames(List.of("amount", "hour")).build().snapshot();

        assertThat(s.features()).extracting(DriftSnapshot.Stats::name).containsExactly("amount", "hour");
        assertThat(s.get("amount").count()).isZero();
    }

    @Test
    void captureReference_afterNRecords_becomesReady() {
        DriftMonitor monitor = DriftMonitor.builder().sampleEvery(1).captureReference(50).window(1000).build();
        for (int i = 0; i < 49; i++) {
            monitor.observe(in(i), out(i));
        }
        DriftSnapshot before = monitor.snapshot();
        assertThat(before.referenceReady()).isFalse();
        assertThat(before.get("f0").psi()).isNaN();
        assertThat(before.get("f0").reference()).isNull();

        monitor.observe(in(49), out(49));

        DriftSnapshot after = monitor.snapshot();
        assertThat(after.referenceReady()).isTrue();
        assertThat(after.get("f0").psi()).isCloseTo(0, within(1e-9));
        DriftMonitor.Reference ref = after.get("f0").reference();
        assertThat(ref).isNotNull();
        // Ten quantile bins of 0..49 (edges at 5, 10, ... 45), plus one below 0 and one above 49.
        assertThat(ref.edges()).containsExactly(0, 5, 10, 15, 20, 25, 30, 35, 40, 45, Math.nextUp(49.0));
        assertThat(ref.proportions()).containsExactly(0, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0);
    }

    @Test
    void captureReference_capturedReferenceReused_givesSamePsi() {
        DriftMonitor first = DriftMonitor.builder().sampleEvery(1).captureReference(100).window(100).build();
        for (int i = 0; i < 200; i++) {
            first.observe(in(i % 100), out(0));
        }
        DriftMonitor.Reference saved = first.snapshot().get("f0").reference();

        DriftMonitor second = DriftMonitor.builder().sampleEvery(1).reference(Map.of("f0", saved)).window(100).build();
        for (int i = 0; i < 100; i++) {
            second.observe(in(i % 100), out(0));
        }

        assertThat(second.snapshot().get("f0").psi()).isCloseTo(first.snapshot().get("f0").psi(), within(1e-12));
        assertThat(second.snapshot().get("f0").reference()).isEqualTo(saved);
    }

    @Test
    void captureReference_longerThanWindow_psiComparesLatestWindow() {
        DriftMonitor monitor = DriftMonitor.builder().sampleEvery(1).captureReference(100).window(10).build();
        for (int i = 0; i < 100; i++) {
            monitor.observe(in(i), out(0));
        }

        DriftSnapshot.Stats f0 = monitor.snapshot().get("f0");
        // The window holds 90..99, the top tenth of the reference: one bin at 1.0 against 0.1.
        double expected = (1 - 0.1) * Math.log(1 / 0.1) + 9 * (1e-4 - 0.1) * Math.log(1e-4 / 0.1);
        assertThat(f0.count()).isEqualTo(10);
        assertThat(f0.psi()).isCloseTo(expected, within(1e-9));
    }

    @Test
    void listener_psiCrossesThresholdTwice_firesOncePerCrossing() {
        RecordingDriftListener listener = new RecordingDriftListener();
        DriftMonitor monitor = halfAndHalf().window(10).checkEvery(10).listener(listener).build();

        feed(monitor, 10, true);   // balanced: PSI 0
        feed(monitor, 10, false);  // all high: crosses
        feed(monitor, 10, false);  // still high: no new event
        feed(monitor, 10, true);   // back to 0: re-armed
        feed(monitor, 10, false);  // crosses again

        assertThat(listener.names()).containsExactly("f0", "score", "f0", "score");
        DriftEvent first = listener.events.get(0);
        // All ten in the upper bin: (1 - 0.5) ln(1 / 0.5) + (1e-4 - 0.5) ln(1e-4 / 0.5).
        assertThat(first.psi()).isCloseTo(0.5 * Math.log(2) + (1e-4 - 0.5) * Math.log(1e-4 / 0.5), within(1e-9));
        assertThat(first.threshold()).isEqualTo(0.2);
        assertThat(first.windowCount()).isEqualTo(10);
    }

    /** {@code n} records whose feature and score are 0 and 1 alternately ({@code balanced}) or all 1. */
    private static void feed(DriftMonitor monitor, int n, boolean balanced) {
        for (int i = 0; i < n; i++) {
            float v = balanced && i % 2 == 0 ? 0f : 1f;
            monitor.observe(in(v), out(v));
        }
    }

    @Test
    void listener_partFilledWindow_doesNotFire() {
        RecordingDriftListener listener = new RecordingDriftListener();
        DriftMonitor monitor = halfAndHalf().window(100).checkEvery(10).listener(listener).build();

        feed(monitor, 99, false);

        assertThat(listener.events).isEmpty();
        assertThat(monitor.snapshot().get("f0").psi()).isGreaterThan(0.2);
        feed(monitor, 1, false);
        assertThat(listener.names()).containsExactly("f0", "score");
    }

    @Test
    void listener_throws_observeDoesNotThrowAndKeepsCounting() {
        DriftMonitor monitor = halfAndHalf().window(10).checkEvery(10).listener(e -> {
            throw new IllegalStateException("listener bug");
        }).build();

        assertThatCode(() -> feed(monitor, 20, false)).doesNotThrowAnyException();
        assertThat(monitor.snapshot().observed()).isEqualTo(20);
        assertThat(monitor.snapshot().errors()).isZero();
    }

    @Test
    void psiThreshold_raised_stopsEventsBelowIt() {
        RecordingDriftListener listener = new RecordingDriftListener();
        DriftMonitor monitor = halfAndHalf().window(10).checkEvery(10).psiThreshold(10).listener(listener).build();

        feed(monitor, 30, false);

        assertThat(listener.events).isEmpty();
    }

    @Test
    void observe_missingFeaturesTensor_countsErrorAndDoesNotThrow() {
        DriftMonitor monitor = DriftMonitor.builder().features("features").build();

        assertThatCode(() -> monitor.observe(in(1, 2), out(1))).doesNotThrowAnyException();

        assertThat(monitor.snapshot().errors()).isEqualTo(1);
        assertThat(monitor.snapshot().observed()).isZero();
    }

    @Test
    void observe_missingScoreOutputOrElement_countsErrors() {
        DriftMonitor named = DriftMonitor.builder().score("probabilities", 1).build();
        DriftMonitor index = DriftMonitor.builder().score("score", 1).build();
        DriftMonitor empty = DriftMonitor.builder().build();

        named.observe(in(1), out(1));
        index.observe(in(1), out(1));
        empty.observe(in(1), Tensors.empty());
        empty.observe(Tensors.empty(), out(1));

        assertThat(named.snapshot().errors()).isEqualTo(1);
        assertThat(index.snapshot().errors()).isEqualTo(1);
        assertThat(empty.snapshot().errors()).isEqualTo(2);
    }

    @Test
    void observe_rowWidthChanges_countsErrorAndKeepsFirstLayout() {
        DriftMonitor monitor = DriftMonitor.builder().sampleEvery(1).build();

        monitor.observe(in(1, 2, 3), out(1));
        monitor.observe(in(1, 2), out(1));

        DriftSnapshot s = monitor.snapshot();
        assertThat(s.observed()).isEqualTo(1);
        assertThat(s.errors()).isEqualTo(1);
        assertThat(s.features()).hasSize(3);
    }

    @Test
    void observe_rowWidthDiffersFromFeatureNames_countsError() {
        DriftMonitor monitor = DriftMonitor.builder().featureNames(List.of("a", "b")).build();

        monitor.observe(in(1, 2, 3), out(1));

        assertThat(monitor.snapshot().errors()).isEqualTo(1);
    }

    @Test
    void observe_stringTensor_countsError() {
        DriftMonitor monitor = DriftMonitor.builder().build();

        monitor.observe(Tensors.of("input", Tensor.ofStrings(new String[] {"a"}, 1, 1)), out(1));

        assertThat(monitor.snapshot().errors()).isEqualTo(1);
    }

    @Test
    void observe_nanValues_countedAsMissingAndLeftOutOfStatistics() {
        DriftMonitor monitor = DriftMonitor.builder().sampleEvery(1).window(4).build();

        monitor.observe(in(1), out(Float.NaN));
        monitor.observe(in(Float.NaN), out(Float.NaN));
        monitor.observe(in(3), out(Float.NaN));

        DriftSnapshot.Stats f0 = monitor.snapshot().get("f0");
        assertThat(f0.count()).isEqualTo(3);
        assertThat(f0.missing()).isEqualTo(1);
        assertThat(f0.mean()).isEqualTo(2);
        DriftSnapshot.Stats score = monitor.snapshot().score();
        assertThat(score.missing()).isEqualTo(3);
        assertThat(score.mean()).isNaN();
        assertThat(score.p50()).isNaN();
    }

    @Test
    void features_namedTensorAndScoreElement_readThoseValues() {
        DriftMonitor monitor = DriftMonitor.builder().sampleEvery(1).features("x").score("probabilities", 0).build();
        Tensors inputs = Tensors.of("ids", Tensor.ofLongs(new long[] {7}, 1, 1), "x",
                Tensor.ofDoubles(new double[] {0.25, 0.5}, 1, 2));
        Tensors outputs = Tensors.of("label", Tensor.ofLongs(new long[] {1}, 1), "probabilities",
                Tensor.ofFloats(new float[] {0.9f, 0.1f}, 1, 2));

        monitor.observe(inputs, outputs);

        DriftSnapshot s = monitor.snapshot();
        assertThat(s.errors()).isZero();
        assertThat(s.get("f1").mean()).isEqualTo(0.5);
        assertThat(s.score().mean()).isCloseTo(0.9, within(1e-6));
    }

    @Test
    void score_default_isLastElementOfFirstOutput() {
        DriftMonitor monitor = DriftMonitor.builder().sampleEvery(1).build();

        monitor.observe(in(1), Tensors.of("probabilities", Tensor.ofFloats(new float[] {0.75f, 0.25f}, 1, 2)));

        assertThat(monitor.snapshot().score().mean()).isEqualTo(0.25);
    }

    @Test
    void sampleEvery_four_observesAboutAQuarter() {
        DriftMonitor monitor = DriftMonitor.builder().sampleEvery(4).build();
        for (int i = 0; i < 40_000; i++) {
            monitor.observe(in(i), out(0));
        }

        // Binomial(40,000, 1/4): mean 10,000, standard deviation 87.
        assertThat(monitor.snapshot().observed()).isBetween(9_000L, 11_000L);
        assertThat(monitor.snapshot().sampleEvery()).isEqualTo(4);
    }

    @Test
    void sampleEvery_default_followsRowWidth() {
        DriftMonitor narrow = DriftMonitor.builder().build();
        DriftMonitor wide = DriftMonitor.builder().featureNames(names(30)).build();

        narrow.observe(in(1, 2, 3), out(1));

        assertThat(narrow.snapshot().sampleEvery()).isEqualTo(1);
        assertThat(wide.snapshot().sampleEvery()).isEqualTo(8);
    }

    private static List<String> names(int n) {
        return java.util.stream.IntStream.range(0, n).mapToObj(i -> "x" + i).toList();
    }

    @Test
    void snapshot_unknownName_failsListingFeatures() {
        DriftMonitor monitor = DriftMonitor.builder().featureNames(List.of("amount")).build();

        assertThatThrownBy(() -> monitor.snapshot().get("amout"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("no feature named 'amout' (have [amount] and 'score')");
    }

    @Test
    void builder_optionSetTwice_fails() {
        assertThatThrownBy(() -> DriftMonitor.builder().window(10).window(20))
                .isInstanceOf(IllegalStateException.class).hasMessage("window was already set to 10");
        assertThatThrownBy(() -> DriftMonitor.builder().score("a", 0).score("b", 1))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> DriftMonitor.builder().psiThreshold(0.1).psiThreshold(0.2))
                .isInstanceOf(IllegalStateException.class);
        DriftMonitor.Builder used = DriftMonitor.builder();
        used.build();
        assertThatThrownBy(used::build).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void builder_outOfRangeValues_fail() {
        assertThatThrownBy(() -> DriftMonitor.builder().window(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("window must be positive, got 0");
        assertThatThrownBy(() -> DriftMonitor.builder().bins(1))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("bins must be from 2 to 100, got 1");
        assertThatThrownBy(() -> DriftMonitor.builder().psiThreshold(Double.NaN))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DriftMonitor.builder().score("p", -1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DriftMonitor.builder().featureNames(List.of("a", "a")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("featureNames: expected distinct names, got 'a' twice");
        assertThatThrownBy(() -> DriftMonitor.builder().featureNames(List.of("score")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'score' is reserved");
    }

    @Test
    void builder_referenceForUnknownFeature_failsAtBuild() {
        DriftMonitor.Reference r = new DriftMonitor.Reference(new double[0], new double[] {1});

        assertThatThrownBy(() -> DriftMonitor.builder().featureNames(List.of("amount"))
                .reference(Map.of("amout", r)).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("reference 'amout' names no feature; expected one of [amount] or 'score'");
        assertThatThrownBy(() -> DriftMonitor.builder().reference(Map.of("amount", r)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("f0, f1");
        assertThatCode(() -> DriftMonitor.builder().reference(Map.of("f12", r, "score", r)).build())
                .doesNotThrowAnyException();
    }

    @Test
    void builder_windowTooLargeForAnArray_failsAtBuild() {
        assertThatThrownBy(() -> DriftMonitor.builder().featureNames(names(999)).window(10_000_000).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("use a smaller window");
    }

    @Test
    void reference_invalidArrays_failWithReason() {
        assertThatThrownBy(() -> new DriftMonitor.Reference(new double[] {1, 1}, new double[] {0.3, 0.3, 0.4}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("reference edges: expected strictly ascending numbers, got 1.0 after 1.0");
        assertThatThrownBy(() -> new DriftMonitor.Reference(new double[] {1}, new double[] {1}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("reference proportions: expected 2 proportions (one more than the edges), got 1");
        assertThatThrownBy(() -> new DriftMonitor.Reference(new double[] {1}, new double[] {0.5, 0.4}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("reference proportions: expected proportions summing to 1, got a sum of 0.9");
        assertThatThrownBy(() -> new DriftMonitor.Reference(new double[] {1}, new double[] {-0.5, 1.5}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("reference proportions: expected numbers of 0 or more, got -0.5");
    }

    @Test
    void reference_arrays_areCopiedAndProportionsScaledToOne() {
        double[] edges = {0.5};
        double[] proportions = {0.499, 0.499};
        DriftMonitor.Reference r = new DriftMonitor.Reference(edges, proportions);
        edges[0] = 9;
        r.edges()[0] = 9;

        assertThat(r.edges()).containsExactly(0.5);
        assertThat(r.proportions()).containsExactly(0.5, 0.5);
        assertThat(r).isEqualTo(new DriftMonitor.Reference(new double[] {0.5}, new double[] {0.5, 0.5}))
                .hasSameHashCodeAs(new DriftMonitor.Reference(new double[] {0.5}, new double[] {0.5, 0.5}));
        assertThat(r).hasToString("Reference[edges=[0.5], proportions=[0.5, 0.5]]");
    }
}
