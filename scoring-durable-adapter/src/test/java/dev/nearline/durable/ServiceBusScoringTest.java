package dev.nearline.durable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.core.internal.wire.QueueReply;
import dev.nearline.core.internal.wire.QueueRequest;
import dev.nearline.durable.internal.Json;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Service Bus trigger body with the binding arrays the host passes for a batch, a real ONNX
 * pipeline, and replies recorded instead of sent (no Service Bus here). The host's settlement follows
 * from returning (complete) or throwing (abandon, then redelivery or dead-letter).
 */
class ServiceBusScoringTest {
    @TempDir
    Path dir;

    private final RecordingReplySender replies = new RecordingReplySender();
    @RegisterExtension
    final OpenedFunctions opened = new OpenedFunctions();

    private NearlineFunctions onnx() {
        NearlineFunctions f = NearlineFunctions.builder(FunctionsSettings.fromEnvironment(
                TestPipelines.env(TestPipelines.tinyPipeline(dir), dir.resolve("payloads")))).replySender(replies).build();
        opened.add(f);
        return f;
    }

    private NearlineFunctions fake() {
        NearlineFunctions f = NearlineFunctions.builder(FunctionsSettings.fromEnvironment(
                TestPipelines.env(dir.resolve("unused.json"), dir.resolve("payloads"))))
                .scorer(TestPipelines::fake).replySender(replies).build();
        opened.add(f);
        return f;
    }

    private static String request(JsonNode record) {
        return "{\"record\": " + Json.write(record) + "}";
    }

    /**
     * W3C trace context through the queue function: each reply's application properties continue its
     * request's trace (the properties the host binds as {@code ApplicationPropertiesArray}, passed here as the
     * host would, since no Functions host runs on this machine), an error reply too; a request without a valid
     * {@code traceparent} starts a new trace.
     */
    @Test
    void score_requestsWithTraceContext_repliesContinueEachTrace() {
        NearlineFunctions f = onnx();
        String trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        String diagnostic = "0af7651916cd43dd8448eb211c80319c";
        String[] bodies = {request(TestPipelines.record(1)), request(TestPipelines.record(2)),
                request(TestPipelines.badRecord(3)), request(TestPipelines.record(4)), request(TestPipelines.record(5))};
        @SuppressWarnings({"unchecked", "rawtypes"}) // a generic array, as the host's binding hands it over
        Map<String, ?>[] properties = new Map[] {
                Map.of("traceparent", "00-" + trace + "-00f067aa0ba902b7-01", "tracestate", "congo=t61rcWkgMzE"),
                Map.of("Diagnostic-Id", "00-" + diagnostic + "-b7ad6b7169203331-00"),
                Map.of("traceparent", "00-" + trace + "-1111111111111111-01"),
                Map.of("traceparent", "00-" + "0".repeat(32) + "-00f067aa0ba902b7-01", "tracestate", "congo=t61rcWkgMzE"),
                null};

        f.serviceBus().score(bodies, new String[] {"traced", "from-sdk", "failing", "malformed", "plain"},
                new String[] {"rq", "rq", "rq", "rq", "rq"}, properties, new RecordingContext("inv"));

        Map<String, Map<String, String>> props = new java.util.HashMap<>();
        replies.sent.forEach(r -> props.put(r.correlationId(), r.properties()));
        assertThat(props).containsOnlyKeys("traced", "from-sdk", "failing", "malformed", "plain");
        assertThat(props.get("traced").get("traceparent")).matches("00-" + trace + "-[0-9a-f]{16}-01")
                .doesNotContain("00f067aa0ba902b7");
        assertThat(props.get("traced")).containsEntry("tracestate", "congo=t61rcWkgMzE").containsEntry("nearline-status", "OK");
        assertThat(props.get("from-sdk").get("traceparent")).matches("00-" + diagnostic + "-[0-9a-f]{16}-00");
        assertThat(props.get("failing").get("traceparent")).as("an error reply continues the trace too")
                .matches("00-" + trace + "-[0-9a-f]{16}-01");
        assertThat(props.get("failing")).containsEntry("nearline-error-kind", "INVALID_INPUT");
        for (String id : List.of("malformed", "plain")) {
            assertThat(props.get(id).get("traceparent")).as(id + ": a new trace").matches("00-[0-9a-f]{32}-[0-9a-f]{16}-00")
                    .doesNotContain("0".repeat(32));
            assertThat(props.get(id)).doesNotContainKey("tracestate");
        }
        assertThat(props.get("traced").get("traceparent")).as("each message its own span")
                .isNotEqualTo(props.get("failing").get("traceparent"));
    }

    @Test
    void score_withoutApplicationProperties_everyReplyStartsANewTrace() {
        NearlineFunctions f = onnx();
        f.serviceBus().score(new String[] {request(TestPipelines.record(1))}, new String[] {"m-1"}, new String[] {"rq"},
                new RecordingContext("inv"));
        assertThat(replies.sent).singleElement().satisfies(r ->
                assertThat(r.properties().get("traceparent")).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-00"));
    }

    @Test
    void score_validMessages_repliesOkToReplyToWithCorrelationId() throws IOException {
        NearlineFunctions f = onnx();
        String[] bodies = {request(TestPipelines.record(1)), request(TestPipelines.record(2))};

        f.serviceBus().score(bodies, new String[] {"m-1", "m-2"}, new String[] {"replies-a", "replies-b"}, new RecordingContext("inv"));

        assertThat(replies.sent).hasSize(2);
        Reply first = replies.sent.get(0);
        assertThat(first.to()).isEqualTo("replies-a");
        assertThat(first.correlationId()).isEqualTo("m-1");
        assertThat(first.messageId()).isEqualTo("r:m-1");
        assertThat(first.errorKind()).isNull();
        JsonNode body = Json.MAPPER.readTree(first.body());
        assertThat(body.get("status").asText()).isEqualTo("OK");
        assertThat(body.get("output").get("score").asDouble()).isBetween(0.0, 1.0);
        assertThat(body.get("timing").get("scoreMicros").asLong()).isNotNegative();
        assertThat(replies.sent.get(1).to()).isEqualTo("replies-b");
    }

    @Test
    void score_bodyWithoutRecordEnvelope_repliesInvalidInput() throws IOException {
        NearlineFunctions f = fake();
        f.serviceBus().score(new String[] {"{\"x\": 1}", "[1, 2]"}, new String[] {"m-1", "m-2"}, new String[] {"rq", "rq"},
                new RecordingContext("inv"));
        assertThat(replies.sent).extracting(Reply::errorKind).containsExactly(Kind.INVALID_INPUT, Kind.INVALID_INPUT);
        assertThat(Json.MAPPER.readTree(replies.sent.get(0).body()).get("error").get("message").asText())
                .isEqualTo("request body has no 'record'; expected {\"record\": {...}}");
    }

    @Test
    void score_deadlinePassedOnArrival_repliesDeadlineExceededAndReturnsNormally() {
        Instant now = Instant.parse("2026-11-25T12:00:00Z");
        NearlineFunctions f = NearlineFunctions.builder(FunctionsSettings.fromEnvironment(Map.of()))
                .scorer(TestPipelines::fake).replySender(replies).clock(Clock.fixed(now, ZoneOffset.UTC)).build();
        opened.add(f);
        long past = now.minusSeconds(1).toEpochMilli();
        long future = now.plusSeconds(5).toEpochMilli();

        f.serviceBus().score(new String[] {"{\"record\": {\"x\": 1}, \"deadlineMs\": " + past + "}",
                        "{\"record\": {\"x\": 2}, \"deadlineMs\": " + future + "}"},
                new String[] {"m-late", "m-ok"}, new String[] {"rq", "rq"}, new RecordingContext("inv"));

        assertThat(replies.sent).extracting(Reply::correlationId).containsExactly("m-late", "m-ok");
        assertThat(replies.sent).extracting(Reply::errorKind).containsExactly(Kind.DEADLINE_EXCEEDED, null);
    }

    @Test
    void score_invalidRecordAndMalformedJson_repliesErrorAndReturnsNormally() throws IOException {
        NearlineFunctions f = onnx();
        String[] bodies = {request(TestPipelines.badRecord(1)), "{oops", request(TestPipelines.record(3))};

        f.serviceBus().score(bodies, new String[] {"m-1", "m-2", "m-3"}, new String[] {"rq", "rq", "rq"}, new RecordingContext("inv"));

        assertThat(replies.sent).extracting(Reply::correlationId).containsExactly("m-1", "m-2", "m-3");
        assertThat(replies.sent).extracting(Reply::errorKind).containsExactly(Kind.INVALID_INPUT, Kind.INVALID_INPUT, null);
        JsonNode error = Json.MAPPER.readTree(replies.sent.get(0).body()).get("error");
        assertThat(error.get("kind").asText()).isEqualTo("INVALID_INPUT");
        assertThat(error.get("message").asText()).contains("f7");
        assertThat(Json.MAPPER.readTree(replies.sent.get(1).body()).get("error").get("message").asText())
                .startsWith("request body is not valid JSON");
    }

    @Test
    void score_retryableFailure_repliesToTheOthersThenThrowsSoTheHostAbandons() {
        NearlineFunctions f = fake();
        String[] bodies = {"{\"record\": {\"x\": 1}}", "{\"record\": {\"fail\": \"UNAVAILABLE\"}}",
                "{\"record\": {\"fail\": \"INVALID_INPUT\"}}"};

        assertThatThrownBy(() -> f.serviceBus().score(bodies, new String[] {"m-1", "m-2", "m-3"},
                new String[] {"rq", "rq", "rq"}, new RecordingContext("inv")))
                .isInstanceOfSatisfying(ScoringException.class, e -> {
                    assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE);
                    assertThat(e.getMessage()).contains("1 of 3");
                });

        assertThat(replies.sent).extracting(Reply::correlationId).containsExactly("m-1", "m-3");
    }

    @Test
    void score_everyKindOfRequest_repliesWhatTheSharedWireFormatMakesOfIt() throws IOException {
        // The wire format is defined and tested once, in dev.nearline.core.internal.wire; this host's
        // replies must be exactly what that definition makes of each request, byte for byte.
        NearlineFunctions f = fake();
        String[] bodies = {"{\"record\": {\"x\": 4}}", "{\"record\": ", "", null, "[1, 2]", "{\"rec\": {}}",
                "{\"record\": {}, \"deadlineMs\": \"" + "s".repeat(500) + "\"}", "{\"record\": {\"x\": 1}} {}"};
        String[] ids = new String[bodies.length];
        String[] replyTos = new String[bodies.length];
        for (int i = 0; i < bodies.length; i++) {
            ids[i] = "m-" + i;
            replyTos[i] = "rq";
        }

        f.serviceBus().score(bodies, ids, replyTos, new RecordingContext("inv"));

        assertThat(replies.sent).extracting(Reply::correlationId).containsExactly(ids);
        for (int i = 0; i < bodies.length; i++) {
            Reply reply = replies.sent.get(i);
            JsonNode body = Json.MAPPER.readTree(reply.body());
            JsonNode t = body.get("timing");
            QueueReply.Timing timing = new QueueReply.Timing(t.get("queuedMs").longValue(), t.get("scoreMicros").longValue(),
                    t.get("totalMicros").longValue());
            assertThat(reply.messageId()).isEqualTo(QueueReply.messageIdFor(ids[i]));
            if (i == 0) {
                assertThat(reply.properties()).isEqualTo(withTrace(QueueReply.properties(null), reply));
                assertThat(reply.body()).isEqualTo(QueueReply.text(QueueReply.ok(body.get("output"), timing)));
                continue;
            }
            String request = bodies[i];
            ScoringException expected = catchThrowableOfType(ScoringException.class, () -> QueueRequest.parse(request));
            assertThat(reply.properties()).as(request).isEqualTo(withTrace(QueueReply.properties(Kind.INVALID_INPUT), reply));
            assertThat(reply.body()).as(request).isEqualTo(QueueReply.text(
                    QueueReply.error(Kind.INVALID_INPUT, expected.getMessage(), timing)));
        }
    }

    @Test
    void score_noReplyTo_scoresWithoutReplying() {
        NearlineFunctions f = fake();
        f.serviceBus().score(new String[] {"{\"record\": {\"x\": 1}}", "{\"record\": {\"x\": 2}}"}, new String[] {"m-1", "m-2"}, new String[] {null, ""},
                new RecordingContext("inv"));
        f.serviceBus().score(new String[] {"{\"record\": {\"x\": 3}}"}, new String[] {"m-3"}, null, new RecordingContext("inv"));
        assertThat(replies.sent).isEmpty();
    }

    @Test
    void score_missingMessageId_isCompletedWithoutReply() {
        NearlineFunctions f = fake();
        RecordingContext context = new RecordingContext("inv");
        f.serviceBus().score(new String[] {"{\"record\": {\"x\": 1}}"}, new String[] {null}, new String[] {"rq"}, context);
        assertThat(replies.sent).isEmpty();
        assertThat(context.lines()).anySatisfy(l -> assertThat(l).contains("no MessageId")
                .contains(QueueRequest.missingMessageId().getMessage()));
    }

    /** The wire format's properties plus the reply's {@code traceparent}, which every reply carries. */
    private static Map<String, String> withTrace(Map<String, String> wire, Reply reply) {
        assertThat(reply.trace()).containsOnlyKeys("traceparent");
        Map<String, String> out = new java.util.HashMap<>(wire);
        out.putAll(reply.trace());
        return out;
    }

    @Test
    void score_misalignedArrays_failsWithIllegalArgument() {
        NearlineFunctions f = fake();
        assertThatThrownBy(() -> f.serviceBus().score(new String[] {"{}"}, new String[0], null, new RecordingContext("inv")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 bodies, 0 message ids");
    }

    @Test
    void score_noConnectionAndNoSender_failsNamingTheSetting() {
        NearlineFunctions f = NearlineFunctions.builder(FunctionsSettings.fromEnvironment(Map.of()))
                .scorer(TestPipelines::fake).build();
        opened.add(f);
        assertThatThrownBy(() -> f.serviceBus().score(new String[] {"{\"record\": {\"x\": 1}}"}, new String[] {"m-1"}, new String[] {"rq"},
                new RecordingContext("inv"))).isInstanceOf(IllegalStateException.class).hasMessageContaining("ServiceBusConnection");
    }
}
