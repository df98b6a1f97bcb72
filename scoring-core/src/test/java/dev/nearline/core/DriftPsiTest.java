package dev.nearline.core;

import static dev.nearline.core.DriftMonitorTest.in;
import static dev.nearline.core.DriftMonitorTest.out;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The population stability index on distributions whose value can be worked out by hand. */
class DriftPsiTest {
    private static final double EPS = 1e-4;

    /** PSI term of one bin, as the monitor computes it: both proportions at least 1e-4. */
    private static double term(double actual, double expected) {
        double a = Math.max(actual, EPS);
        double e = Math.max(expected, EPS);
        return (a - e) * Math.log(a / e);
    }

    @Test
    void psi_sameProportionsAsReference_isZero() {
        DriftMonitor monitor = DriftMonitor.builder().sampleEvery(1).window(100).reference(Map.of("f0",
                new DriftMonitor.Reference(new double[] {0.5}, new double[] {0.5, 0.5}))).build();
        for (int i = 0; i < 100; i++) {
            monitor.observe(in(i % 2), out(0));
        }

        assertThat(monitor.snapshot().get("f0").psi()).isEqualTo(0);
    }

    @Test
    void psi_threeQuartersBelowHalf_matchesHandComputedValue() {
        DriftMonitor monitor = DriftMonitor.builder().sampleEvery(1).window(100).reference(Map.of("f0",
                new DriftMonitor.Reference(new double[] {0.5}, new double[] {0.5, 0.5}))).build();
        for (int i = 0; i < 100; i++) {
            monitor.observe(in(i % 4 == 0 ? 1 : 0), out(0));
        }

        // (0.75 - 0.5) ln(0.75 / 0.5) + (0.25 - 0.5) ln(0.25 / 0.5) = 0.25 ln 1.5 + 0.25 ln 2
        assertThat(monitor.snapshot().get("f0").psi()).isCloseTo(0.2746530721670274, within(1e-12));
    }

    @Test
    void psi_binEdgeValue_belongsToUpperBin() {
        DriftMonitor monitor = DriftMonitor.builder().sampleEvery(1).window(10).reference(Map.of("f0",
                new DriftMonitor.Reference(new double[] {0.5}, new double[] {0.5, 0.5}))).build();
        for (int i = 0; i < 10; i++) {
            monitor.observe(in(0.5f), out(0));
        }

        assertThat(monitor.snapshot().get("f0").psi()).isCloseTo(term(0, 0.5) + term(1, 0.5), within(1e-12));
    }

    @Test
    void psi_capturedReferenceThenShiftByHalfItsRange_matchesHandComputedValue() {
        DriftMonitor monitor = DriftMonitor.builder().sampleEvery(1).captureReference(1000).window(1000).build();
        for (int i = 0; i < 1000; i++) {
            monitor.observe(in(i), out(0));
        }
        assertThat(monitor.snapshot().get("f0").psi()).isCloseTo(0, within(1e-12));

        for (int i = 500; i < 1500; i++) {
            monitor.observe(in(i), out(0));
        }

        // Reference 0..999: bins below 0 (empty), ten of 100 values each, above 999 (empty). Window
        // 500..1499: the lower five tenths empty, the upper five 0.1 each, half above the reference.
        double expected = 5 * term(0, 0.1) + 5 * term(0.1, 0.1) + term(0.5, 0) + term(0, 0);
        assertThat(monitor.snapshot().get("f0").psi()).isCloseTo(expected, within(1e-9)).isGreaterThan(0.2);
    }

    @Test
    void psi_sameDistributionNewSample_staysWellBelowThreshold() {
        Random random = new Random(42);
        DriftMonitor monitor = DriftMonitor.builder().sampleEvery(1).captureReference(10_000).window(10_000).build();
        for (int i = 0; i < 30_000; i++) {
            monitor.observe(in((float) random.nextGaussian()), out(random.nextFloat()));
        }

        DriftSnapshot s = monitor.snapshot();
        // Two independent samples of 10,000 from one distribution, 12 bins: PSI around 0.002.
        assertThat(s.get("f0").psi()).isLessThan(0.02);
        assertThat(s.score().psi()).isLessThan(0.02);
    }

    @Test
    void psi_meanShiftOfOneStandardDeviation_isAboveThreshold() {
        Random random = new Random(7);
        DriftMonitor monitor = DriftMonitor.builder().sampleEvery(1).captureReference(10_000).window(10_000).build();
        for (int i = 0; i < 10_000; i++) {
            monitor.observe(in((float) random.nextGaussian()), out(0));
        }
        for (int i = 0; i < 10_000; i++) {
            monitor.observe(in((float) random.nextGaussian() + 1), out(0));
        }

        // About 1.0 for ten quantile bins of a unit normal shifted by one.
        assertThat(monitor.snapshot().get("f0").psi()).isBetween(0.7, 1.5);
    }

    @Test
    void capturedReference_twoDistinctValues_getsOneBinEach() {
        DriftMonitor monitor = DriftMonitor.builder().sampleEvery(1).captureReference(10).build();
        for (int i = 0; i < 10; i++) {
            monitor.observe(in(i < 7 ? 0 : 1), out(0.5f));
        }

        DriftMonitor.Reference f0 = monitor.snapshot().get("f0").reference();
        DriftMonitor.Reference score = monitor.snapshot().score().reference();
        assertThat(f0.edges()).containsExactly(0, 1, Math.nextUp(1.0));
        assertThat(f0.proportions()).containsExactly(0, 0.7, 0.3, 0);
        // A constant: one bin for the value, one on either side, so any change shows.
        assertThat(score.edges()).containsExactly(0.5, Math.nextUp(0.5));
        assertThat(score.proportions()).containsExactly(0, 1, 0);
    }
}
