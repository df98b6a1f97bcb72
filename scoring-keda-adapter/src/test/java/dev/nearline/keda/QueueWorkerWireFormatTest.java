package dev.nearline.keda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nearline.api.Scorer;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.core.Pipeline;
import dev.nearline.core.internal.wire.QueueReply;
import dev.nearline.core.internal.wire.QueueRequest;
import dev.nearline.core.internal.wire.Wire;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The worker speaks the queue wire format defined once in {@code dev.nearline.core.internal.wire} (and
 * tested there): for each request, the reply it hands its transport is exactly what that definition
 * makes of the request, byte for byte, and a dead-letter carries the same description as the error reply.
 */
class QueueWorkerWireFormatTest {

    /** {@code {"x": n}} scores {@code 2n}; a record with {@code "explain"} fails INVALID_INPUT with that text. */
    private static Scorer<JsonNode, Double> scorer() {
        return Pipeline.builder((JsonNode r) -> {
            if (r.has("explain")) {
                throw ScoringException.invalidInput(r.get("explain").asText());
            }
            return Tensors.of("x", Tensor.ofFloats(new float[] {r.path("x").floatValue()}, 1, 1));
        }).model(QueueWorkerTest.doublingModel()).build(out -> (double) out.get(0).floatAt(0));
    }

    private static QueueReply.Timing timingOf(JsonNode body) {
        JsonNode t = body.get("timing");
        return new QueueReply.Timing(t.get("queuedMs").longValue(), t.get("scoreMicros").longValue(),
                t.get("totalMicros").longValue());
    }

    @Test
    void worker_everyKindOfRequest_repliesWhatTheSharedWireFormatMakesOfIt() {
        Map<String, String> bodies = new LinkedHashMap<>();
        bodies.put("ok", "{\"record\": {\"x\": 4}}");
        bodies.put("not-json", "{\"record\": ");
        bodies.put("empty", "");
        bodies.put("array", "[1, 2]");
        bodies.put("no-record", "{\"rec\": {}}");
        bodies.put("bad-deadline", "{\"record\": {}, \"deadlineMs\": \"" + "s".repeat(500) + "\"}");
        bodies.put("trailing", "{\"record\": {\"x\": 1}} {}");
        bodies.put("long-reason", "{\"record\": {\"explain\": \"" + "why ".repeat(200) + "\"}}");
        FakeTransport t = new FakeTransport();
        bodies.forEach((id, body) -> t.offerBody(id, body.getBytes(StandardCharsets.UTF_8)));
        QueueWorker w = QueueWorker.builder(scorer(), t).concurrency(1).maxBatchSize(8).batchWait(Duration.ofMillis(50))
                .build();
        w.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> t.replies.size() == bodies.size());
        await().atMost(Duration.ofSeconds(10)).until(() -> t.completed.size() + t.deadLettered.size() == bodies.size());
        w.shutdown();

        for (Reply reply : t.replies) {
            String id = reply.correlationId();
            JsonNode body = TinyPipeline.tree(new String(reply.body(), StandardCharsets.UTF_8));
            assertThat(reply.messageId()).isEqualTo(QueueReply.messageIdFor(id));
            assertThat(reply.to()).isEqualTo("replies");
            if (id.equals("ok")) {
                assertThat(wireProperties(reply.properties())).isEqualTo(QueueReply.properties(null));
                assertThat(reply.body()).isEqualTo(QueueReply.bytes(QueueReply.ok(8.0, timingOf(body))));
                assertThat(t.completed).containsKey(id);
                continue;
            }
            String message = id.equals("long-reason") ? body.at("/error/message").asText()
                    : catchThrowableOfType(ScoringException.class,
                            () -> QueueRequest.parse(bodies.get(id).getBytes(StandardCharsets.UTF_8))).getMessage();
            assertThat(wireProperties(reply.properties())).as(id).isEqualTo(QueueReply.properties(Kind.INVALID_INPUT));
            assertThat(reply.body()).as(id).isEqualTo(QueueReply.bytes(QueueReply.error(Kind.INVALID_INPUT, message,
                    timingOf(body))));
            assertThat(t.deadLettered).as(id).containsEntry(id, "INVALID_INPUT");
            assertThat(t.deadLetterDescriptions.get(id)).as(id).isEqualTo(Wire.errorDescription(message))
                    .isEqualTo(body.at("/error/message").asText());
        }
        assertThat(t.deadLetterDescriptions.get("long-reason")).hasSize(Wire.MAX_MESSAGE_CHARS).startsWith("why why")
                .endsWith("...");
    }

    /** The wire format's properties of a reply: every reply also carries its trace (QueueWorkerServiceBusTest). */
    private static Map<String, ?> wireProperties(Map<String, ?> properties) {
        assertThat(String.valueOf(properties.get("traceparent"))).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-00");
        Map<String, Object> out = new java.util.HashMap<>(properties);
        out.remove("traceparent");
        return out;
    }
}
