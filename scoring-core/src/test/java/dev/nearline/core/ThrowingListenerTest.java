package dev.nearline.core;

import static dev.nearline.core.Fixtures.ROW;
import static dev.nearline.core.Fixtures.SCORE;
import static dev.nearline.core.Fixtures.row;
import static dev.nearline.core.Fixtures.scoringFailure;
import static dev.nearline.core.Fixtures.valueOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.api.Outcome;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringListener;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A listener that throws from every event (a runtime exception or an {@link Error}) never fails a record, on
 * any path: inline, micro-batched (where the event comes from a dispatcher thread), async pool, scoreAll.
 */
@ExtendWith(ModelLeakChecker.class)
class ThrowingListenerTest {

    /** Throws from every event and counts the calls. */
    static final class ThrowingListener implements ScoringListener {
        final AtomicInteger calls = new AtomicInteger();
        private final boolean error;

        ThrowingListener(boolean error) {
            this.error = error;
        }

        private void blowUp() {
            calls.incrementAndGet();
            if (error) {
                throw new AssertionError("listener bug");
            }
            throw new IllegalStateException("listener bug");
        }

        @Override
        public void recordScored(String p, long q, long i, long n, long o) {
            blowUp();
        }

        @Override
        public void recordFailed(String p, ScoringException.Kind kind, long total) {
            blowUp();
        }

        @Override
        public void stepCompleted(String p, String step, int batchSize, long nanos) {
            blowUp();
        }
    }

    static Stream<Object[]> modes() {
        return Stream.of(new Object[] {false, null}, new Object[] {true, null},
                new Object[] {false, Pipeline.BatchMode.ALWAYS}, new Object[] {true, Pipeline.BatchMode.ALWAYS},
                new Object[] {true, Pipeline.BatchMode.NEVER});
    }

    @ParameterizedTest(name = "error={0}, batching={1}")
    @MethodSource("modes")
    void everyPath_listenerThrows_recordsScoreAndFailAsWithoutIt(boolean error, Pipeline.BatchMode batching) {
        ThrowingListener listener = new ThrowingListener(error);
        FakeLinearModel model = Fixtures.linear();
        Pipeline.Builder<float[]> b = Pipeline.builder(ROW).model(model).listener(listener)
                .monitor(DriftMonitor.builder().window(10).build());
        if (batching != null) {
            b.batching(8, Duration.ofMillis(1), batching);
        }
        try (ManagedScorer<float[], Float> scorer = b.build(SCORE)) {
            float[] r = row(1, 2, 3);
            float expected = model.expected(r);

            assertThat(scorer.score(r)).isEqualTo(expected);
            assertThat(valueOf(scorer.scoreAsync(r))).isEqualTo(expected);
            List<Outcome<Float>> all = scorer.scoreAll(List.of(r, row(1, 2), r));
            assertThat(all.get(0).get()).isEqualTo(expected);
            assertThat(all.get(1).error().kind()).isEqualTo(ScoringException.Kind.INVALID_INPUT);
            assertThat(all.get(2).get()).isEqualTo(expected);
            assertThat(scoringFailure(() -> scorer.score(row(1))).kind()).isEqualTo(ScoringException.Kind.INVALID_INPUT);

            assertThat(listener.calls.get()).as("the listener was called").isPositive();
            AdmissionTest.await("every count given back", () -> scorer.inFlight() == 0);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
