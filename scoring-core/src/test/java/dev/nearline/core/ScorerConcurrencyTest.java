package dev.nearline.core;

import static dev.nearline.core.Fixtures.ROW;
import static dev.nearline.core.Fixtures.linear;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.api.Scorer;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Many threads at once through a start gate; every result must equal single-threaded scoring. */
@ExtendWith(ModelLeakChecker.class)
class ScorerConcurrencyTest {
    private static final int THREADS = 8;
    private static final int PER_THREAD = 5_000;
    private static final int INVALID_EVERY = 97;

    private final ExecutorService pool = Executors.newFixedThreadPool(THREADS);

    @AfterEach
    void stopPool() throws InterruptedException {
        pool.shutdownNow();
        assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }

    /** Records for thread {@code t}; every 97th has the wrong width and must fail with INVALID_INPUT. */
    private static float[][] records(int t) {
        Random random = new Random(t);
        float[][] records = new float[PER_THREAD][];
        for (int i = 0; i < PER_THREAD; i++) {
            int width = (t * PER_THREAD + i) % INVALID_EVERY == 0 ? 4 : 3;
            records[i] = new float[width];
            for (int c = 0; c < width; c++) {
                records[i][c] = random.nextFloat() * 20 - 10;
            }
        }
        return records;
    }

    /** pre -> linear -> transform (x3) -> linear, with a postprocessor reading the last output. */
    private static Scorer<float[], Float> chain(FakeLinearModel first, FakeLinearModel second) {
        return Pipeline.<float[]>builder(r -> Tensors.of("input", Tensor.ofFloats(r.clone(), 1, r.length)))
                .model("first", first)
                .transform("scale", t -> Tensors.of("scaled",
                        Tensor.ofFloats(new float[] {t.require("score").floatAt(0) * 3}, 1, 1)))
                .model("second", second)
                .asyncThreads(4)
                .asyncQueueCapacity(THREADS * PER_THREAD)
                .build(out -> out.require("final").floatAt(0));
    }

    /** Runs {@code task(t)} on every thread at once and waits for all. */
    private <T> List<T> runAtOnce(IntFunction<T> task) throws Exception {
        CountDownLatch ready = new CountDownLatch(THREADS);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<T>> futures = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int thread = t;
            futures.add(pool.submit(() -> {
                ready.countDown();
                start.await();
                return task.apply(thread);
            }));
        }
        assertThat(ready.await(10, TimeUnit.SECONDS)).isTrue();
        start.countDown();
        List<T> results = new ArrayList<>();
        for (Future<T> f : futures) {
            results.add(f.get(30, TimeUnit.SECONDS));
        }
        return results;
    }

    /** The expected result of every record, scored on one thread; null where the record is invalid. */
    private static Float[][] expected(Scorer<float[], Float> scorer, float[][][] records) {
        Float[][] expected = new Float[THREADS][PER_THREAD];
        for (int t = 0; t < THREADS; t++) {
            for (int i = 0; i < PER_THREAD; i++) {
                try {
                    expected[t][i] = scorer.score(records[t][i]);
                } catch (ScoringException e) {
                    assertThat(e.kind()).isEqualTo(Kind.INVALID_INPUT);
                }
            }
        }
        return expected;
    }

    @Test
    void score_eightThreadsAtOnce_everyResultEqualsSingleThreaded() throws Exception {
        FakeLinearModel first = linear();
        FakeLinearModel second = new FakeLinearModel("scaled", "final", new float[] {0.5f}, 1);
        try (Scorer<float[], Float> scorer = chain(first, second)) {
            float[][][] records = new float[THREADS][][];
            for (int t = 0; t < THREADS; t++) {
                records[t] = records(t);
            }
            Float[][] expected = expected(scorer, records);
            AtomicInteger completions = new AtomicInteger();
            AtomicInteger failures = new AtomicInteger();

            List<Float[]> actual = runAtOnce(t -> {
                Float[] out = new Float[PER_THREAD];
                for (int i = 0; i < PER_THREAD; i++) {
                    try {
                        out[i] = scorer.score(records[t][i]);
                        completions.incrementAndGet();
                    } catch (ScoringException e) {
                        if (e.kind() == Kind.INVALID_INPUT) {
                            failures.incrementAndGet();
                        }
                    }
                }
                return out;
            });

            for (int t = 0; t < THREADS; t++) {
                assertThat(actual.get(t)).as("thread %d", t).containsExactly(expected[t]);
            }
            int invalid = (THREADS * PER_THREAD + INVALID_EVERY - 1) / INVALID_EVERY;
            assertThat(failures).hasValue(invalid);
            assertThat(completions.get() + failures.get()).isEqualTo(THREADS * PER_THREAD);
        }
    }

    @Test
    void scoreAsync_eightThreadsAtOnce_everyFutureCompletesWithSingleThreadedResult() throws Exception {
        FakeLinearModel first = linear();
        FakeLinearModel second = new FakeLinearModel("scaled", "final", new float[] {0.5f}, 1);
        try (Scorer<float[], Float> scorer = chain(first, second)) {
            float[][][] records = new float[THREADS][][];
            for (int t = 0; t < THREADS; t++) {
                records[t] = records(t);
            }
            Float[][] expected = expected(scorer, records);

            List<List<CompletableFuture<Float>>> submitted = runAtOnce(t -> {
                List<CompletableFuture<Float>> futures = new ArrayList<>(PER_THREAD);
                for (int i = 0; i < PER_THREAD; i++) {
                    futures.add(scorer.scoreAsync(records[t][i]));
                }
                return futures;
            });

            Map<Kind, Integer> failures = new EnumMap<>(Kind.class);
            int completions = 0;
            for (int t = 0; t < THREADS; t++) {
                for (int i = 0; i < PER_THREAD; i++) {
                    CompletableFuture<Float> f = submitted.get(t).get(i);
                    try {
                        Float v = f.get(30, TimeUnit.SECONDS);
                        assertThat(v).as("thread %d record %d", t, i).isEqualTo(expected[t][i]);
                        completions++;
                    } catch (ExecutionException e) {
                        assertThat(expected[t][i]).as("thread %d record %d failed: %s", t, i, e.getCause()).isNull();
                        failures.merge(((ScoringException) e.getCause()).kind(), 1, Integer::sum);
                    }
                }
            }
            int invalid = (THREADS * PER_THREAD + INVALID_EVERY - 1) / INVALID_EVERY;
            assertThat(failures).containsExactly(Map.entry(Kind.INVALID_INPUT, invalid));
            assertThat(completions + invalid).isEqualTo(THREADS * PER_THREAD);
        }
    }

    @Test
    void scoreAsync_smallQueueUnderLoad_everyFutureCompletesAsResultOrOverloaded() throws Exception {
        FakeLinearModel model = linear();
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(model).asyncThreads(2)
                .asyncQueueCapacity(8).build(Fixtures.SCORE)) {
            List<List<CompletableFuture<Float>>> submitted = runAtOnce(t -> {
                List<CompletableFuture<Float>> futures = new ArrayList<>();
                for (int i = 0; i < 2_000; i++) {
                    futures.add(scorer.scoreAsync(Fixtures.row(t, i, 1)));
                }
                return futures;
            });

            int ok = 0;
            int overloaded = 0;
            for (int t = 0; t < THREADS; t++) {
                for (int i = 0; i < 2_000; i++) {
                    CompletableFuture<Float> f = submitted.get(t).get(i);
                    try {
                        assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(model.expected(Fixtures.row(t, i, 1)));
                        ok++;
                    } catch (ExecutionException e) {
                        assertThat(((ScoringException) e.getCause()).kind()).isEqualTo(Kind.OVERLOADED);
                        overloaded++;
                    }
                }
            }
            assertThat(ok + overloaded).isEqualTo(THREADS * 2_000);
            assertThat(ok).isEqualTo(model.predictCalls.get());
        }
    }

    @Test
    void close_whileEightThreadsScore_everyCallSucceedsOrFailsUnavailableAndModelClosesOnceAfterLastCall()
            throws Exception {
        FakeLinearModel model = linear();
        Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(model).build(Fixtures.SCORE);
        CountDownLatch warm = new CountDownLatch(THREADS * 200);
        CountDownLatch ready = new CountDownLatch(THREADS);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<int[]>> workers = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            workers.add(pool.submit(() -> {
                ready.countDown();
                start.await();
                int ok = 0;
                while (true) {
                    try {
                        scorer.score(Fixtures.row(1, 2, 3));
                        ok++;
                        warm.countDown();
                    } catch (ScoringException e) {
                        return new int[] {ok, e.kind() == Kind.UNAVAILABLE ? 1 : 0};
                    }
                }
            }));
        }
        assertThat(ready.await(10, TimeUnit.SECONDS)).isTrue();
        start.countDown();
        assertThat(warm.await(10, TimeUnit.SECONDS)).isTrue();

        scorer.close();

        int ok = 0;
        for (Future<int[]> w : workers) {
            int[] r = w.get(30, TimeUnit.SECONDS);
            assertThat(r[1]).as("stopped by UNAVAILABLE").isEqualTo(1);
            ok += r[0];
        }
        assertThat(model.predictCalls).hasValue(ok);
        assertThat(model.awaitClosed()).isTrue();
        assertThat(model.closedWhileRunning()).isFalse();
    }
}
