package dev.nearline.keda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.azure.messaging.servicebus.ServiceBusMessage;
import com.azure.messaging.servicebus.ServiceBusReceivedMessage;
import com.fasterxml.jackson.databind.JsonNode;
import dev.nearline.api.Outcome;
import dev.nearline.api.Scorer;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.core.Pipeline;
import dev.nearline.keda.internal.HttpEndpoints;
import dev.nearline.keda.standin.NetworkCut;
import dev.nearline.keda.standin.ServiceBusStandIn;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worker's whole behaviour through the real Service Bus SDK against the embedded-Artemis stand-in,
 * scoring the {@code tiny} ONNX model from a JSON pipeline file. Each test uses its own request queue.
 */
class QueueWorkerServiceBusTest {
    private static final String REPLIES = "-replies";
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    @TempDir
    static Path dir;
    private static ServiceBusStandIn standIn;
    private static Path pipeline;
    private static Scorer<Object, Object> reference;

    @BeforeAll
    static void start() throws Exception {
        // Stand-in delivery counts start at 0: one more attempt than the worker's maxDeliveryCount (3).
        ServiceBusStandIn.Builder b = ServiceBusStandIn.builder();
        for (String q : List.of("bulk", "poison", "crash", "drain", "drain-timeout", "retry", "expired", "async", "trace")) {
            b.queue(q, 4).queue(q + REPLIES, 4);
        }
        // every cut connection counts a delivery of what it held: room for a few
        b.queue("outage", 10).queue("outage" + REPLIES, 10);
        standIn = b.start();
        pipeline = TinyPipeline.write(dir);
        reference = Pipeline.load(pipeline);
    }

    @AfterAll
    static void stop() {
        reference.close();
        standIn.close();
    }

    private static ServiceBusTransport transport(String queue) {
        return ServiceBusTransport.builder().connectionString(standIn.connectionString()).queue(queue)
                .replyTimeToLive(Duration.ofMinutes(10)).build();
    }

    private static QueueWorker.Builder worker(Scorer<? super JsonNode, ?> scorer, Transport transport) {
        return QueueWorker.builder(scorer, transport).concurrency(2).maxBatchSize(32).batchWait(Duration.ofMillis(200))
                .maxDeliveryCount(3).lockRenewalMargin(Duration.ZERO).backoff(Duration.ofMillis(100));
    }

    private static double expectedScore(int i) {
        @SuppressWarnings("unchecked")
        Map<String, Object> out = (Map<String, Object>) reference.score(TinyPipeline.tree(TinyPipeline.record(i)));
        return ((Number) out.get("score")).doubleValue();
    }

    private static JsonNode body(ServiceBusReceivedMessage m) {
        return TinyPipeline.tree(m.getBody().toString());
    }

    private static List<ServiceBusMessage> requests(Requester requester, String prefix, int n) {
        return IntStream.range(0, n).mapToObj(i -> requester.request(prefix + i, TinyPipeline.record(i))).toList();
    }

    /** Replies by CorrelationId; asserts that duplicates (at-least-once) carry the same answer. */
    private static Map<String, JsonNode> byCorrelationId(List<ServiceBusReceivedMessage> replies) {
        Map<String, JsonNode> out = new HashMap<>();
        for (ServiceBusReceivedMessage r : replies) {
            JsonNode output = body(r).get("output");
            JsonNode previous = out.putIfAbsent(r.getCorrelationId(), output);
            if (previous != null) {
                assertThat(output).as("a second reply to %s must give the same answer", r.getCorrelationId())
                        .isEqualTo(previous);
            }
        }
        return out;
    }

    private static void assertScores(Map<String, JsonNode> outputs, String prefix, int n) {
        for (int i = 0; i < n; i++) {
            JsonNode out = outputs.get(prefix + i);
            assertThat(out).as("reply to %s%d", prefix, i).isNotNull();
            assertThat(out.get("score").doubleValue()).as("score of %s%d", prefix, i).isEqualTo(expectedScore(i));
        }
    }

    @Test
    void worker_tenThousandRequests_answersEachOnceWithTheInProcessScore() throws Exception {
        int n = 10_000;
        try (Requester requester = new Requester(standIn.connectionString(), "bulk", "bulk" + REPLIES)) {
            requester.send(requests(requester, "b", n));
            QueueWorker worker = worker(Pipeline.load(pipeline), transport("bulk")).build();
            worker.start();
            List<ServiceBusReceivedMessage> replies = requester.replies(n, Duration.ofMinutes(3));
            QueueWorker.ShutdownSummary summary = worker.shutdown();

            assertThat(replies).hasSize(n);
            assertThat(replies).allSatisfy(r -> {
                assertThat(r.getMessageId()).isEqualTo("r:" + r.getCorrelationId());
                assertThat(r.getApplicationProperties()).containsEntry("nearline-status", "OK");
                assertThat(body(r).get("status").asText()).isEqualTo("OK");
            });
            Map<String, JsonNode> outputs = byCorrelationId(replies);
            assertThat(outputs).hasSize(n);
            assertScores(outputs, "b", n);
            assertThat(requester.replies(1, Duration.ofMillis(500))).as("no extra replies").isEmpty();
            assertThat(standIn.messageCount("bulk")).as("every request completed").isZero();
            assertThat(worker.meterRegistry().counter("nearline.worker.messages.settled", "outcome", "complete",
                    "kind", "OK").count()).isEqualTo(n);
            assertThat(summary.abandoned()).isZero();
        }
    }

    @Test
    void worker_requestsWithTraceContext_repliesContinueEachTrace() throws Exception {
        String trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        String diagnostic = "0af7651916cd43dd8448eb211c80319c";
        try (Requester requester = new Requester(standIn.connectionString(), "trace", "trace" + REPLIES)) {
            ServiceBusMessage traced = requester.request("traced", TinyPipeline.record(0));
            traced.getApplicationProperties().put("traceparent", "00-" + trace + "-00f067aa0ba902b7-01");
            traced.getApplicationProperties().put("tracestate", "congo=t61rcWkgMzE");
            ServiceBusMessage fromSdk = requester.request("from-sdk", TinyPipeline.record(1));
            fromSdk.getApplicationProperties().put("Diagnostic-Id", "00-" + diagnostic + "-b7ad6b7169203331-00");
            ServiceBusMessage malformed = requester.request("malformed", TinyPipeline.record(2));
            malformed.getApplicationProperties().put("traceparent", "00-" + "0".repeat(32) + "-00f067aa0ba902b7-01");
            ServiceBusMessage failing = requester.request("failing", "{\"f0\": \"abc\"}");
            failing.getApplicationProperties().put("traceparent", "00-" + trace + "-1111111111111111-01");
            requester.send(List.of(traced, fromSdk, malformed, requester.request("plain", TinyPipeline.record(3)),
                    failing));
            QueueWorker worker = worker(Pipeline.load(pipeline), transport("trace")).build();
            worker.start();
            List<ServiceBusReceivedMessage> replies = requester.replies(5, Duration.ofSeconds(30));
            worker.shutdown();

            Map<String, Map<String, Object>> props = new HashMap<>();
            replies.forEach(r -> props.put(r.getCorrelationId(), r.getApplicationProperties()));
            assertThat(props).containsOnlyKeys("traced", "from-sdk", "malformed", "plain", "failing");
            assertThat(props.get("traced").get("traceparent")).asString()
                    .matches("00-" + trace + "-[0-9a-f]{16}-01").doesNotContain("00f067aa0ba902b7");
            assertThat(props.get("traced")).containsEntry("tracestate", "congo=t61rcWkgMzE");
            assertThat(props.get("from-sdk").get("traceparent")).asString().matches("00-" + diagnostic + "-[0-9a-f]{16}-00");
            assertThat(props.get("failing").get("traceparent")).as("an error reply continues the trace too").asString()
                    .matches("00-" + trace + "-[0-9a-f]{16}-01");
            assertThat(props.get("failing")).containsEntry("nearline-error-kind", "INVALID_INPUT");
            for (String id : List.of("malformed", "plain")) {
                assertThat(props.get(id).get("traceparent")).as(id + ": a new trace").asString()
                        .matches("00-[0-9a-f]{32}-[0-9a-f]{16}-00").doesNotContain("0".repeat(32));
                assertThat(props.get(id)).doesNotContainKey("tracestate");
            }
        }
    }

    @Test
    void worker_poisonRequests_deadLettersThemWithReasonAndAnswersWithTheError() throws Exception {
        try (Requester requester = new Requester(standIn.connectionString(), "poison", "poison" + REPLIES)) {
            RecordingTransport transport = new RecordingTransport(transport("poison"));
            requester.send(List.of(
                    requester.raw("bad-json", "{\"record\": {\"f0\": 1"),
                    requester.raw("no-record", "{\"rec\": {}}"),
                    requester.request("bad-field", "{\"f0\": \"abc\"}"),
                    requester.raw(null, "{\"record\": {}}"),
                    requester.request("good", TinyPipeline.record(0))));
            QueueWorker worker = worker(Pipeline.load(pipeline), transport).build();
            worker.start();

            List<ServiceBusReceivedMessage> replies = requester.replies(4, Duration.ofSeconds(30));
            List<ServiceBusReceivedMessage> dead = requester.deadLetters(4, Duration.ofSeconds(30));
            worker.shutdown();

            assertThat(dead).hasSize(4);
            assertThat(dead).extracting(ServiceBusReceivedMessage::getMessageId)
                    .contains("bad-json", "no-record", "bad-field");
            assertThat(transport.deadLetterReasons).hasSize(4).allSatisfy((id, reason) ->
                    assertThat(reason).isEqualTo("INVALID_INPUT"));
            assertThat(transport.deadLetterDescriptions.get("bad-json")).contains("not valid JSON");
            assertThat(transport.deadLetterDescriptions.get("no-record")).contains("no 'record'");
            assertThat(transport.deadLetterDescriptions.get("bad-field")).contains("f0");
            assertThat(transport.deadLetterDescriptions.get("")).contains("no MessageId");
            Map<String, ServiceBusReceivedMessage> byId = new HashMap<>();
            replies.forEach(r -> byId.put(r.getCorrelationId(), r));
            assertThat(byId).containsOnlyKeys("bad-json", "no-record", "bad-field", "good");
            for (String id : List.of("bad-json", "no-record", "bad-field")) {
                assertThat(byId.get(id).getApplicationProperties()).containsEntry("nearline-error-kind", "INVALID_INPUT");
                assertThat(body(byId.get(id)).at("/error/kind").asText()).isEqualTo("INVALID_INPUT");
            }
            assertThat(body(byId.get("good")).at("/output/score").doubleValue()).isEqualTo(expectedScore(0));
        }
    }

    @Test
    void worker_stoppedAbruptlyMidBatch_secondWorkerAnswersEveryRequest() throws Exception {
        int n = 300;
        try (Requester requester = new Requester(standIn.connectionString(), "crash", "crash" + REPLIES)) {
            requester.send(requests(requester, "c", n));
            GatedScorer<Object, Object> stuck = new GatedScorer<>(Pipeline.load(pipeline));
            ServiceBusTransport crashing = transport("crash");
            QueueWorker first = worker(stuck, crashing).build();
            first.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> stuck.arrived() > 0);
            int held = first.inFlight();

            crashing.close(); // the process dies: the connection drops with messages locked and unsettled
            QueueWorker second = worker(Pipeline.load(pipeline), transport("crash")).build();
            second.start();
            List<ServiceBusReceivedMessage> replies = requester.replies(n, Duration.ofMinutes(2));
            stuck.open(); // the dead worker's scoring returns; its replies and settlements go nowhere
            second.shutdown();
            first.shutdown();

            assertThat(held).isPositive();
            Map<String, JsonNode> outputs = byCorrelationId(replies);
            assertThat(outputs).hasSize(n);
            assertScores(outputs, "c", n);
            assertThat(standIn.messageCount("crash")).isZero();
            assertThat(requester.deadLetters(1, Duration.ofMillis(300))).isEmpty();
        }
    }

    @Test
    void shutdown_withMessagesInFlight_settlesThemAllWithinTheDrainTimeout() throws Exception {
        int n = 200;
        try (Requester requester = new Requester(standIn.connectionString(), "drain", "drain" + REPLIES)) {
            requester.send(requests(requester, "d", n));
            GatedScorer<Object, Object> slow = new GatedScorer<>(Pipeline.load(pipeline));
            RecordingTransport transport = new RecordingTransport(transport("drain"));
            QueueWorker worker = worker(slow, transport).drainTimeout(Duration.ofSeconds(10)).build();
            worker.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> slow.arrived() > 0);

            CompletableFuture<QueueWorker.ShutdownSummary> stopping = CompletableFuture.supplyAsync(worker::shutdown);
            await().atMost(Duration.ofSeconds(5)).until(() -> !worker.isReady());
            int inFlight = worker.inFlight();
            slow.open();
            QueueWorker.ShutdownSummary summary = stopping.get();

            assertThat(inFlight).isPositive();
            assertThat(summary.abandoned()).isZero();
            assertThat(summary.drained()).isEqualTo(inFlight);
            assertThat(summary.took()).isLessThan(Duration.ofSeconds(10));
            assertThat(worker.inFlight()).isZero();
            assertThat(transport.completes.size()).isEqualTo(inFlight);
            List<ServiceBusReceivedMessage> drainedReplies = requester.replies(inFlight, Duration.ofSeconds(30));
            assertThat(byCorrelationId(drainedReplies)).hasSize(inFlight).containsOnlyKeys(transport.completes.keySet());
            // nothing lost: the rest waits in the queue, and a new worker answers it
            assertThat(standIn.messageCount("drain")).isEqualTo(n - inFlight);
            QueueWorker next = worker(Pipeline.load(pipeline), transport("drain")).build();
            next.start();
            List<ServiceBusReceivedMessage> rest = requester.replies(n - inFlight, Duration.ofMinutes(1));
            next.shutdown();
            List<ServiceBusReceivedMessage> all = new ArrayList<>(drainedReplies);
            all.addAll(rest);
            Map<String, JsonNode> outputs = byCorrelationId(all);
            assertThat(outputs).hasSize(n);
            assertScores(outputs, "d", n);
        }
    }

    @Test
    void shutdown_drainTimeoutPassesFirst_abandonsLeftoversForRedelivery() throws Exception {
        int n = 40;
        try (Requester requester = new Requester(standIn.connectionString(), "drain-timeout", "drain-timeout" + REPLIES)) {
            requester.send(requests(requester, "t", n));
            GatedScorer<Object, Object> stuck = new GatedScorer<>(Pipeline.load(pipeline));
            QueueWorker worker = worker(stuck, transport("drain-timeout")).drainTimeout(Duration.ofMillis(500)).build();
            worker.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> stuck.arrived() > 0);
            int inFlight = worker.inFlight();

            QueueWorker.ShutdownSummary summary = worker.shutdown();
            stuck.open();

            assertThat(summary.abandoned()).isEqualTo(inFlight);
            assertThat(summary.took()).isLessThan(Duration.ofSeconds(5));
            QueueWorker next = worker(Pipeline.load(pipeline), transport("drain-timeout")).build();
            next.start();
            List<ServiceBusReceivedMessage> replies = requester.replies(n, Duration.ofMinutes(1));
            next.shutdown();
            Map<String, JsonNode> outputs = byCorrelationId(replies);
            assertThat(outputs).hasSize(n);
            assertScores(outputs, "t", n);
        }
    }

    @Test
    void worker_retryableFailure_abandonsThenRepliesAndDeadLettersOnTheLastDelivery() throws Exception {
        try (Requester requester = new Requester(standIn.connectionString(), "retry", "retry" + REPLIES)) {
            RecordingTransport transport = new RecordingTransport(transport("retry"));
            Scorer<Object, Object> down = new FailingScorer(Kind.UNAVAILABLE, "triton at http://triton:8000 is down");
            requester.send(requester.request("u1", TinyPipeline.record(1)));
            QueueWorker worker = worker(down, transport).build();
            worker.start();

            List<ServiceBusReceivedMessage> replies = requester.replies(1, Duration.ofSeconds(30));
            List<ServiceBusReceivedMessage> dead = requester.deadLetters(1, Duration.ofSeconds(30));
            worker.shutdown();

            // stand-in deliveries 0, 1, 2 are abandoned; delivery 3 is the last for maxDeliveryCount 3
            assertThat(transport.abandons).containsEntry("u1", 3);
            assertThat(transport.deadLetterReasons).containsEntry("u1", "UNAVAILABLE");
            assertThat(dead).extracting(ServiceBusReceivedMessage::getMessageId).containsExactly("u1");
            assertThat(replies).hasSize(1);
            assertThat(replies.get(0).getApplicationProperties()).containsEntry("nearline-error-kind", "UNAVAILABLE");
            assertThat(body(replies.get(0)).at("/error/message").asText()).contains("triton");
        }
    }

    @Test
    void worker_requestPastItsDeadline_repliesDeadlineExceededAndCompletes() throws Exception {
        try (Requester requester = new Requester(standIn.connectionString(), "expired", "expired" + REPLIES)) {
            long past = Instant.now().minusSeconds(60).toEpochMilli();
            long future = Instant.now().plusSeconds(600).toEpochMilli();
            requester.send(List.of(
                    requester.raw("late", "{\"record\":" + TinyPipeline.record(3) + ",\"deadlineMs\":" + past + "}"),
                    requester.raw("on-time", "{\"record\":" + TinyPipeline.record(4) + ",\"deadlineMs\":" + future + "}")));
            QueueWorker worker = worker(Pipeline.load(pipeline), transport("expired")).build();
            worker.start();

            List<ServiceBusReceivedMessage> replies = requester.replies(2, Duration.ofSeconds(30));
            worker.shutdown();

            Map<String, JsonNode> bodies = new HashMap<>();
            replies.forEach(r -> bodies.put(r.getCorrelationId(), body(r)));
            assertThat(bodies.get("late").at("/error/kind").asText()).isEqualTo("DEADLINE_EXCEEDED");
            assertThat(bodies.get("on-time").at("/output/score").doubleValue()).isEqualTo(expectedScore(4));
            assertThat(standIn.messageCount("expired")).isZero();
            assertThat(requester.deadLetters(1, Duration.ofMillis(300))).isEmpty();
        }
    }

    @Test
    void worker_batchingOff_scoresEachRecordThroughScoreAsync() throws Exception {
        int n = 500;
        try (Requester requester = new Requester(standIn.connectionString(), "async", "async" + REPLIES)) {
            requester.send(requests(requester, "a", n));
            QueueWorker worker = worker(Pipeline.load(pipeline), transport("async")).batching(false).build();
            worker.start();
            List<ServiceBusReceivedMessage> replies = requester.replies(n, Duration.ofMinutes(1));
            worker.shutdown();

            Map<String, JsonNode> outputs = byCorrelationId(replies);
            assertThat(outputs).hasSize(n);
            assertScores(outputs, "a", n);
        }
    }

    @Test
    void worker_connectionCutMidLoad_freesEverySlotGoesUnreadyLosesNothingAndDrainsWithinTheGracePeriod()
            throws Exception {
        int n = 1_000;
        int m = 40;
        // drain 4 s: every transport call is bounded at 2 s (drain / 2; the lock duration's share is larger)
        Duration drain = Duration.ofSeconds(4);
        Duration grace = Duration.ofSeconds(6);
        try (Requester requester = new Requester(standIn.connectionString(), "outage", "outage" + REPLIES);
             NetworkCut cable = NetworkCut.in(standIn)) {
            requester.send(requests(requester, "o", n));
            GatedScorer<Object, Object> gate = new GatedScorer<>(Pipeline.load(pipeline));
            gate.allow(300); // then it holds what the worker has in flight, with most of the load still queued
            ServiceBusTransport cut = ServiceBusTransport.builder().connectionString(cable.connectionString())
                    .queue("outage").replyTimeToLive(Duration.ofMinutes(10)).build();
            QueueWorker worker = worker(gate, cut).drainTimeout(drain).gracePeriod(grace).build();
            HttpEndpoints http = HttpEndpoints.start(0, worker::isLive, worker::isReady, () -> "");
            try {
                worker.start();
                await().atMost(Duration.ofSeconds(30)).until(() -> status(http, HttpEndpoints.READY) == 200);
                List<ServiceBusReceivedMessage> replies = new ArrayList<>(requester.replies(100, Duration.ofMinutes(1)));
                assertThat(replies).hasSize(100);

                // 1. Mid-load, with messages in flight (held at the gate), the connection drops.
                await().atMost(Duration.ofSeconds(30)).until(() -> gate.held() > 0);
                cable.cut();
                int held = gate.held();
                gate.open(); // their replies and settlements go into the dead connection
                await().atMost(Duration.ofSeconds(15)).until(() -> status(http, HttpEndpoints.READY) == 503);
                await().atMost(Duration.ofSeconds(15)).until(() -> worker.inFlight() == 0);
                assertThat(status(http, HttpEndpoints.READY)).as("still cut off").isEqualTo(503);
                assertThat(status(http, HttpEndpoints.LIVE)).as("a short outage is no reason to restart").isEqualTo(200);

                // 2. The broker is reachable again: ready, every request answered, every message accounted for.
                cable.restore();
                await().atMost(Duration.ofMinutes(2)).until(() -> status(http, HttpEndpoints.READY) == 200);
                collectAnswers(requester, replies, "o", n, Duration.ofMinutes(2));
                Map<String, JsonNode> outputs = byCorrelationId(replies);
                assertThat(outputs).hasSize(n);
                assertScores(outputs, "o", n);
                Tally tally = quiescentTally(worker);
                assertThat(tally.received()).as("received = settled + refused + timed out")
                        .isEqualTo(tally.settled() + tally.refused() + tally.timedOut());
                assertThat(tally.refused() + tally.timedOut()).as("the %d held when the connection dropped", held)
                        .isGreaterThanOrEqualTo(held);

                // 3. SIGTERM during a second outage, with replies pending: the shutdown stays inside the grace period.
                gate.hold();
                requester.send(requests(requester, "p", m));
                await().atMost(Duration.ofSeconds(30)).until(() -> gate.held() > 0);
                cable.cut();
                CompletableFuture<QueueWorker.ShutdownSummary> stopping = CompletableFuture.supplyAsync(worker::shutdown);
                gate.open();
                QueueWorker.ShutdownSummary summary = stopping.get(1, TimeUnit.MINUTES);
                assertThat(summary.took()).isLessThan(grace);
                assertThat(worker.inFlight()).isZero();
            } finally {
                gate.open();
                http.close();
                worker.shutdown();
            }

            // 4. Nothing lost: a new worker answers the rest, the broker redelivers what the cut worker held.
            QueueWorker next = worker(Pipeline.load(pipeline), transport("outage")).build();
            next.start();
            List<ServiceBusReceivedMessage> rest = new ArrayList<>();
            collectAnswers(requester, rest, "p", m, Duration.ofMinutes(1));
            await().atMost(Duration.ofSeconds(30)).until(() -> standIn.messageCount("outage") == 0);
            next.shutdown();
            Map<String, JsonNode> outputs = byCorrelationId(rest);
            assertScores(outputs, "p", m);
            assertThat(requester.deadLetters(1, Duration.ofMillis(300))).isEmpty();
        }
    }

    private static int status(HttpEndpoints http, String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + path))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (java.io.IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Adds replies to {@code replies} until requests {@code prefix}0 to {@code prefix}(n-1) all have one. */
    private static void collectAnswers(Requester requester, List<ServiceBusReceivedMessage> replies, String prefix, int n,
                                       Duration timeout) {
        java.util.Set<String> missing = new java.util.HashSet<>();
        IntStream.range(0, n).forEach(i -> missing.add(prefix + i));
        replies.forEach(r -> missing.remove(r.getCorrelationId()));
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!missing.isEmpty() && System.nanoTime() < deadline) {
            for (ServiceBusReceivedMessage r : requester.replies(missing.size(), Duration.ofMillis(500))) {
                replies.add(r);
                missing.remove(r.getCorrelationId());
            }
        }
    }

    /** How the messages a worker received ended, by counter. */
    private record Tally(double received, double settled, double refused, double timedOut) {
    }

    /**
     * A tally taken when the worker is quiet: received before and after, with nothing in flight between,
     * so that every message counted as received has ended and been counted (the worker counts a message
     * received once it is in flight, and counts each way out before the message leaves).
     */
    private static Tally quiescentTally(QueueWorker worker) {
        Tally[] quiet = new Tally[1];
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            double before = counter(worker, "nearline.worker.messages.received", null);
            if (worker.inFlight() != 0) {
                return false;
            }
            double settled = counter(worker, "nearline.worker.messages.settled", null);
            double refused = counter(worker, "nearline.worker.settle.failures", null);
            double timedOut = 0;
            for (String call : List.of("reply", "complete", "abandon", "dead_letter")) {
                timedOut += counter(worker, "nearline.worker.transport.timeouts", call);
            }
            if (counter(worker, "nearline.worker.messages.received", null) != before) {
                return false;
            }
            quiet[0] = new Tally(before, settled, refused, timedOut);
            return true;
        });
        return quiet[0];
    }

    private static double counter(QueueWorker worker, String name, String call) {
        var search = worker.meterRegistry().find(name);
        if (call != null) {
            search = search.tag("call", call);
        }
        return search.counters().stream().mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
    }

    /** A scorer whose every record fails with one kind. */
    static final class FailingScorer implements Scorer<Object, Object> {
        private final Kind kind;
        private final String message;

        FailingScorer(Kind kind, String message) {
            this.kind = kind;
            this.message = message;
        }

        @Override
        public Object score(Object record) {
            throw new ScoringException(kind, message);
        }

        @Override
        public Object score(Object record, Duration timeout) {
            throw new ScoringException(kind, message);
        }

        @Override
        public CompletableFuture<Object> scoreAsync(Object record) {
            return CompletableFuture.failedFuture(new ScoringException(kind, message));
        }

        @Override
        public CompletableFuture<Object> scoreAsync(Object record, Duration timeout) {
            return scoreAsync(record);
        }

        @Override
        public List<Outcome<Object>> scoreAll(List<?> records) {
            return records.stream().map(r -> Outcome.<Object>failure(new ScoringException(kind, message))).toList();
        }

        @Override
        public void close() {
        }
    }
}
