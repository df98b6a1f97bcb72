package dev.nearline.core;

import static dev.nearline.core.Fixtures.ROW;
import static dev.nearline.core.Fixtures.SCORE;
import static dev.nearline.core.Fixtures.failureOf;
import static dev.nearline.core.Fixtures.linear;
import static dev.nearline.core.Fixtures.row;
import static dev.nearline.core.Fixtures.scoringFailure;
import static dev.nearline.core.Fixtures.valueOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.api.Scorer;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** scoreAsync, admission control and close(). */
@ExtendWith(ModelLeakChecker.class)
class ScorerLifecycleTest {
    private final ExecutorService callers = Executors.newCachedThreadPool();

    @AfterEach
    void stopCallers() throws InterruptedException {
        callers.shutdownNow();
        assertThat(callers.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void scoreAsync_validRecord_completesWithSameResultAsScore() {
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(linear()).build(SCORE)) {
            float expected = scorer.score(row(1, 2, 3));

            assertThat(valueOf(scorer.scoreAsync(row(1, 2, 3)))).isEqualTo(expected);
        }
    }

    @Test
    void scoreAsync_invalidRecord_completesExceptionallyWithInvalidInput() {
        FakeLinearModel model = linear();
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(model).build(SCORE)) {
            assertThat(failureOf(scorer.scoreAsync(row(1, 2))).kind()).isEqualTo(Kind.INVALID_INPUT);
            assertThat(failureOf(scorer.scoreAsync(null)).kind()).isEqualTo(Kind.INVALID_INPUT);
            assertThat(model.predictCalls).hasValue(0);
        }
    }

    @Test
    void scoreAsync_queueFull_failsFastWithOverloaded() throws InterruptedException {
        BlockingModel model = new BlockingModel(1);
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(model)
                .asyncThreads(1).asyncQueueCapacity(1).build(SCORE)) {
            CompletableFuture<Float> running = scorer.scoreAsync(row(1));
            assertThat(model.entered.await(10, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Float> queued = scorer.scoreAsync(row(2));

            CompletableFuture<Float> refused = scorer.scoreAsync(row(3));

            assertThat(refused).isCompletedExceptionally();
            ScoringException e = failureOf(refused);
            assertThat(e.kind()).isEqualTo(Kind.OVERLOADED);
            assertThat(e.isRetryable()).isTrue();
            assertThat(e.getMessage()).contains("queue is full");
            model.release.countDown();
            assertThat(valueOf(running)).isEqualTo(1f);
            assertThat(valueOf(queued)).isEqualTo(2f);
            assertThat(model.predictCalls).hasValue(2);
        }
    }

    @Test
    void close_withQueuedAsyncRecords_failsThemWithUnavailableAndLetsRunningOneFinish() throws InterruptedException {
        BlockingModel model = new BlockingModel(1);
        Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(model)
                .asyncThreads(1).asyncQueueCapacity(2).closeGracePeriod(Duration.ZERO).build(SCORE);
        CompletableFuture<Float> running = scorer.scoreAsync(row(1));
        assertThat(model.entered.await(10, TimeUnit.SECONDS)).isTrue();
        CompletableFuture<Float> queued1 = scorer.scoreAsync(row(2));
        CompletableFuture<Float> queued2 = scorer.scoreAsync(row(3));

        scorer.close();

        assertThat(queued1).isCompletedExceptionally();
        assertThat(queued2).isCompletedExceptionally();
        assertThat(failureOf(queued1).kind()).isEqualTo(Kind.UNAVAILABLE);
        assertThat(failureOf(queued2).kind()).isEqualTo(Kind.UNAVAILABLE);
        assertThat(model.isClosed()).as("model closed under a running record").isFalse();
        model.release.countDown();
        assertThat(valueOf(running)).as("the record in flight finishes normally").isEqualTo(1f);
        assertThat(List.of(running, queued1, queued2)).allMatch(CompletableFuture::isDone);
        assertThat(model.predictCalls).hasValue(1);
        assertThat(model.awaitClosed()).isTrue();
    }

    @Test
    void scoreAsync_afterClose_failsWithUnavailable() {
        Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(linear()).build(SCORE);
        scorer.close();

        CompletableFuture<Float> f = scorer.scoreAsync(row(1, 2, 3));

        assertThat(f).isCompletedExceptionally();
        assertThat(failureOf(f).kind()).isEqualTo(Kind.UNAVAILABLE);
    }

    @Test
    void score_afterClose_failsWithUnavailable() {
        FakeLinearModel model = linear();
        Scorer<float[], Float> scorer = Pipeline.builder(ROW).name("fraud").model(model).build(SCORE);
        scorer.close();

        ScoringException e = scoringFailure(() -> scorer.score(row(1, 2, 3)));

        assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE);
        assertThat(e.getMessage()).contains("'fraud'", "closed");
        assertThat(scoringFailure(() -> scorer.score(row(1, 2, 3), Duration.ofSeconds(1))).kind())
                .isEqualTo(Kind.UNAVAILABLE);
        assertThat(scoringFailure(() -> scorer.scoreAll(List.of(row(1, 2, 3)))).kind()).isEqualTo(Kind.UNAVAILABLE);
        assertThat(model.predictCalls).hasValue(0);
    }

    @Test
    void close_calledTwice_closesEveryModelExactlyOnce() {
        FakeLinearModel first = linear();
        FakeLinearModel second = new FakeLinearModel("score", "final", new float[] {2}, 0);
        Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(first).model(second)
                .build(out -> out.require("final").floatAt(0));
        assertThat(scorer.score(row(1, 2, 3))).isEqualTo(2 * first.expected(row(1, 2, 3)));

        scorer.close();
        scorer.close();

        assertThat(first.closeCalls).hasValue(1);
        assertThat(second.closeCalls).hasValue(1);
    }

    @Test
    void close_modelCloseThrows_stillClosesOtherModels() {
        FakeLinearModel failing = new FakeLinearModel(Fixtures.WEIGHTS, 0) {
            @Override
            public void close() {
                super.close();
                throw new IllegalStateException("close failed");
            }
        };
        FakeLinearModel second = new FakeLinearModel("score", "final", new float[] {1}, 0);
        Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(failing).model(second).build(SCORE);

        scorer.close();

        assertThat(failing.closeCalls).hasValue(1);
        assertThat(second.closeCalls).hasValue(1);
    }

    @Test
    void close_recordBlockedInModelAndZeroGrace_closesModelOnlyWhenRecordReturns() throws InterruptedException {
        BlockingModel model = new BlockingModel(1);
        Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(model).closeGracePeriod(Duration.ZERO).build(SCORE);
        CompletableFuture<Float> inFlight = CompletableFuture.supplyAsync(() -> scorer.score(row(4)), callers);
        assertThat(model.entered.await(10, TimeUnit.SECONDS)).isTrue();

        scorer.close();

        assertThat(model.isClosed()).isFalse();
        assertThat(failureOf(scorer.scoreAsync(row(1))).kind()).isEqualTo(Kind.UNAVAILABLE);
        model.release.countDown();
        assertThat(valueOf(inFlight)).isEqualTo(4f);
        assertThat(model.closeCalls).hasValue(1);
    }

    @Test
    void close_recordInFlightWithinGrace_waitsForItThenClosesModel() throws InterruptedException {
        BlockingModel model = new BlockingModel(1);
        Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(model)
                .closeGracePeriod(Duration.ofSeconds(30)).build(SCORE);
        CompletableFuture<Float> inFlight = CompletableFuture.supplyAsync(() -> scorer.score(row(5)), callers);
        assertThat(model.entered.await(10, TimeUnit.SECONDS)).isTrue();

        CompletableFuture<Void> closing = CompletableFuture.runAsync(scorer::close, callers);

        // close() cannot return while the record is held in the model.
        assertThat(closing).isNotDone();
        model.release.countDown();
        valueOf(closing);
        assertThat(valueOf(inFlight)).isEqualTo(5f);
        assertThat(model.closeCalls).hasValue(1);
    }

    @Test
    void close_asyncRecordBlockedInModel_isNotInterrupted() throws InterruptedException {
        BlockingModel model = new BlockingModel(1);
        Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(model).asyncThreads(1)
                .closeGracePeriod(Duration.ZERO).build(SCORE);
        CompletableFuture<Float> running = scorer.scoreAsync(row(7));
        assertThat(model.entered.await(10, TimeUnit.SECONDS)).isTrue();

        scorer.close();
        model.release.countDown();

        assertThat(valueOf(running)).isEqualTo(7f);
        assertThat(model.awaitClosed()).isTrue();
    }
}
