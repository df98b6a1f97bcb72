package dev.nearline.keda.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The engine's derived bounds. */
class WorkerEngineTest {

    @Test
    void callTimeout_lockAndDrain_isTheSmallerShareWithAOneSecondFloor() {
        // defaults: lock 60 s / 4 = 15 s, drain 20 s / 2 = 10 s
        assertThat(WorkerEngine.callTimeout(Duration.ofSeconds(60), Duration.ofSeconds(20))).isEqualTo(Duration.ofSeconds(10));
        // a short lock: 20 s / 4 = 5 s
        assertThat(WorkerEngine.callTimeout(Duration.ofSeconds(20), Duration.ofSeconds(20))).isEqualTo(Duration.ofSeconds(5));
        // no drain, or a tiny lock: a round trip still gets a second
        assertThat(WorkerEngine.callTimeout(Duration.ofSeconds(60), Duration.ZERO)).isEqualTo(Duration.ofSeconds(1));
        assertThat(WorkerEngine.callTimeout(Duration.ofSeconds(2), Duration.ofSeconds(20))).isEqualTo(Duration.ofSeconds(1));
    }
}
