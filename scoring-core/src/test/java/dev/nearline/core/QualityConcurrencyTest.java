package dev.nearline.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.core.QualityFixtures.Rec;
import dev.nearline.core.testing.FakeTicker;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Scoring threads and labelling threads at once: every prediction and label is accounted for exactly once. */
@ExtendWith(ModelLeakChecker.class)
class QualityConcurrencyTest {

    @Test
    void scoreAndFeedback_fromManyThreadsAtOnce_countsAddUpAndEachPredictionJoinsOnce() throws Exception {
        int scorers = 3;
        int labellers = 4;
        int perThread = 20_000;
        int capacity = 5_000;
        QualityMonitor quality = QualityMonitor.builder().capacity(capacity).window(1_000).build();
        AtomicLongArray outcomes = new AtomicLongArray(FeedbackOutcome.values().length);
        ExecutorService pool = Executors.newFixedThreadPool(scorers + labellers);
        CountDownLatch start = new CountDownLatch(1);
        try (ManagedScorer<Rec, Float> scorer = QualityFixtures.scorer(quality, new FakeTicker(), QualityFixtures.echo())) {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < scorers; t++) {
                int thread = t;
                futures.add(pool.submit((Callable<Void>) () -> {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        scorer.score(new Rec(thread + "-" + i, (i % 100) / 100f));
                    }
                    return null;
                }));
            }
            for (int t = 0; t < labellers; t++) {
                int thread = t % scorers; // two labellers may label the same ids: one joins, the other is a duplicate
                futures.add(pool.submit((Callable<Void>) () -> {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        FeedbackOutcome o = quality.feedback(thread + "-" + i, i % 2);
                        outcomes.incrementAndGet(o.ordinal());
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
            QualitySnapshot s = quality.snapshot();
            QualitySnapshot.Predictions p = s.predictions();
            QualitySnapshot.Labels l = s.labels();
            assertThat(p.tracked()).isEqualTo((long) scorers * perThread);
            assertThat(p.tracked()).isEqualTo(l.joined() + p.pending() + p.replaced() + p.evicted() + p.expired());
            assertThat(l.joined() + l.unknown() + l.expired() + l.duplicate() + l.invalid())
                    .isEqualTo((long) labellers * perThread);
            assertThat(l.joined()).isEqualTo(outcomes.get(FeedbackOutcome.JOINED.ordinal()));
            assertThat(l.duplicate()).isEqualTo(outcomes.get(FeedbackOutcome.DUPLICATE.ordinal()));
            assertThat(quality.tracker().held()).isLessThanOrEqualTo(capacity + scorers);
            assertThat(s.current().lastRecords().count()).isEqualTo(Math.min(1_000, l.joined()));
        } finally {
            pool.shutdownNow();
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
    }
}
