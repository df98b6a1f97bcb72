package dev.nearline.core;

import static dev.nearline.core.Fixtures.ROW;
import static dev.nearline.core.Fixtures.SCORE;
import static dev.nearline.core.Fixtures.row;
import static dev.nearline.core.Fixtures.scoringFailure;
import static dev.nearline.core.Fixtures.valueOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.api.ScoringException.Kind;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Admission counts: every count a record takes is given back exactly once, on every path, so a few bad records
 * can never take a scorer out of service, and a record is never counted twice against {@code maxInFlight}.
 */
@ExtendWith(ModelLeakChecker.class)
class AdmissionTest {
    private final ExecutorService callers = Executors.newFixedThreadPool(4);

    @AfterEach
    void tearDown() throws InterruptedException {
        callers.shutdownNow();
        assertThat(callers.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }

    /** Waits up to 10 s for {@code condition}, polling; fails if it never holds. */
    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - until > 0) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(1); // polling for an event, not synchronising on time
        }
    }

    @Test
    void score_batchingAlwaysAndRecordsFailingValidation_releaseEverySlot() {
        FakeLinearModel model = Fixtures.linear();
        ManagedScorer<float[], Float> scorer = Pipeline.builder(ROW).model("fraud", model).maxInFlight(2)
                .batching(8, Duration.ofMillis(1), Pipeline.BatchMode.ALWAYS).closeGracePeriod(Duration.ofSeconds(30))
                .build(SCORE);
        for (int i = 0; i < 2; i++) {
            assertThat(scoringFailure(() -> scorer.score(row(1, 2))).kind()).isEqualTo(Kind.INVALID_INPUT);
        }

        assertThat(scorer.inFlight()).isZero();
        assertThat(scorer.score(row(1, 2, 3))).isEqualTo(model.expected(row(1, 2, 3)));
        long start = System.nanoTime();
        scorer.close();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("close waits for nothing").isLessThan(Duration.ofSeconds(10));
        assertThat(model.isClosed()).isTrue();
    }

    @Test
    void scoreAsync_batchingAndRecordsFailingValidation_releaseEverySlot() {
        FakeLinearModel model = Fixtures.linear();
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(ROW).model(model).maxInFlight(2)
                .batching(8, Duration.ofMillis(1)).build(SCORE)) {
            for (int i = 0; i < 5; i++) {
                assertThat(Fixtures.failureOf(scorer.scoreAsync(row(1, 2))).kind()).isEqualTo(Kind.INVALID_INPUT);
            }
            assertThat(scorer.inFlight()).isZero();
            assertThat(valueOf(scorer.scoreAsync(row(1, 2, 3)))).isEqualTo(model.expected(row(1, 2, 3)));
        }
    }

    @Test
    void score_batchedCallerInsideModel_isCountedOnceSoASecondCallerIsAdmitted() throws Exception {
        BlockingModel model = new BlockingModel(1);
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(ROW).model(model).maxInFlight(2)
                .batching(8, Duration.ZERO, Pipeline.BatchMode.ALWAYS).build(SCORE)) {
            CompletableFuture<Float> first = CompletableFuture.supplyAsync(() -> scorer.score(row(1)), callers);
            assertThat(model.entered.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(scorer.inFlight()).as("one record, one count").isEqualTo(1);

            CompletableFuture<Float> second = CompletableFuture.supplyAsync(() -> scorer.score(row(2)), callers);
            await("the second record is admitted", () -> scorer.inFlight() == 2 || second.isDone());
            model.release.countDown();

            assertThat(valueOf(first)).isEqualTo(1f);
            assertThat(valueOf(second)).isEqualTo(2f);
            await("every count is given back", () -> scorer.inFlight() == 0);
        }
    }

    @Test
    void score_callerGivesUpWhileModelHasItsRecord_countStaysUntilTheModelIsDone() throws Exception {
        BlockingModel model = new BlockingModel(1);
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(ROW).model(model)
                .batching(8, Duration.ZERO, Pipeline.BatchMode.ALWAYS).build(SCORE)) {
            CompletableFuture<Float> late = CompletableFuture.supplyAsync(
                    () -> scorer.score(row(1), Duration.ofMillis(50)), callers);
            assertThat(model.entered.await(10, TimeUnit.SECONDS)).isTrue();

            assertThat(Fixtures.failureOf(late).kind()).isEqualTo(Kind.DEADLINE_EXCEEDED);
            assertThat(scorer.inFlight()).as("the model still runs the abandoned record").isEqualTo(1);
            model.release.countDown();
            await("the count comes back when the model is done", () -> scorer.inFlight() == 0);
        }
    }

    @Test
    void scoreAll_overMaxInFlightWhileOthersRun_failsOverloadedAndCountsNothing() throws Exception {
        BlockingModel model = new BlockingModel(1);
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(ROW).model(model).maxInFlight(2).build(SCORE)) {
            CompletableFuture<Float> running = CompletableFuture.supplyAsync(() -> scorer.score(row(1)), callers);
            assertThat(model.entered.await(10, TimeUnit.SECONDS)).isTrue();

            assertThat(scoringFailure(() -> scorer.scoreAll(java.util.List.of(row(1), row(2)))).kind())
                    .isEqualTo(Kind.OVERLOADED);
            assertThat(scorer.inFlight()).isEqualTo(1);
            model.release.countDown();
            assertThat(valueOf(running)).isEqualTo(1f);
        }
    }
}
