package dev.nearline.keda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nearline.api.Scorer;
import io.micrometer.core.instrument.Counter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Transport calls that never complete, probes and receives that fail or hang, against
 * {@link FakeTransport}: every call is bounded and frees its slot, the shutdown stays within the grace
 * period whatever hangs, readiness follows the broker's answers and liveness follows receive progress.
 * Scorer: {@link QueueWorkerTest#doubling()}, a real code-built pipeline.
 */
class QueueWorkerFaultsTest {
    /** Drain 2 s and the default lock duration: every transport call is bounded at 1 s. */
    private static final Duration DRAIN = Duration.ofSeconds(2);
    private static final Duration GRACE = Duration.ofSeconds(4);

    private static QueueWorker.Builder worker(Scorer<? super JsonNode, ?> scorer, Transport t) {
        return worker(scorer, t, 1);
    }

    private static QueueWorker.Builder worker(Scorer<? super JsonNode, ?> scorer, Transport t, int loops) {
        return QueueWorker.builder(scorer, t).concurrency(loops).maxBatchSize(8).batchWait(Duration.ofMillis(50))
                .backoff(Duration.ofMillis(50)).lockRenewalMargin(Duration.ZERO);
    }

    private static double timeouts(QueueWorker w, String call) {
        Counter c = w.meterRegistry().find("nearline.worker.transport.timeouts").tag("call", call).counter();
        return c == null ? 0 : c.count();
    }

    private static void offer(FakeTransport t, String prefix, int n) {
        IntStream.range(0, n).forEach(i -> t.offer(prefix + i, "{\"x\": " + i + "}", null, null));
    }

    // ------------------------------------------------------------------ bounded calls

    @Test
    void worker_replyNeverCompletes_freesTheSlotAfterTheCallTimeoutAndCountsIt() {
        FakeTransport t = new FakeTransport();
        t.hangReplies = true;
        offer(t, "h", 3);
        QueueWorker w = worker(QueueWorkerTest.doubling(), t).maxInFlight(3).drainTimeout(DRAIN).gracePeriod(GRACE).build();
        w.start();

        await().atMost(Duration.ofSeconds(10)).until(() -> timeouts(w, "reply") == 3);
        await().atMost(Duration.ofSeconds(5)).until(() -> w.inFlight() == 0);
        assertThat(t.hung).containsEntry("reply", 3);
        assertThat(t.completed).as("left to the broker's redelivery, not settled").isEmpty();
        assertThat(t.abandoned).isEmpty();

        // every slot is free again: a worker holding 3 at most takes and answers 3 more
        t.hangReplies = false;
        offer(t, "n", 3);
        await().atMost(Duration.ofSeconds(10)).until(() -> t.completed.keySet().containsAll(List.of("n0", "n1", "n2")));
        w.shutdown();
    }

    @Test
    void worker_settlementNeverCompletes_freesTheSlotAfterTheCallTimeoutAndCountsIt() {
        FakeTransport t = new FakeTransport();
        t.hangSettles = true;
        offer(t, "h", 3);
        QueueWorker w = worker(QueueWorkerTest.doubling(), t).maxInFlight(3).drainTimeout(DRAIN).gracePeriod(GRACE).build();
        w.start();

        await().atMost(Duration.ofSeconds(10)).until(() -> timeouts(w, "complete") == 3);
        await().atMost(Duration.ofSeconds(5)).until(() -> w.inFlight() == 0);
        assertThat(t.hung).containsEntry("complete", 3);
        assertThat(t.replies).hasSize(3);
        assertThat(w.meterRegistry().find("nearline.worker.messages.settled").counters()).isEmpty();

        t.hangSettles = false;
        offer(t, "n", 3);
        await().atMost(Duration.ofSeconds(10)).until(() -> t.completed.keySet().containsAll(List.of("n0", "n1", "n2")));
        w.shutdown();
    }

    @Test
    void worker_replyBlocksTheCallingThread_stillFreesTheSlotAfterTheCallTimeout() {
        FakeTransport t = new FakeTransport();
        t.replyBlock = new CountDownLatch(1); // a transport breaking its contract: the call itself hangs
        offer(t, "b", 1);
        QueueWorker w = worker(QueueWorkerTest.doubling(), t).drainTimeout(DRAIN).gracePeriod(GRACE).build();
        try {
            w.start();
            await().atMost(Duration.ofSeconds(10)).until(() -> w.inFlight() == 0 && t.receives.get() == 1);
            assertThat(timeouts(w, "reply")).isEqualTo(1);
            assertThat(t.replyBlock.getCount()).as("the reply call is still blocked").isEqualTo(1);
        } finally {
            t.openGates();
            w.shutdown();
        }
    }

    @Test
    void shutdown_repliesPendingWhenTheDrainBegins_releasesThemWithinTheDrainTimeout() throws Exception {
        FakeTransport t = new FakeTransport();
        t.hangReplies = true;
        offer(t, "d", 5);
        GatedScorer<JsonNode, Double> gated = new GatedScorer<>(QueueWorkerTest.doubling());
        QueueWorker w = worker(gated, t).drainTimeout(DRAIN).gracePeriod(GRACE).build();
        w.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> gated.arrived() == 5);

        CompletableFuture<QueueWorker.ShutdownSummary> stopping = CompletableFuture.supplyAsync(w::shutdown);
        await().atMost(Duration.ofSeconds(5)).until(() -> !w.isReady());
        gated.open(); // scored now: the replies go out during the drain and never complete
        QueueWorker.ShutdownSummary summary = stopping.get(30, TimeUnit.SECONDS);

        assertThat(summary.drained()).as("released after their reply timed out, inside the drain").isEqualTo(5);
        assertThat(summary.abandoned()).isZero();
        assertThat(summary.took()).isLessThan(GRACE);
        assertThat(w.inFlight()).isZero();
        assertThat(timeouts(w, "reply")).isEqualTo(5);
    }

    @Test
    void shutdown_scoringStuckAndAbandonAndCloseHang_stillReturnsWithinTheGracePeriod() {
        FakeTransport t = new FakeTransport();
        t.hangSettles = true;
        t.closeGate = new CountDownLatch(1);
        offer(t, "s", 4);
        GatedScorer<JsonNode, Double> stuck = new GatedScorer<>(QueueWorkerTest.doubling());
        Duration drain = Duration.ofSeconds(1);
        Duration grace = Duration.ofSeconds(3);
        QueueWorker w = worker(stuck, t).drainTimeout(drain).gracePeriod(grace).build();
        try {
            w.start();
            await().atMost(Duration.ofSeconds(10)).until(() -> stuck.arrived() == 4);

            QueueWorker.ShutdownSummary summary = w.shutdown();

            assertThat(summary.took()).as("drain, hung abandons and a hung close, all within the grace period")
                    .isLessThan(grace);
            assertThat(summary.took()).as("the drain timeout was waited out").isGreaterThanOrEqualTo(drain);
            assertThat(summary.abandoned()).isEqualTo(4);
            assertThat(t.hung).containsEntry("abandon", 4);
            assertThat(timeouts(w, "abandon")).isEqualTo(4);
            assertThat(w.inFlight()).as("released to the broker's redelivery").isZero();
        } finally {
            stuck.open();
            t.openGates();
        }
    }

    // ------------------------------------------------------------------ liveness: receive progress

    @Test
    void isLive_everySlotHeldSoTheLoopCannotReceive_turnsFalseAfterTheStallWindow() {
        FakeTransport t = new FakeTransport();
        offer(t, "m", 1);
        AtomicLong nanos = new AtomicLong();
        GatedScorer<JsonNode, Double> gated = new GatedScorer<>(QueueWorkerTest.doubling());
        // scoreAsync per record: the loop is free, and spins waiting for the one slot
        QueueWorker w = worker(gated, t).batching(false).maxInFlight(1).stallTimeout(Duration.ofSeconds(60))
                .ticker(nanos::get).build();
        try {
            w.start();
            await().atMost(Duration.ofSeconds(10)).until(() -> gated.arrived() == 1);
            assertThat(w.isLive()).isTrue();

            nanos.addAndGet(Duration.ofSeconds(61).toNanos());
            // two probes (a second apart) later the loop has polled for a slot many times: loop progress
            // without receive progress
            int probes = t.probes.get();
            await().atMost(Duration.ofSeconds(10)).until(() -> t.probes.get() >= probes + 2);
            assertThat(w.isLive()).as("no receive for longer than the stall window").isFalse();

            gated.open();
            await().atMost(Duration.ofSeconds(10)).until(() -> t.completed.containsKey("m0"));
            await().atMost(Duration.ofSeconds(5)).until(w::isLive);
        } finally {
            gated.open();
            w.shutdown();
        }
    }

    @Test
    void isLive_idleOnAnEmptyQueue_staysLiveAsTimePasses() {
        FakeTransport t = new FakeTransport();
        AtomicLong nanos = new AtomicLong();
        QueueWorker w = worker(QueueWorkerTest.doubling(), t, 2).stallTimeout(Duration.ofSeconds(60))
                .ticker(nanos::get).build();
        w.start();
        for (int i = 0; i < 3; i++) {
            nanos.addAndGet(Duration.ofMinutes(5).toNanos());
            int before = t.receives.get();
            // two receives returned after the clock moved: an empty receive on a healthy link is progress
            await().atMost(Duration.ofSeconds(5)).until(() -> t.receives.get() >= before + 4);
            assertThat(w.isLive()).as("idle for %d x 5 min", i + 1).isTrue();
        }
        assertThat(w.isReady()).isTrue();
        w.shutdown();
    }

    @Test
    void isLive_receivesKeepFailing_turnsFalseAfterTheStallWindowAndBackWhenTheyWork() {
        FakeTransport t = new FakeTransport();
        t.failReceives = true;
        AtomicLong nanos = new AtomicLong();
        QueueWorker w = worker(QueueWorkerTest.doubling(), t).stallTimeout(Duration.ofSeconds(60))
                .ticker(nanos::get).build();
        w.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> w.meterRegistry()
                .counter("nearline.worker.receive.failures").count() >= 2);
        await().atMost(Duration.ofSeconds(5)).until(() -> !w.isReady());
        assertThat(w.isLive()).as("within the stall window").isTrue();

        nanos.addAndGet(Duration.ofSeconds(61).toNanos());
        double failures = w.meterRegistry().counter("nearline.worker.receive.failures").count();
        await().atMost(Duration.ofSeconds(5)).until(() -> w.meterRegistry()
                .counter("nearline.worker.receive.failures").count() >= failures + 2);
        assertThat(w.isLive()).as("receive calls keep returning, none with progress").isFalse();

        t.failReceives = false;
        await().atMost(Duration.ofSeconds(10)).until(w::isLive);
        await().atMost(Duration.ofSeconds(10)).until(w::isReady);
        w.shutdown();
    }

    @Test
    void isLive_oneLoopStuckInAReceive_turnsFalseWhileTheOtherStillReceives() {
        FakeTransport t = new FakeTransport();
        CountDownLatch release = new CountDownLatch(1);
        t.holdNextReceive.set(release);
        AtomicLong nanos = new AtomicLong();
        QueueWorker w = worker(QueueWorkerTest.doubling(), t, 2).stallTimeout(Duration.ofSeconds(60))
                .ticker(nanos::get).build();
        try {
            w.start();
            await().atMost(Duration.ofSeconds(5)).until(() -> t.holdNextReceive.get() == null && t.receives.get() >= 2);

            nanos.addAndGet(Duration.ofSeconds(61).toNanos());
            int before = t.receives.get();
            await().atMost(Duration.ofSeconds(5)).until(() -> t.receives.get() >= before + 2);
            assertThat(w.isLive()).as("one loop has been in one receive for longer than the stall window").isFalse();

            release.countDown();
            await().atMost(Duration.ofSeconds(5)).until(w::isLive);
        } finally {
            t.openGates();
            w.shutdown();
        }
    }

    // ------------------------------------------------------------------ readiness: the broker answers

    @Test
    void isReady_probeFailsOrNeverAnswers_turnsFalseUntilAProbeSucceeds() {
        FakeTransport t = new FakeTransport();
        t.probe = () -> CompletableFuture.failedFuture(new IllegalStateException("connection refused"));
        QueueWorker w = worker(QueueWorkerTest.doubling(), t).drainTimeout(DRAIN).gracePeriod(GRACE).build();
        w.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> !w.isReady());
        assertThat(w.meterRegistry().get("nearline.worker.ready").gauge().value()).isZero();

        t.probe = CompletableFuture::new; // hangs: the probe is cut off and counted, the worker stays unready
        await().atMost(Duration.ofSeconds(10)).until(() -> timeouts(w, "probe") >= 1);
        assertThat(w.isReady()).isFalse();
        assertThat(w.isLive()).as("a broker out of reach for less than the stall window").isTrue();

        t.probe = () -> CompletableFuture.completedFuture(null);
        await().atMost(Duration.ofSeconds(10)).until(w::isReady);
        assertThat(w.meterRegistry().get("nearline.worker.ready").gauge().value()).isEqualTo(1);
        w.shutdown();
    }

    @Test
    void builder_gracePeriodNotAboveTheDrainTimeout_failsNamingBoth() {
        QueueWorker.Builder b = worker(QueueWorkerTest.doubling(), new FakeTransport()).drainTimeout(Duration.ofSeconds(20))
                .gracePeriod(Duration.ofMillis(20_500));
        assertThatThrownBy(b::build).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("gracePeriod (20500 ms) must exceed drainTimeout (20000 ms) by at least 1000 ms");
        assertThatThrownBy(() -> QueueWorker.builder(QueueWorkerTest.doubling(), new FakeTransport())
                .lockDuration(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("lockDuration must be positive");
    }
}
