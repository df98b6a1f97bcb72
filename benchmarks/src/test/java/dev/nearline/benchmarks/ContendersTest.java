package dev.nearline.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Runs each benchmark's setup, one call of every method, and its teardown, so that the suite cannot
 * rot between runs: the contenders must load both models and agree on the score.
 */
class ContendersTest {

    @BeforeAll
    static void startDjlFirst() {
        Djl.startEngine();
    }

    @Test
    void overhead_bothModels_allContendersAgreeAndClose() throws Exception {
        for (String model : new String[] {"tiny", "mlp"}) {
            OverheadBenchmark b = new OverheadBenchmark();
            b.model = model;
            b.setUp(); // fails unless the four contenders compute the same score
            OverheadBenchmark.Pinned pinned = new OverheadBenchmark.Pinned();
            OverheadBenchmark.InputBuffer buffer = new OverheadBenchmark.InputBuffer();
            OverheadBenchmark.DjlPredictor djl = new OverheadBenchmark.DjlPredictor();
            try {
                pinned.setUp(b);
                buffer.setUp(b);
                djl.setUp(b);
                float expected = b.rawOrt(buffer);
                assertThat(b.rawOrtPinned(pinned)).isEqualTo(expected);
                assertThat(b.nearline()).isEqualTo(expected);
                assertThat(b.nearlineLambda()).isEqualTo(expected);
                assertThat(b.djl(djl)).isEqualTo(expected);
                OverheadBenchmark.KeyCursor cursor = new OverheadBenchmark.KeyCursor();
                assertThat(b.nearlineKeyed(cursor)).isEqualTo(expected);
                assertThat(b.nearlineQuality(cursor)).isEqualTo(expected);
                assertThat(b.nearlineChallenger(cursor)).isEqualTo(expected);
            } finally {
                pinned.tearDown();
                djl.tearDown();
                b.tearDown();
            }
            assertThat(b.dir).doesNotExist();
        }
    }

    @Test
    void concurrency_everyStyleAndBatching_scores() throws Exception {
        for (String style : new String[] {"sync", "async"}) {
            for (String batching : new String[] {"off", "auto", "always"}) {
                ConcurrencyBenchmark b = new ConcurrencyBenchmark();
                b.model = "tiny";
                b.style = style;
                b.batching = batching;
                b.setUp();
                try {
                    assertThat(b.callers01()).isBetween(0f, 1f);
                } finally {
                    b.tearDown();
                }
            }
        }
    }
}
