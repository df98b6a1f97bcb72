package dev.nearline.core;

import static dev.nearline.core.Fixtures.ROW;
import static dev.nearline.core.Fixtures.SCORE;
import static dev.nearline.core.Fixtures.row;
import static dev.nearline.core.Fixtures.valueOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Hot swap off the happy path: the same model, null, a model another step runs, a model swapped back in. */
@ExtendWith(ModelLeakChecker.class)
class SwapModelTest {

    @Test
    void swapModel_theModelTheStepRuns_changesNothingAndKeepsServing() {
        FakeLinearModel model = Fixtures.linear();
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(ROW).model("m", model).build(SCORE)) {
            scorer.swapModel("m", model);
            scorer.swapModel("m", model);

            assertThat(model.isClosed()).isFalse();
            assertThat(scorer.score(row(1, 2, 3))).isEqualTo(model.expected(row(1, 2, 3)));
        }
    }

    @Test
    void swapModel_null_throwsNullPointerNamingTheArgument() {
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(ROW).model("m", Fixtures.linear()).build(SCORE)) {
            assertThatThrownBy(() -> scorer.swapModel("m", null)).isInstanceOf(NullPointerException.class)
                    .hasMessageContaining("replacement");
            assertThat(scorer.score(row(1, 2, 3))).isNotNull();
        }
    }

    @Test
    void swapModel_modelAnotherStepRuns_isRefused() {
        FakeLinearModel first = Fixtures.linear();
        FakeLinearModel second = new FakeLinearModel("score", "final", new float[] {2}, 0);
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(ROW).model("a", first).model("b", second)
                .build(out -> out.require("final").floatAt(0))) {
            assertThatThrownBy(() -> scorer.swapModel("a", second)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("already runs step 'b'");
            assertThat(scorer.score(row(1, 2, 3))).isEqualTo(2 * first.expected(row(1, 2, 3)));
        }
    }

    @Test
    void swapModel_backWhileTheOldGenerationStillRunsIt_doesNotCloseIt() throws Exception {
        BlockingModel a = new BlockingModel(1);
        FakeLinearModel b = new FakeLinearModel(new float[] {3f}, 0f);
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(ROW).model("m", a).build(SCORE)) {
            CompletableFuture<Float> held = CompletableFuture.supplyAsync(() -> scorer.score(row(1)));
            assertThat(a.entered.await(10, TimeUnit.SECONDS)).isTrue();

            scorer.swapModel("m", b); // a's generation drains later
            scorer.swapModel("m", a); // b had no records: closed now
            a.release.countDown();

            assertThat(valueOf(held)).isEqualTo(1f);
            AdmissionTest.await("the first generation drains", () -> scorer.inFlight() == 0);
            assertThat(b.isClosed()).isTrue();
            assertThat(a.isClosed()).as("a runs again").isFalse();
            assertThat(scorer.score(row(2))).isEqualTo(2f);
        }
    }
}
