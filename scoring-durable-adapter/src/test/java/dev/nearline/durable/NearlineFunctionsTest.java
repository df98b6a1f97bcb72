package dev.nearline.durable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.microsoft.azure.functions.HttpResponseMessage;
import dev.nearline.api.Scorer;
import dev.nearline.api.ScoringException;
import dev.nearline.durable.internal.Json;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The per-process scorer: built once, lazily, shared by every invocation and thread. */
class NearlineFunctionsTest {
    @TempDir
    Path dir;

    @Test
    void http_manyThreadsAtOnce_buildOneScorerAndShareIt() throws Exception {
        AtomicInteger builds = new AtomicInteger();
        Set<Scorer<Object, Object>> seen = ConcurrentHashMap.newKeySet();
        Path pipeline = TestPipelines.tinyPipeline(dir);
        try (NearlineFunctions f = NearlineFunctions.builder(FunctionsSettings.fromEnvironment(TestPipelines.env(pipeline, dir)))
                .scorer(() -> {
                    builds.incrementAndGet();
                    return dev.nearline.core.Pipeline.load(pipeline);
                }).build()) {
            int threads = 8;
            int perThread = 250;
            CountDownLatch ready = new CountDownLatch(threads);
            CountDownLatch go = new CountDownLatch(1);
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<Integer>> results = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int base = t * perThread;
                    results.add(pool.submit(() -> {
                        ready.countDown();
                        go.await();
                        int ok = 0;
                        for (int i = 0; i < perThread; i++) {
                            HttpResponseMessage r = f.http().score(FakeHttpRequest.post("/api/score",
                                    Json.write(TestPipelines.record(base + i))), new RecordingContext("inv-" + (base + i)));
                            seen.add(f.scorer());
                            if (r.getStatusCode() == 200) {
                                ok++;
                            }
                        }
                        return ok;
                    }));
                }
                assertThat(ready.await(30, TimeUnit.SECONDS)).isTrue();
                go.countDown();
                int ok = 0;
                for (Future<Integer> r : results) {
                    ok += r.get(120, TimeUnit.SECONDS);
                }
                assertThat(ok).isEqualTo(threads * perThread);
            } finally {
                pool.shutdownNow();
            }
            assertThat(builds.get()).isEqualTo(1);
            assertThat(seen).hasSize(1);
            assertThat(f.coldStart()).hasValueSatisfying(c -> assertThat(c.firstRecord()).isNotNull());
        }
    }

    @Test
    void scorer_factoryFails_reportsInternalAndTriesAgainNextCall() {
        AtomicInteger attempts = new AtomicInteger();
        try (NearlineFunctions f = NearlineFunctions.builder(FunctionsSettings.fromEnvironment(Map.of()))
                .scorer(() -> {
                    if (attempts.incrementAndGet() == 1) {
                        throw new IllegalArgumentException("$.steps[0].path: file not found");
                    }
                    return TestPipelines.fake();
                }).build()) {
            assertThatThrownBy(f::scorer).isInstanceOfSatisfying(ScoringException.class, e -> {
                assertThat(e.kind()).isEqualTo(ScoringException.Kind.INTERNAL);
                assertThat(e.getMessage()).contains(FunctionsSettings.PIPELINE).contains("$.steps[0].path");
            });
            assertThat(f.scorer()).isNotNull();
            assertThat(attempts.get()).isEqualTo(2);
        }
    }

    @Test
    void warmUp_withWarmUpRecord_loadsScoresAndReportsColdStart() {
        Map<String, String> env = TestPipelines.env(TestPipelines.tinyPipeline(dir), dir);
        env.put(FunctionsSettings.WARMUP_RECORD, Json.write(TestPipelines.record(0)));
        AtomicInteger time = new AtomicInteger();
        try (NearlineFunctions f = NearlineFunctions.builder(FunctionsSettings.fromEnvironment(env))
                .ticker(() -> time.addAndGet(1_000_000)).build()) {
            assertThat(f.coldStart()).isEmpty();
            f.warmUp();
            f.warmUp();
            ColdStart c = f.coldStart().orElseThrow();
            assertThat(c.pipelineLoad()).isEqualTo(Duration.ofMillis(1));
            assertThat(c.warmUp()).isEqualTo(Duration.ofMillis(1));
            assertThat(c.firstRecord()).isNull();
        }
    }

    @Test
    void close_thenScorer_failsUnavailableAndClosesReplySender() {
        RecordingReplySender replies = new RecordingReplySender();
        NearlineFunctions f = NearlineFunctions.builder(FunctionsSettings.fromEnvironment(Map.of()))
                .scorer(TestPipelines::fake).replySender(replies).build();
        f.scorer();
        f.close();
        f.close();
        assertThatThrownBy(f::scorer).isInstanceOfSatisfying(ScoringException.class,
                e -> assertThat(e.kind()).isEqualTo(ScoringException.Kind.UNAVAILABLE));
    }

    @Test
    void builder_partSetTwice_failsWithIllegalState() {
        NearlineFunctions.Builder b = NearlineFunctions.builder(FunctionsSettings.fromEnvironment(Map.of()))
                .scorer(TestPipelines::fake);
        assertThatThrownBy(() -> b.scorer(TestPipelines::fake)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("scorer");
    }
}
