package dev.nearline.keda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nearline.api.Scorer;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.core.Pipeline;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.DataType;
import dev.nearline.api.Model;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Worker behaviour the Service Bus stand-in cannot show (lock renewal, reply sessions) and failure
 * injection, against {@link FakeTransport}: an in-memory transport, not a broker. The scorer is a real
 * code-built pipeline with a Java model (score = the sum of the features).
 */
class QueueWorkerTest {

    /** A pipeline scoring {@code {"x": n}} as {@code n * 2}. */
    static Scorer<JsonNode, Double> doubling() {
        return Pipeline.builder((JsonNode r) -> Tensors.of("x", Tensor.ofFloats(new float[] {r.get("x").floatValue()}, 1, 1)))
                .model(doublingModel()).build(out -> (double) out.get(0).floatAt(0));
    }

    /** A Java model: {@code y = 2x}, for input {@code x} of shape {@code [-1, 1]}. */
    static Model doublingModel() {
        return new Model() {
            @Override
            public ModelSignature signature() {
                return new ModelSignature(List.of(TensorSpec.of("x", DataType.FP32, -1, 1)),
                        List.of(TensorSpec.of("y", DataType.FP32, -1, 1)));
            }

            @Override
            public Tensors predict(Tensors inputs) {
                float[] x = inputs.require("x").toFloatArray();
                float[] y = new float[x.length];
                for (int i = 0; i < x.length; i++) {
                    y[i] = x[i] * 2;
                }
                return Tensors.of("y", Tensor.ofFloats(y, x.length, 1));
            }

            @Override
            public void close() {
            }
        };
    }

    private static QueueWorker.Builder worker(Scorer<? super JsonNode, ?> scorer, Transport t) {
        return QueueWorker.builder(scorer, t).concurrency(1).maxBatchSize(8).batchWait(Duration.ofMillis(50))
                .backoff(Duration.ofMillis(50)).drainTimeout(Duration.ofSeconds(5));
    }

    @Test
    void worker_lockNearExpiryWhileScoring_renewsItOnce() {
        FakeTransport t = new FakeTransport();
        t.renew = m -> CompletableFuture.completedFuture(Instant.now().plusSeconds(60));
        for (int i = 0; i < 3; i++) {
            t.offer("m" + i, "{\"x\": " + i + "}", null, Instant.now().plusSeconds(2));
        }
        GatedScorer<JsonNode, Double> gated = new GatedScorer<>(doubling());
        QueueWorker w = worker(gated, t).lockRenewalMargin(Duration.ofSeconds(10)).build();
        w.start();

        await().atMost(Duration.ofSeconds(10)).until(() -> t.renewals.size() == 3);
        gated.open();
        await().atMost(Duration.ofSeconds(10)).until(() -> t.completed.size() == 3);
        w.shutdown();

        assertThat(t.renewals).containsOnly(Map.entry("m0", 1), Map.entry("m1", 1), Map.entry("m2", 1));
        assertThat(w.meterRegistry().counter("nearline.worker.lock.renewals", "result", "renewed").count()).isEqualTo(3);
    }

    @Test
    void worker_lockRenewalFails_countsItAndStillSettles() {
        FakeTransport t = new FakeTransport();
        t.renew = m -> CompletableFuture.failedFuture(new IllegalStateException("MESSAGE_LOCK_LOST"));
        t.offer("m0", "{\"x\": 1}", null, Instant.now().plusSeconds(1));
        GatedScorer<JsonNode, Double> gated = new GatedScorer<>(doubling());
        QueueWorker w = worker(gated, t).lockRenewalMargin(Duration.ofSeconds(10)).build();
        w.start();

        await().atMost(Duration.ofSeconds(10)).until(() ->
                w.meterRegistry().counter("nearline.worker.lock.renewals", "result", "failed").count() >= 1);
        gated.open();
        await().atMost(Duration.ofSeconds(10)).until(() -> t.completed.containsKey("m0"));
        w.shutdown();
    }

    @Test
    void worker_lockRenewalOff_neverRenews() {
        FakeTransport t = new FakeTransport();
        t.offer("m0", "{\"x\": 1}", null, Instant.now().plusSeconds(1));
        QueueWorker w = worker(doubling(), t).lockRenewalMargin(Duration.ZERO).build();
        w.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> t.completed.containsKey("m0"));
        w.shutdown();
        assertThat(t.renewals).isEmpty();
    }

    @Test
    void worker_requestWithReplyToSessionId_repliesIntoThatSession() {
        FakeTransport t = new FakeTransport();
        t.offer("s1", "{\"x\": 4}", "client-7", null);
        t.offer("s2", "{\"x\": 5}", null, null);
        QueueWorker w = worker(doubling(), t).build();
        w.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> t.completed.size() == 2);
        w.shutdown();

        Map<String, Reply> byId = new java.util.HashMap<>();
        t.replies.forEach(r -> byId.put(r.correlationId(), r));
        assertThat(byId.get("s1").sessionId()).isEqualTo("client-7");
        assertThat(byId.get("s1").messageId()).isEqualTo("r:s1");
        assertThat(byId.get("s1").to()).isEqualTo("replies");
        assertThat(TinyPipeline.tree(new String(byId.get("s1").body(), java.nio.charset.StandardCharsets.UTF_8))
                .at("/output").doubleValue()).isEqualTo(8.0);
        assertThat(byId.get("s2").sessionId()).isNull();
    }

    @Test
    void worker_slowModel_neverHoldsMoreThanMaxInFlight() {
        FakeTransport t = new FakeTransport();
        IntStream.range(0, 100).forEach(i -> t.offer("m" + i, "{\"x\": " + i + "}", null, null));
        GatedScorer<JsonNode, Double> gated = new GatedScorer<>(doubling());
        QueueWorker w = QueueWorker.builder(gated, t).concurrency(4).maxBatchSize(8).maxInFlight(10)
                .batchWait(Duration.ofMillis(50)).build();
        w.start();

        await().atMost(Duration.ofSeconds(10)).until(() -> w.inFlight() == 10);
        assertThat(t.maxLocked.get()).isEqualTo(10);
        gated.open();
        await().atMost(Duration.ofSeconds(20)).until(() -> t.completed.size() == 100);
        w.shutdown();
        assertThat(t.maxLocked.get()).isLessThanOrEqualTo(10);
    }

    @Test
    void worker_replySendFails_abandonsTheRequestInsteadOfCompleting() {
        FakeTransport t = new FakeTransport();
        t.failReplies = true;
        t.offer("m0", "{\"x\": 1}", null, null);
        QueueWorker w = worker(doubling(), t).maxDeliveryCount(100).build();
        w.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> t.abandoned.getOrDefault("m0", 0) >= 2);
        t.failReplies = false;
        await().atMost(Duration.ofSeconds(10)).until(() -> t.completed.containsKey("m0"));
        w.shutdown();
        assertThat(w.meterRegistry().counter("nearline.worker.replies", "result", "failed").count()).isGreaterThanOrEqualTo(2);
        assertThat(t.replies).hasSize(1);
    }

    @Test
    void worker_settlementRefused_countsItAndKeepsWorking() {
        FakeTransport t = new FakeTransport();
        t.failCompletes = true;
        IntStream.range(0, 20).forEach(i -> t.offer("m" + i, "{\"x\": " + i + "}", null, null));
        QueueWorker w = worker(doubling(), t).maxInFlight(4).build();
        w.start();
        await().atMost(Duration.ofSeconds(10)).until(() ->
                w.meterRegistry().counter("nearline.worker.settle.failures", "action", "complete").count() == 20);
        assertThat(w.inFlight()).isZero();
        w.shutdown();
    }

    @Test
    void isReady_startThenShutdown_turnsTrueThenFalse() {
        FakeTransport t = new FakeTransport();
        QueueWorker w = worker(doubling(), t).build();
        assertThat(w.isReady()).isFalse();
        w.start();
        assertThat(w.isReady()).isTrue();
        assertThat(w.isLive()).isTrue();
        QueueWorker.ShutdownSummary s = w.shutdown();
        assertThat(w.isReady()).isFalse();
        assertThat(w.shutdown()).as("idempotent").isEqualTo(s);
        assertThatThrownBy(w::start).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void isLive_transportDisconnectedPastTheStallTimeout_turnsFalse() {
        FakeTransport t = new FakeTransport();
        java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong();
        QueueWorker w = worker(doubling(), t).stallTimeout(Duration.ofSeconds(60)).ticker(nanos::get).build();
        w.start();
        t.disconnected = true;
        assertThat(w.isReady()).isFalse();
        nanos.addAndGet(Duration.ofSeconds(30).toNanos());
        assertThat(w.isLive()).as("disconnected for less than the stall timeout").isTrue();

        nanos.addAndGet(Duration.ofSeconds(31).toNanos());
        await().atMost(Duration.ofSeconds(5)).until(() -> !w.isLive());
        t.disconnected = false;
        await().atMost(Duration.ofSeconds(5)).until(w::isLive);
        w.shutdown();
    }

    @Test
    void builder_settingTwiceOrBadValue_fails() {
        FakeTransport t = new FakeTransport();
        QueueWorker.Builder b = QueueWorker.builder(doubling(), t).concurrency(2);
        assertThatThrownBy(() -> b.concurrency(3)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("concurrency was already set to 2");
        assertThatThrownBy(() -> b.maxBatchSize(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxBatchSize must be at least 1, got 0");
        assertThatThrownBy(() -> b.batchWait(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
    }
}
