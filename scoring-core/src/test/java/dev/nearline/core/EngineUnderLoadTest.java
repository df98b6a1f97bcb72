package dev.nearline.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nearline.api.Outcome;
import dev.nearline.api.Scorer;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringListener;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.core.testing.FakeTicker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Micro-batching, deadlines, admission control, hot swap, metrics and warm-up of the engine. */
class EngineUnderLoadTest {
    private static final float[] W = {0.5f, -1f, 2f};
    private static final long[] ROW = {1, 3};

    private final ExecutorService pool = Executors.newFixedThreadPool(16);

    @AfterEach
    void tearDown() throws InterruptedException {
        pool.shutdownNow();
        assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }

    private static Pipeline.Builder<float[]> pipeline() {
        return Pipeline.builder((float[] r) -> Tensors.of("input", Tensor.ofFloats(r, r.length == 3 ? ROW : new long[] {1, r.length})));
    }

    private static float[] record(int i) {
        return new float[] {i % 97, (i * 7) % 13, (i % 5) - 2};
    }

    private static float score(Tensors out) {
        return out.get(0).floatAt(0);
    }

    @Test
    void scoreAsync_batchingWithPoisonAndBadShapes_eachResultEqualsUnbatchedAndCountsAddUp() throws Exception {
        FakeLinearModel model = new FakeLinearModel(W, 0.25f);
        int threads = 4;
        int perThread = 2_000;
        try (Scorer<float[], Float> scorer = pipeline().batching(32, Duration.ofMillis(2)).model(model)
                .build(EngineUnderLoadTest::score)) {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<int[]>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int base = t * perThread;
                workers.add(pool.submit(() -> {
                    start.await();
                    List<CompletableFuture<Float>> futures = new ArrayList<>();
                    List<float[]> records = new ArrayList<>();
                    for (int i = 0; i < perThread; i++) {
                        float[] r = record(base + i);
                        if (i % 101 == 0) {
                            r[0] = FakeLinearModel.POISON;
                        } else if (i % 103 == 0) {
                            r = new float[] {1f, 2f}; // wrong width: fails validation before the batcher
                        }
                        records.add(r);
                        futures.add(scorer.scoreAsync(r));
                    }
                    int ok = 0;
                    int poisoned = 0;
                    int invalid = 0;
                    for (int i = 0; i < futures.size(); i++) {
                        try {
                            float v = futures.get(i).get(30, TimeUnit.SECONDS);
                            assertThat(v).isEqualTo(model.expected(records.get(i)));
                            ok++;
                        } catch (ExecutionException e) {
                            ScoringException se = (ScoringException) e.getCause();
                            if (records.get(i).length == 2) {
                                assertThat(se.kind()).isEqualTo(Kind.INVALID_INPUT);
                                assertThat(se.getMessage()).contains("expects FP32 [-1, 3], got FP32 [1, 2]");
                                invalid++;
                            } else {
                                assertThat(records.get(i)[0]).isEqualTo(FakeLinearModel.POISON);
                                assertThat(se.kind()).isEqualTo(Kind.INTERNAL);
                                poisoned++;
                            }
                        }
                    }
                    return new int[] {ok, poisoned, invalid};
                }));
            }
            start.countDown();
            int ok = 0;
            int failed = 0;
            for (Future<int[]> w : workers) {
                int[] r = w.get(60, TimeUnit.SECONDS);
                ok += r[0];
                failed += r[1] + r[2];
            }
            assertThat(ok + failed).isEqualTo(threads * perThread);
            int expectedPoison = 0;
            int expectedInvalid = 0;
            for (int i = 0; i < perThread; i++) {
                if (i % 101 == 0) {
                    expectedPoison++;
                } else if (i % 103 == 0) {
                    expectedInvalid++;
                }
            }
            assertThat(failed).isEqualTo(threads * (expectedPoison + expectedInvalid));
            assertThat(model.batchSizes).anyMatch(n -> n > 1);
        }
    }

    @Test
    void score_batchingAlwaysFromManyThreads_resultsEqualUnbatched() throws Exception {
        FakeLinearModel model = new FakeLinearModel(W, -1f);
        try (Scorer<float[], Float> scorer = pipeline().batching(16, Duration.ofMillis(1), Pipeline.BatchMode.ALWAYS)
                .model(model).build(EngineUnderLoadTest::score)) {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Integer>> workers = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                int base = t * 500;
                workers.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < 500; i++) {
                        float[] r = record(base + i);
                        assertThat(scorer.score(r)).isEqualTo(model.expected(r));
                    }
                    return 500;
                }));
            }
            start.countDown();
            int total = 0;
            for (Future<Integer> w : workers) {
                total += w.get(60, TimeUnit.SECONDS);
            }
            assertThat(total).isEqualTo(8_000);
            assertThat(model.batchCalls.get()).isPositive();
        }
    }

    @Test
    void score_batchingAutoOnCostlyModel_batchesAndMatchesUnbatched() throws Exception {
        // A model call that costs 50 us of CPU whatever its batch size (a busy loop standing in for the
        // model's work, not a wait): far more than a hand-off, so AUTO must batch once it has measured it,
        // after its cold phase (BatchPolicy.COLD_CALLS inline calls and at least BatchPolicy.COLD_NANOS).
        AtomicInteger batchedRecords = new AtomicInteger();
        FakeLinearModel model = new FakeLinearModel(W, 0f) {
            @Override
            protected Tensors compute(Tensors inputs) { // once per predict and once per predictBatch
                long until = System.nanoTime() + 50_000;
                while (System.nanoTime() - until < 0) {
                    Thread.onSpinWait();
                }
                return super.compute(inputs);
            }

            @Override
            public List<Tensors> predictBatch(List<Tensors> batch) {
                batchedRecords.addAndGet(batch.size());
                return super.predictBatch(batch);
            }
        };
        int threads = Math.max(16, 4 * Runtime.getRuntime().availableProcessors());
        int wanted = 5_000;
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        ExecutorService callers = Executors.newFixedThreadPool(threads);
        try (Scorer<float[], Float> scorer = pipeline().batching(32, Duration.ZERO).model(model)
                .build(EngineUnderLoadTest::score)) {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<int[]>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int seed = t;
                workers.add(callers.submit(() -> {
                    start.await();
                    int scored = 0;
                    int matched = 0;
                    while (batchedRecords.get() < wanted && System.nanoTime() - giveUp < 0) {
                        float[] r = record(seed * 1_000_003 + scored++);
                        if (scorer.score(r) == model.expected(r)) {
                            matched++;
                        }
                    }
                    return new int[] {scored, matched};
                }));
            }
            start.countDown();
            int scored = 0;
            int matched = 0;
            for (Future<int[]> w : workers) {
                int[] counts = w.get(120, TimeUnit.SECONDS);
                scored += counts[0];
                matched += counts[1];
            }
            assertThat(matched).isEqualTo(scored);
            assertThat(batchedRecords.get()).as("records scored in batches, of %d", scored).isGreaterThanOrEqualTo(wanted);
        } finally {
            callers.shutdownNow();
        }
    }

    @Test
    void score_batchingAutoOnFastModel_staysInline() throws Exception {
        FakeLinearModel model = new FakeLinearModel(W, 0f);
        try (Scorer<float[], Float> scorer = pipeline().batching(32, Duration.ofMillis(1)).model(model)
                .build(EngineUnderLoadTest::score)) {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                workers.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < 2_000; i++) {
                        scorer.score(record(i));
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> w : workers) {
                w.get(60, TimeUnit.SECONDS);
            }
            int batched = model.batchSizes.stream().mapToInt(Integer::intValue).sum();
            // A sub-microsecond model is never worth a hand-off; allow a few records for a GC pause that
            // inflated a timing sample.
            assertThat(batched).isLessThan(16_000 / 20);
        }
    }

    @Test
    void scoreAsync_deadlinePassesWhileQueued_failsWithDeadlineExceededAndModelNeverSeesIt() throws Exception {
        FakeTicker ticker = new FakeTicker(0);
        BlockingModel model = new BlockingModel(1);
        try (Scorer<float[], Float> scorer = Pipeline.builder((float[] r) -> Tensors.of("input", Tensor.ofFloats(r, 1, 1)))
                .ticker(ticker).batching(1, Duration.ZERO).batchingThreads(1).model(model).build(EngineUnderLoadTest::score)) {
            CompletableFuture<Float> first = scorer.scoreAsync(new float[] {1f});
            assertThat(model.entered.await(10, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Float> late = scorer.scoreAsync(new float[] {2f}, Duration.ofMillis(10));
            ticker.advance(Duration.ofMillis(20));
            model.release.countDown();
            assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(1f);
            assertThatThrownBy(() -> late.get(10, TimeUnit.SECONDS)).cause()
                    .isInstanceOfSatisfying(ScoringException.class, e -> assertThat(e.kind()).isEqualTo(Kind.DEADLINE_EXCEEDED));
            assertThat(model.predictCalls.get()).isEqualTo(1);
        }
    }

    @Test
    void score_batchedCallerWithDeadline_returnsNoLaterThanDeadlinePlusMargin() throws Exception {
        BlockingModel model = new BlockingModel(1);
        try (Scorer<float[], Float> scorer = Pipeline.builder((float[] r) -> Tensors.of("input", Tensor.ofFloats(r, 1, 1)))
                .batching(1, Duration.ZERO, Pipeline.BatchMode.ALWAYS).batchingThreads(1)
                .closeGracePeriod(Duration.ofSeconds(5)).model(model).build(EngineUnderLoadTest::score)) {
            CompletableFuture<Float> holder = scorer.scoreAsync(new float[] {1f});
            assertThat(model.entered.await(10, TimeUnit.SECONDS)).isTrue();
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> scorer.score(new float[] {2f}, Duration.ofMillis(50)))
                    .isInstanceOfSatisfying(ScoringException.class, e -> assertThat(e.kind()).isEqualTo(Kind.DEADLINE_EXCEEDED));
            long waitedMillis = (System.nanoTime() - t0) / 1_000_000;
            assertThat(waitedMillis).isBetween(45L, 1_050L);
            model.release.countDown();
            assertThat(holder.get(10, TimeUnit.SECONDS)).isEqualTo(1f);
        }
    }

    @Test
    void score_batchedCallerInterrupted_failsUnavailableKeepsTheFlagAndTheRecordStillDrains() throws Exception {
        BlockingModel model = new BlockingModel(1);
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder((float[] r) -> Tensors.of("input", Tensor.ofFloats(r, 1, 1)))
                .batching(1, Duration.ZERO, Pipeline.BatchMode.ALWAYS).batchingThreads(1).model(model)
                .build(EngineUnderLoadTest::score)) {
            CompletableFuture<Float> holder = scorer.scoreAsync(new float[] {1f});
            assertThat(model.entered.await(10, TimeUnit.SECONDS)).isTrue();
            CountDownLatch waiting = new CountDownLatch(1);
            CompletableFuture<Throwable> failure = new CompletableFuture<>();
            CompletableFuture<Boolean> flagKept = new CompletableFuture<>();
            Thread caller = new Thread(() -> {
                waiting.countDown();
                try {
                    scorer.score(new float[] {2f}); // queued behind the held record
                    failure.complete(null);
                } catch (Throwable t) {
                    failure.complete(t);
                }
                flagKept.complete(Thread.currentThread().isInterrupted());
            });
            caller.start();
            assertThat(waiting.await(10, TimeUnit.SECONDS)).isTrue();
            // interrupt until the caller has given up (an interrupt before it parks is seen when it parks)
            while (!failure.isDone()) {
                caller.interrupt();
                try {
                    failure.get(10, TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.TimeoutException stillWaiting) {
                    // interrupt again
                }
            }
            assertThat(failure.get()).isInstanceOfSatisfying(ScoringException.class,
                    e -> assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE));
            assertThat(flagKept.get(10, TimeUnit.SECONDS)).isTrue();

            model.release.countDown();
            assertThat(holder.get(10, TimeUnit.SECONDS)).isEqualTo(1f);
            assertThat(scorer.score(new float[] {3f})).isEqualTo(3f);
            caller.join(10_000);
        }
        assertThat(model.closeCalls.get()).isEqualTo(1);
    }

    @Test
    void score_beyondMaxInFlight_failsFastWithOverloadedAndRecovers() throws Exception {
        BlockingModel model = new BlockingModel(2);
        try (Scorer<float[], Float> scorer = Pipeline.builder((float[] r) -> Tensors.of("input", Tensor.ofFloats(r, 1, 1)))
                .maxInFlight(2).model(model).build(EngineUnderLoadTest::score)) {
            Future<Float> a = pool.submit(() -> scorer.score(new float[] {1f}));
            Future<Float> b = pool.submit(() -> scorer.score(new float[] {2f}));
            assertThat(model.entered.await(10, TimeUnit.SECONDS)).isTrue();
            assertThatThrownBy(() -> scorer.score(new float[] {3f}))
                    .isInstanceOfSatisfying(ScoringException.class, e -> {
                        assertThat(e.kind()).isEqualTo(Kind.OVERLOADED);
                        assertThat(e.isRetryable()).isTrue();
                        assertThat(e.getMessage()).contains("the limit is 2");
                    });
            assertThatThrownBy(() -> scorer.scoreAsync(new float[] {3f}).get(10, TimeUnit.SECONDS)).cause()
                    .isInstanceOfSatisfying(ScoringException.class, e -> assertThat(e.kind()).isEqualTo(Kind.OVERLOADED));
            model.release.countDown();
            assertThat(a.get(10, TimeUnit.SECONDS)).isEqualTo(1f);
            assertThat(b.get(10, TimeUnit.SECONDS)).isEqualTo(2f);
            assertThat(scorer.score(new float[] {4f})).isEqualTo(4f);
        }
    }

    @Test
    void close_withBatchedRecordsQueued_failsThemAndEveryFutureCompletesAndModelClosesAfterLastCall() throws Exception {
        BlockingModel model = new BlockingModel(1);
        Scorer<float[], Float> scorer = Pipeline.builder((float[] r) -> Tensors.of("input", Tensor.ofFloats(r, 1, 1)))
                .batching(4, Duration.ZERO).closeGracePeriod(Duration.ZERO).model(model).build(EngineUnderLoadTest::score);
        List<CompletableFuture<Float>> futures = new ArrayList<>();
        futures.add(scorer.scoreAsync(new float[] {0f}));
        assertThat(model.entered.await(10, TimeUnit.SECONDS)).isTrue();
        for (int i = 1; i < 50; i++) {
            futures.add(scorer.scoreAsync(new float[] {i}));
        }
        scorer.close();
        assertThat(model.isClosed()).isFalse(); // a call is still running
        model.release.countDown();
        CompletableFuture.allOf(futures.stream().map(f -> f.handle((v, e) -> v)).toArray(CompletableFuture[]::new))
                .get(10, TimeUnit.SECONDS);
        assertThat(futures).allMatch(CompletableFuture::isDone);
        long unavailable = futures.stream().filter(CompletableFuture::isCompletedExceptionally).count();
        assertThat(unavailable).isGreaterThan(40);
        assertThatThrownBy(() -> futures.get(49).get()).cause()
                .isInstanceOfSatisfying(ScoringException.class, e -> assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE));
        assertThat(futures.get(0).get()).isEqualTo(0f);
        awaitClosed(model);
        assertThat(model.closedWhileRunning()).isFalse();
        assertThat(model.closeCalls.get()).isEqualTo(1);
    }

    @Test
    void swapModel_recordInFlightOnOldModel_finishesOnOldAndOldClosesAfterIt() throws Exception {
        BlockingModel old = new BlockingModel(1);
        FakeLinearModel replacement = new FakeLinearModel(new float[] {10f}, 0f);
        ManagedScorer<float[], Float> scorer = Pipeline.builder((float[] r) -> Tensors.of("input", Tensor.ofFloats(r, 1, 1)))
                .model("m", old).build(EngineUnderLoadTest::score);
        Future<Float> inFlight = pool.submit(() -> scorer.score(new float[] {3f}));
        assertThat(old.entered.await(10, TimeUnit.SECONDS)).isTrue();
        scorer.swapModel("m", replacement);
        assertThat(scorer.score(new float[] {3f})).isEqualTo(30f);
        assertThat(old.isClosed()).isFalse();
        old.release.countDown();
        assertThat(inFlight.get(10, TimeUnit.SECONDS)).isEqualTo(3f);
        awaitClosed(old);
        assertThat(old.closedWhileRunning()).isFalse();
        assertThat(replacement.isClosed()).isFalse();
        scorer.close();
        assertThat(replacement.closeCalls.get()).isEqualTo(1);
        assertThat(old.closeCalls.get()).isEqualTo(1);
    }

    @Test
    void swapModel_whileManyThreadsScore_noFailureAndEveryReplacedModelClosedOnce() throws Exception {
        List<FakeLinearModel> models = Collections.synchronizedList(new ArrayList<>());
        FakeLinearModel first = new FakeLinearModel(new float[] {1f}, 0f);
        models.add(first);
        ManagedScorer<float[], Float> scorer = Pipeline.builder((float[] r) -> Tensors.of("input", Tensor.ofFloats(r, 1, 1)))
                .model("m", first).build(EngineUnderLoadTest::score);
        AtomicInteger scored = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> workers = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            workers.add(pool.submit(() -> {
                start.await();
                for (int i = 0; i < 5_000; i++) {
                    float v = scorer.score(new float[] {1f});
                    // Every model computes 1 * x + bias with bias = its generation number.
                    assertThat(v).isBetween(1f, 21f);
                    scored.incrementAndGet();
                }
                return null;
            }));
        }
        start.countDown();
        for (int k = 1; k <= 20; k++) {
            FakeLinearModel next = new FakeLinearModel(new float[] {1f}, k);
            models.add(next);
            scorer.swapModel("m", next);
        }
        for (Future<?> w : workers) {
            w.get(60, TimeUnit.SECONDS);
        }
        assertThat(scored.get()).isEqualTo(20_000);
        assertThat(scorer.score(new float[] {1f})).isEqualTo(21f);
        scorer.close();
        for (FakeLinearModel m : models) {
            awaitClosed(m);
            assertThat(m.closeCalls.get()).isEqualTo(1);
            assertThat(m.closedWhileRunning()).isFalse();
        }
    }

    @Test
    void swapModel_unknownStep_failsNamingTheSteps() {
        try (ManagedScorer<float[], Float> scorer = pipeline().model("fraud", new FakeLinearModel(W, 0f))
                .build(EngineUnderLoadTest::score)) {
            FakeLinearModel spare = new FakeLinearModel(W, 0f);
            assertThatThrownBy(() -> scorer.swapModel("frad", spare))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no step 'frad'").hasMessageContaining("[fraud]");
            spare.close();
        }
    }

    @Test
    void metricsRecorder_scoresAndFailures_snapshotCountsAndHistograms() {
        MetricsRecorder metrics = new MetricsRecorder(1);
        try (ManagedScorer<float[], Float> scorer = pipeline().name("fraud").listener(metrics)
                .model("lr", new FakeLinearModel(W, 0f)).build(EngineUnderLoadTest::score)) {
            for (int i = 0; i < 100; i++) {
                scorer.score(record(i));
            }
            for (int i = 0; i < 5; i++) {
                float[] bad = {1f};
                assertThatThrownBy(() -> scorer.score(bad)).isInstanceOf(ScoringException.class);
            }
            List<float[]> batch = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                batch.add(record(i));
            }
            assertThat(scorer.scoreAll(batch)).allMatch(Outcome::isSuccess);
            MetricsSnapshot s = metrics.snapshot();
            assertThat(s.scored()).isEqualTo(132);
            assertThat(s.failures().get(Kind.INVALID_INPUT)).isEqualTo(5);
            assertThat(s.failed()).isEqualTo(5);
            assertThat(s.computeInfer().count()).isEqualTo(132);
            assertThat(s.steps()).containsKey("lr");
            assertThat(s.steps().get("lr").count()).isEqualTo(101);
            assertThat(s.batchSizes().get("lr").max()).isEqualTo(32);
            assertThat(s.inFlight()).isZero();
        }
    }

    @Test
    void metricsRecorder_sampledTiming_countsExactLatenciesFromASample() {
        MetricsRecorder metrics = new MetricsRecorder();
        assertThat(metrics.timingInterval()).isEqualTo(MetricsRecorder.DEFAULT_TIMING_INTERVAL);
        try (ManagedScorer<float[], Float> scorer = pipeline().listener(metrics)
                .model("lr", new FakeLinearModel(W, 0f)).build(EngineUnderLoadTest::score)) {
            for (int i = 0; i < 2_000; i++) {
                scorer.score(record(i));
            }
            for (int i = 0; i < 7; i++) {
                float[] bad = {1f};
                assertThatThrownBy(() -> scorer.score(bad)).isInstanceOf(ScoringException.class);
            }
            MetricsSnapshot s = metrics.snapshot();
            assertThat(s.scored()).isEqualTo(2_000);
            assertThat(s.failed()).isEqualTo(7);
            // about 2000 / 8 timed; (7/8)^2000 makes "none" or "all" impossible in practice
            assertThat(s.computeInfer().count()).isBetween(1L, 1_999L);
            assertThat(s.total().count()).isEqualTo(s.computeInfer().count());
            assertThat(s.steps().get("lr").count()).isEqualTo(s.computeInfer().count());
            assertThat(s.batchSizes().get("lr").count()).as("every model call counted").isEqualTo(2_000);
            assertThat(s.batchSizes().get("lr").max()).isEqualTo(1);
        }
        assertThatThrownBy(() -> new MetricsRecorder(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void listener_oneGoodAndOneBadRecord_eventsInOrder() {
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        ScoringListener recording = new ScoringListener() {
            @Override
            public void recordScored(String pipeline, long queueNanos, long inputNanos, long inferNanos, long outputNanos) {
                events.add("scored " + pipeline);
            }

            @Override
            public void recordFailed(String pipeline, Kind kind, long totalNanos) {
                events.add("failed " + pipeline + " " + kind);
            }

            @Override
            public void stepCompleted(String pipeline, String step, int batchSize, long nanos) {
                events.add("step " + step + " x" + batchSize);
            }
        };
        try (Scorer<float[], Float> scorer = pipeline().name("p").listener(recording).model("lr", new FakeLinearModel(W, 0f))
                .build(EngineUnderLoadTest::score)) {
            scorer.score(record(1));
            assertThatThrownBy(() -> scorer.score(new float[] {1f})).isInstanceOf(ScoringException.class);
        }
        assertThat(events).containsExactly("step lr x1", "scored p", "failed p INVALID_INPUT");
    }

    @Test
    void micrometerListener_afterScoring_countersAndTimersRegistered() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        dev.nearline.core.micrometer.MicrometerListener listener =
                new dev.nearline.core.micrometer.MicrometerListener(registry, "fraud");
        try (ManagedScorer<float[], Float> scorer = pipeline().name("fraud").listener(listener)
                .model("lr", new FakeLinearModel(W, 0f)).build(EngineUnderLoadTest::score)) {
            for (int i = 0; i < 10; i++) {
                scorer.score(record(i));
            }
            assertThatThrownBy(() -> scorer.score(new float[] {1f})).isInstanceOf(ScoringException.class);
            assertThat(registry.get("nearline.request.success").tag("pipeline", "fraud").counter().count()).isEqualTo(10);
            assertThat(registry.get("nearline.request.failure").tag("reason", "INVALID_INPUT").counter().count()).isEqualTo(1);
            assertThat(registry.get("nearline.compute.infer.duration").timer().count()).isEqualTo(10);
            assertThat(registry.get("nearline.step.duration").tag("step", "lr").timer().count()).isEqualTo(10);
            assertThat(registry.get("nearline.inflight").gauge().value()).isZero();
        }
    }

    @Test
    void score_withDeadline_passesTimeLeftToTheModel() {
        FakeTicker ticker = new FakeTicker(1_000);
        List<Duration> seen = Collections.synchronizedList(new ArrayList<>());
        FakeLinearModel model = new FakeLinearModel(W, 0f) {
            @Override
            public Tensors predict(Tensors inputs, Duration timeout) {
                seen.add(timeout);
                return predict(inputs);
            }
        };
        try (Scorer<float[], Float> scorer = Pipeline.builder((float[] r) -> {
            ticker.advance(Duration.ofMillis(30)); // preprocessing takes 30 ms of the budget
            return Tensors.of("input", Tensor.ofFloats(r, ROW));
        }).ticker(ticker).model(model).build(EngineUnderLoadTest::score)) {
            scorer.score(record(1), Duration.ofMillis(100));
            scorer.score(record(1));
            assertThat(seen).containsExactly(Duration.ofMillis(70));
            assertThat(model.predictCalls.get()).isEqualTo(2);
        }
    }

    @Test
    void scoreAll_deadlinePassedDuringPreprocessing_failsEveryRecordWithDeadlineExceeded() {
        FakeTicker ticker = new FakeTicker(0);
        FakeLinearModel model = new FakeLinearModel(W, 0f);
        try (Scorer<float[], Float> scorer = Pipeline.builder((float[] r) -> {
            ticker.advance(Duration.ofMillis(10));
            return Tensors.of("input", Tensor.ofFloats(r, ROW));
        }).ticker(ticker).model(model).build(EngineUnderLoadTest::score)) {
            List<float[]> batch = List.of(record(1), record(2), record(3));
            assertThat(scorer.scoreAll(batch, Duration.ofMillis(25)))
                    .allSatisfy(o -> assertThat(o.error()).isNotNull().extracting(ScoringException::kind)
                            .isEqualTo(Kind.DEADLINE_EXCEEDED));
            assertThat(model.predictCalls.get() + model.batchCalls.get()).isZero();
            assertThat(scorer.scoreAll(batch, Duration.ofMillis(100))).allMatch(Outcome::isSuccess);
        }
    }

    @Test
    void warmup_atBuild_runsEachModelOnSyntheticInputs() {
        FakeLinearModel model = new FakeLinearModel(W, 0f);
        try (Scorer<float[], Float> scorer = pipeline().warmup(3).model(model).build(EngineUnderLoadTest::score)) {
            assertThat(model.predictCalls.get()).isEqualTo(3);
            assertThat(scorer.score(record(2))).isEqualTo(model.expected(record(2)));
        }
    }

    private static void awaitClosed(FakeModel m) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!m.isClosed() && System.nanoTime() < until) {
            Thread.onSpinWait();
            Thread.yield();
        }
        assertThat(m.isClosed()).as("model closed").isTrue();
    }
}
