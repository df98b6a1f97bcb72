package dev.nearline.keda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.azure.messaging.servicebus.ServiceBusReceivedMessage;
import com.fasterxml.jackson.databind.JsonNode;
import dev.nearline.api.Scorer;
import dev.nearline.core.Pipeline;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worker against a real Azure Service Bus namespace, for what the stand-in cannot show (lock renewal,
 * dead-letter reasons, DeliveryCount from 1). Runs only when {@code NEARLINE_IT_SERVICEBUS_CONNECTION_STRING}
 * is set; the queues {@code NEARLINE_IT_REQUEST_QUEUE} (default {@code nearline-it-requests}, lock duration
 * under 60 s) and {@code NEARLINE_IT_REPLY_QUEUE} (default {@code nearline-it-replies}) must exist.
 */
@EnabledIfEnvironmentVariable(named = "NEARLINE_IT_SERVICEBUS_CONNECTION_STRING", matches = ".+")
class LiveServiceBusTest {
    private static final String CONNECTION = System.getenv("NEARLINE_IT_SERVICEBUS_CONNECTION_STRING");
    private static final String REQUESTS = envOr("NEARLINE_IT_REQUEST_QUEUE", "nearline-it-requests");
    private static final String REPLIES = envOr("NEARLINE_IT_REPLY_QUEUE", "nearline-it-replies");
    @TempDir
    Path dir;

    private static String envOr(String name, String defaultValue) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? defaultValue : v;
    }

    @Test
    void worker_realNamespace_repliesRenewsLocksAndDeadLettersWithReason() throws Exception {
        int n = 50;
        Path pipeline = TinyPipeline.write(dir);
        try (Requester requester = new Requester(CONNECTION, REQUESTS, REPLIES);
             Scorer<Object, Object> reference = Pipeline.load(pipeline)) {
            requester.deadLetters(1000, Duration.ofSeconds(2)); // leftovers of earlier runs
            requester.send(IntStream.range(0, n).mapToObj(i -> requester.request("live-" + i, TinyPipeline.record(i)))
                    .toList());
            requester.send(requester.request("live-bad", "{\"f0\": \"not a number\"}"));
            GatedScorer<Object, Object> gated = new GatedScorer<>(Pipeline.load(pipeline));
            // a margin longer than the lock makes every held lock due for renewal at once
            QueueWorker worker = QueueWorker.builder(gated, ServiceBusTransport.builder().connectionString(CONNECTION)
                    .queue(REQUESTS).replyTimeToLive(Duration.ofMinutes(10)).build())
                    .lockRenewalMargin(Duration.ofMinutes(5)).build();
            worker.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> worker.meterRegistry()
                    .counter("nearline.worker.lock.renewals", "result", "renewed").count() > 0);
            gated.open();
            List<ServiceBusReceivedMessage> replies = requester.replies(n + 1, Duration.ofMinutes(2));
            List<ServiceBusReceivedMessage> dead = requester.deadLetters(1, Duration.ofSeconds(30));
            worker.shutdown();

            Map<String, JsonNode> bodies = new HashMap<>();
            replies.forEach(r -> bodies.put(r.getCorrelationId(), TinyPipeline.tree(r.getBody().toString())));
            for (int i = 0; i < n; i++) {
                Object expected = ((Map<?, ?>) reference.score(TinyPipeline.tree(TinyPipeline.record(i)))).get("score");
                assertThat(bodies.get("live-" + i).at("/output/score").doubleValue())
                        .isEqualTo(((Number) expected).doubleValue());
            }
            assertThat(bodies.get("live-bad").at("/error/kind").asText()).isEqualTo("INVALID_INPUT");
            assertThat(dead).singleElement().satisfies(d -> {
                assertThat(d.getMessageId()).isEqualTo("live-bad");
                assertThat(d.getDeadLetterReason()).isEqualTo("INVALID_INPUT");
                assertThat(d.getDeadLetterErrorDescription()).contains("f0");
            });
        }
    }
}
