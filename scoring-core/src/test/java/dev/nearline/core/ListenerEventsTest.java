package dev.nearline.core;

import static dev.nearline.core.Fixtures.ROW;
import static dev.nearline.core.Fixtures.row;
import static dev.nearline.core.Fixtures.scoringFailure;
import static dev.nearline.core.Fixtures.valueOf;

import dev.nearline.core.testing.RecordingScoringListener;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The listener's events, in order, on every path: the documented order is each step's call, then one outcome. */
@ExtendWith(ModelLeakChecker.class)
class ListenerEventsTest {
    private final RecordingScoringListener events = new RecordingScoringListener();

    private ManagedScorer<float[], Float> twoSteps(Pipeline.BatchMode batching) {
        Pipeline.Builder<float[]> b = Pipeline.builder(ROW).listener(events).model("a", Fixtures.linear())
                .model("b", new FakeLinearModel("score", "final", new float[] {2}, 0));
        if (batching != null) {
            b.batching(8, Duration.ofMillis(1), batching);
        }
        return b.build(out -> out.require("final").floatAt(0));
    }

    @Test
    void score_twoSteps_eachStepThenTheOutcome() {
        try (ManagedScorer<float[], Float> scorer = twoSteps(null)) {
            scorer.score(row(1, 2, 3));
            events.assertEvents("stepCompleted a 1", "stepCompleted b 1", "recordScored");

            scoringFailure(() -> scorer.score(row(1)));
            events.assertEvents("recordFailed INVALID_INPUT");
        }
    }

    @Test
    void scoreAsync_poolAndMicroBatcher_sameOrderAsScore() {
        for (Pipeline.BatchMode mode : new Pipeline.BatchMode[] {null, Pipeline.BatchMode.ALWAYS}) {
            try (ManagedScorer<float[], Float> scorer = twoSteps(mode)) {
                valueOf(scorer.scoreAsync(row(1, 2, 3)));
                events.assertEvents("stepCompleted a 1", "stepCompleted b 1", "recordScored");
                scorer.score(row(1, 2, 3));
                events.assertEvents("stepCompleted a 1", "stepCompleted b 1", "recordScored");
            }
        }
    }

    @Test
    void scoreAll_withABadRecord_oneCallPerStepThenOutcomesInRecordOrder() {
        try (ManagedScorer<float[], Float> scorer = twoSteps(null)) {
            scorer.scoreAll(List.of(row(1, 2, 3), row(1), row(3, 2, 1)));
            events.assertEvents("stepCompleted a 2", "stepCompleted b 2", "recordScored", "recordFailed INVALID_INPUT",
                    "recordScored");
        }
    }

    @Test
    void score_overloaded_onlyTheFailure() throws Exception {
        BlockingModel model = new BlockingModel(1);
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(ROW).listener(events).model("m", model)
                .maxInFlight(1).build(Fixtures.SCORE)) {
            var running = java.util.concurrent.CompletableFuture.supplyAsync(() -> scorer.score(row(1)));
            model.entered.await(10, java.util.concurrent.TimeUnit.SECONDS);
            scoringFailure(() -> scorer.score(row(2)));
            events.assertEvents("recordFailed OVERLOADED");
            model.release.countDown();
            valueOf(running);
            events.assertEvents("stepCompleted m 1", "recordScored");
        }
    }
}
