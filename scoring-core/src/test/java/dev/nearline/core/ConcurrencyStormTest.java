package dev.nearline.core;

import static dev.nearline.core.Fixtures.ROW;
import static dev.nearline.core.Fixtures.SCORE;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.api.Outcome;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A concurrency storm: many threads scoring at once through every entry point (sync, async, scoreAll) with
 * good, malformed and poisoned records, short and no deadlines, a small {@code maxInFlight}, a hot swap, and
 * {@code close()} in the middle, in each batching mode. Whatever happens, the counts must add up: every
 * submission ends as exactly one success or one {@link ScoringException} of a kind its record can have;
 * every success is the right answer; {@code inFlight()} returns to 0; every model is closed exactly once
 * (checked by {@link ModelLeakChecker}); and no thread of the scorer is left. Sized for CI; raise
 * {@code -Dnearline.storm.records} (per thread) for a longer run.
 */
@ExtendWith(ModelLeakChecker.class)
class ConcurrencyStormTest {
    private static final int THREADS = 16;
    private static final int PER_THREAD = Integer.getInteger("nearline.storm.records", 400);
    private static final float[] W = Fixtures.WEIGHTS;

    static Stream<Object[]> configurations() {
        List<Object[]> c = new ArrayList<>();
        for (String batching : new String[] {"off", "AUTO", "ALWAYS"}) {
            for (int maxInFlight : new int[] {2, 48}) {
                c.add(new Object[] {batching, maxInFlight});
            }
        }
        return c.stream();
    }

    /** What happened to the submissions of one storm. */
    static final class Tally {
        final AtomicLong submitted = new AtomicLong();
        final AtomicLong succeeded = new AtomicLong();
        final AtomicLongArray failed = new AtomicLongArray(Kind.values().length);
        final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();

        long failures() {
            long n = 0;
            for (int i = 0; i < failed.length(); i++) {
                n += failed.get(i);
            }
            return n;
        }

        Map<Kind, Long> byKind() {
            Map<Kind, Long> m = new EnumMap<>(Kind.class);
            for (Kind k : Kind.values()) {
                m.put(k, failed.get(k.ordinal()));
            }
            return m;
        }
    }

    /** A record of the storm: its values, and what it may legitimately end as. */
    private record Rec(float[] values, boolean malformed, boolean poisoned, boolean deadline) {
        boolean allows(Kind kind) {
            return switch (kind) {
                case OVERLOADED, UNAVAILABLE -> true; // admission control and close() may refuse any record
                case INVALID_INPUT -> malformed;
                case INTERNAL -> poisoned;
                case DEADLINE_EXCEEDED -> deadline;
            };
        }
    }

    private static Rec record(SplittableRandom random) {
        int r = random.nextInt(20);
        boolean deadline = random.nextInt(4) == 0;
        if (r == 0) {
            return new Rec(new float[] {1, 2}, true, false, deadline);
        }
        if (r == 1) {
            return new Rec(new float[] {FakeLinearModel.POISON, 1, 1}, false, true, deadline);
        }
        return new Rec(new float[] {random.nextInt(100), random.nextInt(7) - 3, random.nextFloat()}, false, false, deadline);
    }

    private static void check(Tally t, Rec rec, FakeLinearModel reference, Float value, ScoringException error) {
        if (error != null) {
            t.failed.incrementAndGet(error.kind().ordinal());
            if (!rec.allows(error.kind())) {
                t.violations.add("record malformed=" + rec.malformed() + " poisoned=" + rec.poisoned() + " deadline="
                        + rec.deadline() + " failed with " + error);
            }
        } else {
            t.succeeded.incrementAndGet();
            if (rec.malformed() || rec.poisoned() || value == null || value != reference.expected(rec.values())) {
                t.violations.add("record malformed=" + rec.malformed() + " poisoned=" + rec.poisoned() + " scored " + value);
            }
        }
    }

    @ParameterizedTest(name = "batching={0}, maxInFlight={1}")
    @MethodSource("configurations")
    void storm_everyEntryPointWithCloseMidFlight_countsAddUpAndNothingIsLeft(String batching, int maxInFlight)
            throws Exception {
        String name = "storm-" + batching + "-" + maxInFlight;
        FakeLinearModel reference = new FakeLinearModel(W, Fixtures.BIAS);
        Pipeline.Builder<float[]> b = Pipeline.builder(ROW).name(name).model("lr", new FakeLinearModel(W, Fixtures.BIAS))
                .maxInFlight(maxInFlight).asyncThreads(2).asyncQueueCapacity(64)
                .closeGracePeriod(Duration.ofSeconds(20));
        if (!batching.equals("off")) {
            b.batching(16, Duration.ofMillis(1), Pipeline.BatchMode.valueOf(batching));
        }
        ManagedScorer<float[], Float> scorer = b.build(SCORE);
        Tally tally = new Tally();
        ConcurrentLinkedQueue<CompletableFuture<?>> futures = new ConcurrentLinkedQueue<>();
        CountDownLatch start = new CountDownLatch(1);
        CountDownLatch halfway = new CountDownLatch(THREADS);
        CountDownLatch closed = new CountDownLatch(1);
        ExecutorService threads = Executors.newFixedThreadPool(THREADS + 1);
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int w = 0; w < THREADS; w++) {
                long seed = 31L * w + maxInFlight;
                workers.add(threads.submit(() -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    start.await();
                    for (int i = 0; i < PER_THREAD / 2; i++) {
                        submit(scorer, random, tally, reference, futures);
                    }
                    halfway.countDown();
                    // Keep scoring while close() runs, and a little after it returned.
                    for (int i = 0; i < 1_000_000 && closed.getCount() > 0; i++) {
                        submit(scorer, random, tally, reference, futures);
                    }
                    for (int i = 0; i < PER_THREAD / 8; i++) {
                        submit(scorer, random, tally, reference, futures);
                    }
                    return null;
                }));
            }
            Future<?> chaos = threads.submit(() -> {
                start.await();
                scorer.swapModel("lr", new FakeLinearModel(W, Fixtures.BIAS));
                halfway.await();
                scorer.close();
                closed.countDown();
                return null;
            });
            start.countDown();
            for (Future<?> f : workers) {
                f.get(60, TimeUnit.SECONDS);
            }
            chaos.get(60, TimeUnit.SECONDS);
            for (CompletableFuture<?> f : futures) {
                try {
                    f.get(30, TimeUnit.SECONDS);
                } catch (ExecutionException expected) {
                    // counted by the future's own callback
                }
            }
        } finally {
            threads.shutdownNow();
            assertThat(threads.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
            scorer.close();
            reference.close();
        }
        System.out.printf("storm %s: %d submitted, %d scored, failures %s%n", name, tally.submitted.get(),
                tally.succeeded.get(), tally.byKind());
        assertThat(tally.violations).as("wrong answers or wrong kinds").isEmpty();
        assertThat(tally.succeeded.get() + tally.failures()).as("every submission ends exactly once")
                .isEqualTo(tally.submitted.get());
        assertThat(tally.failed.get(Kind.UNAVAILABLE.ordinal())).as("records were refused after close").isPositive();
        AdmissionTest.await("inFlight returns to 0", () -> scorer.inFlight() == 0);
        AdmissionTest.await("no thread of the scorer is left", () -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.isAlive() && t.getName().contains("-" + name + "-")));
    }

    private static void submit(ManagedScorer<float[], Float> scorer, SplittableRandom random, Tally t,
                               FakeLinearModel reference, ConcurrentLinkedQueue<CompletableFuture<?>> futures) {
        int mode = random.nextInt(10);
        if (mode < 5) {
            Rec rec = record(random);
            t.submitted.incrementAndGet();
            try {
                Float v = rec.deadline() ? scorer.score(rec.values(), Duration.ofNanos(random.nextInt(2_000_000)))
                        : scorer.score(rec.values());
                check(t, rec, reference, v, null);
            } catch (ScoringException e) {
                check(t, rec, reference, null, e);
            }
        } else if (mode < 9) {
            Rec rec = record(random);
            t.submitted.incrementAndGet();
            CompletableFuture<Float> f = rec.deadline()
                    ? scorer.scoreAsync(rec.values(), Duration.ofNanos(random.nextInt(2_000_000)))
                    : scorer.scoreAsync(rec.values());
            futures.add(f.handle((v, e) -> {
                if (e != null && !(e instanceof ScoringException)) {
                    t.violations.add("future failed with " + e);
                }
                check(t, rec, reference, v, (ScoringException) e);
                return null;
            }));
        } else {
            List<Rec> recs = new ArrayList<>();
            for (int i = 0, n = 1 + random.nextInt(12); i < n; i++) {
                recs.add(record(random));
            }
            boolean deadline = recs.stream().anyMatch(Rec::deadline);
            List<float[]> values = recs.stream().map(Rec::values).toList();
            t.submitted.addAndGet(recs.size());
            try {
                List<Outcome<Float>> out = deadline ? scorer.scoreAll(values, Duration.ofNanos(random.nextInt(3_000_000)))
                        : scorer.scoreAll(values);
                for (int i = 0; i < recs.size(); i++) {
                    Rec r = recs.get(i);
                    Rec asBatch = new Rec(r.values(), r.malformed(), r.poisoned(), deadline);
                    Outcome<Float> o = out.get(i);
                    check(t, asBatch, reference, o.isSuccess() ? o.get() : null, o.isSuccess() ? null : o.error());
                }
            } catch (ScoringException e) { // refused as a whole (OVERLOADED, UNAVAILABLE)
                for (Rec r : recs) {
                    check(t, r, reference, null, e);
                }
            }
        }
    }
}
