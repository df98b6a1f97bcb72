package dev.nearline.benchmarks.capacity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.nearline.benchmarks.capacity.KedaScalingSimulator.Result;
import dev.nearline.benchmarks.capacity.KedaScalingSimulator.Sample;
import dev.nearline.benchmarks.capacity.KedaScalingSimulator.Settings;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The simulator against cases computed by hand from the documented formulas (see the class doc). */
class KedaScalingSimulatorTest {

    /**
     * messageCount 64, activation 0, polling 10 s, cooldown 300 s, HPA 15 s / 0.1 / 0 s / 300 s, no latency in
     * pods (the metric is the backlog alone).
     */
    private static Settings settings(int minReplicas, int maxReplicas, int podReadySeconds, double podRate) {
        return new Settings(64, 0, 10, 300, minReplicas, maxReplicas, 15, 0.1, 0, 300, podReadySeconds, podRate, 0);
    }

    private static Sample at(Result r, int second) {
        return r.samples().stream().filter(s -> s.second() == second).findFirst().orElseThrow();
    }

    @Test
    void recommend_followsCeilOfMetricOverTargetOutsideTheTolerance() {
        assertThat(KedaScalingSimulator.recommend(130, 64, 1, 0.1)).as("130/64 = 2.03 -> 3").isEqualTo(3);
        assertThat(KedaScalingSimulator.recommend(68, 64, 1, 0.1)).as("ratio 1.06 is within 0.1").isEqualTo(1);
        assertThat(KedaScalingSimulator.recommend(70.5, 64, 1, 0.1)).as("ratio 1.10 is outside").isEqualTo(2);
        assertThat(KedaScalingSimulator.recommend(600, 64, 10, 0.1)).as("600/640 = 0.94: hold").isEqualTo(10);
        assertThat(KedaScalingSimulator.recommend(0, 64, 3, 0.1)).isZero();
    }

    @Test
    void run_fromZero_activatesAtThePollThenTheHpaScalesOnTheBacklog() {
        // 10 messages/s from second 3 to 19; controllers read the state at the start of a second. KEDA polls at
        // 0, 10, 20...: at 10 the queue holds the arrivals of 3..9 = 70 > 0, so 1 replica, ready at 15. HPA at
        // 15: 120 queued (3..14), 120/64 = 1.875 -> 2. At 15 the pod serves 100 of the 130: the cohorts of
        // 3..12, waits 12..3, so p99 12 s.
        KedaScalingSimulator sim = new KedaScalingSimulator(settings(0, 20, 5, 100));
        Result r = sim.run(t -> t >= 3 && t < 20 ? 10 : 0, 400, 1);

        assertThat(at(r, 9).replicas()).isZero();
        assertThat(at(r, 10).replicas()).isEqualTo(1);
        assertThat(at(r, 13).readyPods()).isZero();
        assertThat(at(r, 14).readyPods()).as("serving from 15, the end of second 14").isEqualTo(1);
        assertThat(at(r, 15).replicas()).isEqualTo(2);
        assertThat(at(r, 15).queue()).isCloseTo(30, within(1e-9));
        assertThat(at(r, 15).waitP99Seconds()).isEqualTo(12);
        assertThat(at(r, 19).readyPods()).as("the one added at 15 serves from 20").isEqualTo(2);
        // Last active poll at 10 (at 20 the queue is empty): 0 replicas at the first poll 300 s later, 310. Until
        // then the scale-down window (300 s) keeps the HPA's 2, recommended at 15.
        assertThat(at(r, 305).replicas()).isEqualTo(2);
        assertThat(at(r, 309).replicas()).isEqualTo(2);
        assertThat(at(r, 310).replicas()).isZero();
        assertThat(r.waitP99Seconds()).as("p99 over all messages").isEqualTo(12);
    }

    @Test
    void run_hugeBacklog_scalesUpByAtMostDoubleOrFourPodsPer15Seconds() {
        // 6400 messages at second 0, pods too slow to make a dent: the HPA sees them from the sync at 15 and
        // wants ceil(6400/64) = 100, at most max(2 x current, current + 4) per 15 s, then maxReplicaCount 20.
        KedaScalingSimulator sim = new KedaScalingSimulator(settings(1, 20, 0, 0.001));
        Result r = sim.run(t -> t == 0 ? 6400 : 0, 76, 1);
        assertThat(at(r, 14).replicas()).isEqualTo(1);
        assertThat(at(r, 15).replicas()).as("max(2 x 1, 1 + 4)").isEqualTo(5);
        assertThat(at(r, 29).replicas()).isEqualTo(5);
        assertThat(at(r, 30).replicas()).as("max(2 x 5, 5 + 4)").isEqualTo(10);
        assertThat(at(r, 45).replicas()).as("max(2 x 10, 10 + 4), capped at 20").isEqualTo(20);
        assertThat(r.maxReplicas()).isEqualTo(20);
    }

    @Test
    void run_metricWithinTheTolerance_keepsTheReplicas() {
        KedaScalingSimulator hold = new KedaScalingSimulator(settings(1, 20, 0, 1e-6));
        assertThat(hold.run(t -> t == 0 ? 68 : 0, 31, 1).maxReplicas()).as("68/64 = 1.06").isEqualTo(1);
        KedaScalingSimulator grow = new KedaScalingSimulator(settings(1, 20, 0, 1e-6));
        assertThat(grow.run(t -> t == 0 ? 71 : 0, 31, 1).maxReplicas()).as("71/64 = 1.11").isEqualTo(2);
    }

    @Test
    void run_inFlightMessages_countAsActiveByLittlesLaw() {
        // one pod serving all of 1000/s, 64 ms per message: 64 locked on average, exactly the target: hold 1
        Settings full = new Settings(64, 0, 10, 300, 1, 20, 15, 0.1, 0, 300, 0, 1000, 0.064);
        assertThat(new KedaScalingSimulator(full).run(t -> 1000, 61, 1).maxReplicas()).isEqualTo(1);
        // 200 ms per message: 200 locked, ceil(200/64) = 4 pods with an empty backlog
        Settings slow = new Settings(64, 0, 10, 300, 1, 20, 15, 0.1, 0, 300, 0, 1000, 0.2);
        Result r = new KedaScalingSimulator(slow).run(t -> 1000, 61, 1);
        assertThat(r.maxQueue()).isZero();
        assertThat(at(r, 15).replicas()).isEqualTo(4);
    }

    @Test
    void run_scaleDownWindow_holdsTheHighestRecommendationOfTheWindow() {
        // 740 messages at second 14, pods of 100/s: the sync at 15 sees 640 queued and recommends 10, of which
        // max(2 x 1, 1 + 4) = 5 are allowed; the 5 pods empty the queue by 16 and every later recommendation
        // is 0. With a 120 s window the 10 of second 15 counts until the sync at 135, which scales down to 1.
        Settings s = new Settings(64, 0, 10, 300, 1, 20, 15, 0.1, 0, 120, 0, 100, 0);
        Result r = new KedaScalingSimulator(s).run(t -> t == 14 ? 740 : 0, 200, 1);
        assertThat(at(r, 15).replicas()).isEqualTo(5);
        assertThat(at(r, 16).queue()).isZero();
        assertThat(at(r, 134).replicas()).isEqualTo(5);
        assertThat(at(r, 135).replicas()).isEqualTo(1);
        // without a window the first sync after the burst scales down
        Result noWindow = new KedaScalingSimulator(s.with(64, 0, 10)).run(t -> t == 14 ? 740 : 0, 200, 1);
        assertThat(at(noWindow, 29).replicas()).isEqualTo(5);
        assertThat(at(noWindow, 30).replicas()).isEqualTo(1);
    }

    @Test
    void run_capacityBelowArrivals_backlogGrowsByTheDifference() {
        // min = max = 1 pod of 50/s, 100/s arriving: the queue ends second t at 50 (t + 1).
        Result one = new KedaScalingSimulator(settings(1, 1, 0, 50)).run(t -> 100, 100, 10);
        assertThat(one.samples().get(9).queue()).isCloseTo(5000, within(1e-6));
        // the last message served by 99 arrived at 49 (2 x 50 arrive per second, 50 served): wait 50 s
        assertThat(one.samples().get(9).waitP99Seconds()).isEqualTo(50);
        Result two = new KedaScalingSimulator(settings(2, 2, 0, 50)).run(t -> 100, 100, 10);
        assertThat(two.maxQueue()).isZero();
        assertThat(two.waitP99Seconds()).isZero();
        assertThat(two.podSeconds()).isEqualTo(200);
    }

    @Test
    void p99_weightedWaits_isTheWaitWhere99PercentAreServed() {
        assertThat(KedaScalingSimulator.p99(List.of(new double[] {0, 98}, new double[] {5, 1}, new double[] {10, 1})))
                .isEqualTo(5);
        assertThat(KedaScalingSimulator.p99(List.of())).isZero();
    }

    @Test
    void settings_invalid_failsNamingTheSettings() {
        assertThatThrownBy(() -> new Settings(0, 0, 10, 300, 0, 20, 15, 0.1, 0, 300, 5, 100, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("messageCount=0");
    }
}
