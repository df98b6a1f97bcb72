package dev.nearline.durable;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.microsoft.azure.functions.HttpResponseMessage;
import dev.nearline.api.Scorer;
import dev.nearline.api.Ticker;
import dev.nearline.core.Pipeline;
import dev.nearline.durable.internal.Correlation;
import dev.nearline.durable.internal.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.MDC;

/**
 * The single-record HTTP function, called as the Functions host would call it (with a
 * {@link FakeHttpRequest}, since the host cannot run here) on a real pipeline file and ONNX model.
 */
class HttpScoringTest {
    @TempDir
    Path dir;

    @RegisterExtension
    final OpenedFunctions opened = new OpenedFunctions();

    private NearlineFunctions onnx(Map<String, String> extra) {
        return opened.onTinyPipeline(dir, extra);
    }

    private NearlineFunctions withScorer(Scorer<Object, Object> scorer, Map<String, String> extra) {
        Map<String, String> env = TestPipelines.env(dir.resolve("unused.json"), dir.resolve("payloads"));
        env.putAll(extra);
        NearlineFunctions f = NearlineFunctions.builder(FunctionsSettings.fromEnvironment(env)).scorer(() -> scorer).build();
        opened.add(f);
        return f;
    }

    private static JsonNode body(HttpResponseMessage response) throws IOException {
        return Json.MAPPER.readTree((String) response.getBody());
    }

    @Test
    void score_validRecord_returns200WithOutputAndEchoesCorrelationId() throws IOException {
        NearlineFunctions f = onnx(Map.of());
        HttpResponseMessage response = f.http().score(FakeHttpRequest.post("/api/score", Json.write(TestPipelines.record(1)))
                .header("X-Correlation-ID", "order-77"), new RecordingContext("inv-1"));

        assertThat(response.getStatusCode()).isEqualTo(200);
        assertThat(response.getHeader("Content-Type")).isEqualTo("application/json");
        assertThat(response.getHeader("x-correlation-id")).isEqualTo("order-77");
        JsonNode body = body(response);
        assertThat(body.get("status").asText()).isEqualTo("OK");
        assertThat(body.get("output").get("score").asDouble()).isBetween(0.0, 1.0);
        assertThat(body.get("output").has("decision")).isTrue();
        assertThat(body.get("timing").get("queuedMs").asLong()).isEqualTo(-1);
        assertThat(body.get("timing").get("scoreMicros").asLong()).isNotNegative();
        assertThat(body.get("timing").get("totalMicros").asLong()).isGreaterThanOrEqualTo(body.get("timing").get("scoreMicros").asLong());
    }

    @Test
    void score_sameRecordAsPipeline_returnsWhatTheScorerReturns() throws IOException {
        NearlineFunctions f = onnx(Map.of());
        Object direct;
        try (Scorer<Object, Object> scorer = Pipeline.load(dir.resolve("pipeline.json"))) {
            direct = scorer.score(TestPipelines.record(5));
        }
        HttpResponseMessage response = f.http().score(FakeHttpRequest.post("/api/score", Json.write(TestPipelines.record(5))),
                new RecordingContext("inv"));
        assertThat(body(response).get("output")).isEqualTo(Json.MAPPER.valueToTree(direct));
    }

    @Test
    void score_noCorrelationHeader_usesInvocationId() {
        NearlineFunctions f = onnx(Map.of());
        HttpResponseMessage response = f.http().score(FakeHttpRequest.post("/api/score", Json.write(TestPipelines.record(1))),
                new RecordingContext("5f3e0c2a-invocation"));
        assertThat(response.getHeader("x-correlation-id")).isEqualTo("5f3e0c2a-invocation");
    }

    @Test
    void score_correlationHeaderWithLineBreak_isNotEchoed() {
        NearlineFunctions f = onnx(Map.of());
        HttpResponseMessage response = f.http().score(FakeHttpRequest.post("/api/score", Json.write(TestPipelines.record(1)))
                .header("x-correlation-id", "abc\nforged log line"), new RecordingContext("inv-9"));
        assertThat(response.getHeader("x-correlation-id")).isEqualTo("inv-9");
    }

    @Test
    void score_customCorrelationHeader_isRead() {
        NearlineFunctions f = onnx(Map.of(FunctionsSettings.CORRELATION_HEADER, "X-Request-ID"));
        HttpResponseMessage response = f.http().score(FakeHttpRequest.post("/api/score", Json.write(TestPipelines.record(1)))
                .header("x-request-id", "req-1"), new RecordingContext("inv"));
        assertThat(response.getHeader("x-request-id")).isEqualTo("req-1");
    }

    @Test
    void score_whileScoring_correlationIdIsInMdc() {
        List<String> seen = new CopyOnWriteArrayList<>();
        Scorer<Object, Object> scorer = Pipeline.builder((Object r) -> {
            seen.add(String.valueOf(MDC.get(Correlation.MDC_KEY)) + "/" + MDC.get(Correlation.MDC_INVOCATION_KEY));
            return dev.nearline.api.Tensors.of("input", dev.nearline.api.Tensor.ofFloats(new float[] {1}, 1, 1));
        }).model(new TestPipelines.EchoModel()).build(out -> Map.of("score", out.get(0).floatAt(0)));
        NearlineFunctions f = withScorer(scorer, Map.of());

        f.http().score(FakeHttpRequest.post("/api/score", "{\"x\": 1}").header("x-correlation-id", "c-1"), new RecordingContext("i-1"));

        assertThat(seen).containsExactly("c-1/i-1");
        assertThat(MDC.get(Correlation.MDC_KEY)).isNull();
    }

    /**
     * W3C trace context through the HTTP function: the request's {@code traceparent} header continued on the
     * answer. The answer is built by the host's response builder, faked here because no Functions host runs
     * on this machine (see {@link FakeHttpRequest}); the pipeline and model are real.
     */
    @Test
    void score_requestWithTraceparent_answerContinuesTheTraceWithANewSpanAndPassesTracestate() {
        List<String> seen = new CopyOnWriteArrayList<>();
        Scorer<Object, Object> scorer = Pipeline.builder((Object r) -> {
            seen.add(MDC.get("traceId") + "/" + MDC.get("spanId"));
            return dev.nearline.api.Tensors.of("input", dev.nearline.api.Tensor.ofFloats(new float[] {1}, 1, 1));
        }).model(new TestPipelines.EchoModel()).build(out -> Map.of("score", out.get(0).floatAt(0)));
        NearlineFunctions f = withScorer(scorer, Map.of());
        String trace = "4bf92f3577b34da6a3ce929d0e0e4736";

        HttpResponseMessage response = f.http().score(FakeHttpRequest.post("/api/score", "{\"x\": 1}")
                .header("TraceParent", "00-" + trace + "-00f067aa0ba902b7-01")
                .header("tracestate", "congo=t61rcWkgMzE"), new RecordingContext("i-1"));

        assertThat(response.getStatusCode()).isEqualTo(200);
        String traceparent = response.getHeader("traceparent");
        assertThat(traceparent).matches("00-" + trace + "-[0-9a-f]{16}-01").doesNotContain("00f067aa0ba902b7");
        assertThat(response.getHeader("tracestate")).isEqualTo("congo=t61rcWkgMzE");
        assertThat(seen).as("trace and this invocation's span in the MDC while scoring")
                .containsExactly(trace + "/" + traceparent.substring(36, 52));
        assertThat(MDC.get("traceId")).isNull();
    }

    @ParameterizedTest
    @CsvSource(nullValues = "none", value = {
            "none", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "garbage"})
    void score_requestWithoutValidTraceparent_answerStartsANewTraceWithoutTracestate(String traceparent) {
        NearlineFunctions f = onnx(Map.of());
        FakeHttpRequest request = FakeHttpRequest.post("/api/score", Json.write(TestPipelines.record(1)))
                .header("tracestate", "congo=t61rcWkgMzE");
        if (traceparent != null) {
            request.header("traceparent", traceparent);
        }
        HttpResponseMessage response = f.http().score(request, new RecordingContext("inv"));

        assertThat(response.getStatusCode()).isEqualTo(200);
        assertThat(response.getHeader("traceparent")).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-00")
                .doesNotContain("0".repeat(32)).doesNotContainIgnoringCase("4bf92f3577b34da6");
        assertThat(response.getHeader("tracestate")).isNull();
    }

    @Test
    void score_rejectedRecord_errorAnswerContinuesTheTraceToo() {
        NearlineFunctions f = onnx(Map.of());
        String trace = "0af7651916cd43dd8448eb211c80319c";
        HttpResponseMessage response = f.http().score(FakeHttpRequest.post("/api/score", Json.write(TestPipelines.badRecord(1)))
                .header("traceparent", "00-" + trace + "-b7ad6b7169203331-00"), new RecordingContext("inv"));

        assertThat(response.getStatusCode()).isEqualTo(400);
        assertThat(response.getHeader("traceparent")).matches("00-" + trace + "-[0-9a-f]{16}-00");
    }

    @Test
    void score_missingField_returns400WithReason() throws IOException {
        NearlineFunctions f = onnx(Map.of());
        HttpResponseMessage response = f.http().score(FakeHttpRequest.post("/api/score", Json.write(TestPipelines.badRecord(1))),
                new RecordingContext("inv"));

        assertThat(response.getStatusCode()).isEqualTo(400);
        JsonNode body = body(response);
        assertThat(body.get("status").asText()).isEqualTo("ERROR");
        assertThat(body.get("error").get("kind").asText()).isEqualTo("INVALID_INPUT");
        assertThat(body.get("error").get("message").asText()).contains("f7");
    }

    @Test
    void score_malformedJson_returns400() throws IOException {
        NearlineFunctions f = onnx(Map.of());
        HttpResponseMessage response = f.http().score(FakeHttpRequest.post("/api/score", "{\"f0\": 1,"), new RecordingContext("inv"));
        assertThat(response.getStatusCode()).isEqualTo(400);
        assertThat(body(response).get("error").get("message").asText()).startsWith("request body is not valid JSON");
    }

    @Test
    void score_emptyBody_returns400() throws IOException {
        NearlineFunctions f = onnx(Map.of());
        HttpResponseMessage response = f.http().score(FakeHttpRequest.post("/api/score", null), new RecordingContext("inv"));
        assertThat(response.getStatusCode()).isEqualTo(400);
        assertThat(body(response).get("error").get("message").asText()).contains("empty");
    }

    @Test
    void score_bodyOverLimit_returns413WithoutScoring() throws IOException {
        NearlineFunctions f = onnx(Map.of(FunctionsSettings.MAX_REQUEST_BYTES, "64"));
        HttpResponseMessage response = f.http().score(FakeHttpRequest.post("/api/score", Json.write(TestPipelines.record(1))),
                new RecordingContext("inv"));
        assertThat(response.getStatusCode()).isEqualTo(413);
        assertThat(body(response).get("error").get("message").asText()).contains(FunctionsSettings.MAX_REQUEST_BYTES);
        assertThat(f.coldStart()).as("the scorer was not even loaded").isEmpty();
    }

    @Test
    void score_declaredContentLengthOverLimit_returns413() {
        NearlineFunctions f = onnx(Map.of(FunctionsSettings.MAX_REQUEST_BYTES, "1000"));
        HttpResponseMessage response = f.http().score(FakeHttpRequest.post("/api/score", "{}").header("Content-Length", "5000000"),
                new RecordingContext("inv"));
        assertThat(response.getStatusCode()).isEqualTo(413);
    }

    @ParameterizedTest
    @CsvSource({
        "INVALID_INPUT, 400, ",
        "DEADLINE_EXCEEDED, 504, ",
        "OVERLOADED, 503, 7",
        "UNAVAILABLE, 503, 7",
        "INTERNAL, 500, "})
    void score_failureKind_mapsToStatus(String kind, int status, String retryAfter) throws IOException {
        NearlineFunctions f = withScorer(TestPipelines.fake(), Map.of(FunctionsSettings.RETRY_AFTER_SECONDS, "7"));
        RecordingContext context = new RecordingContext("inv-k");
        HttpResponseMessage response = f.http().score(FakeHttpRequest.post("/api/score", "{\"fail\": \"" + kind + "\"}"), context);

        assertThat(response.getStatusCode()).isEqualTo(status);
        assertThat(response.getHeader("Retry-After")).isEqualTo(retryAfter);
        JsonNode error = body(response).get("error");
        assertThat(error.get("kind").asText()).isEqualTo(kind);
        if (kind.equals("INTERNAL")) {
            assertThat(error.get("message").asText()).doesNotContain("injected").contains("inv-k");
            assertThat(context.lines()).anySatisfy(l -> assertThat(l).startsWith("SEVERE").contains("injected INTERNAL"));
        } else {
            assertThat(error.get("message").asText()).contains("injected " + kind);
        }
    }

    @Test
    void score_deadlineFromSettings_returns504() throws IOException {
        Scorer<Object, Object> slow = Pipeline.builder((Object r) -> dev.nearline.api.Tensors.of("input",
                dev.nearline.api.Tensor.ofFloats(new float[] {1}, 1, 1))).model(new TestPipelines.EchoModel())
                .ticker(new StepTicker(5_000_000)).build(out -> Map.of("score", out.get(0).floatAt(0)));
        NearlineFunctions f = withScorer(slow, Map.of(FunctionsSettings.HTTP_TIMEOUT_MS, "1"));
        HttpResponseMessage response = f.http().score(FakeHttpRequest.post("/api/score", "{\"x\": 1}"), new RecordingContext("inv"));
        assertThat(response.getStatusCode()).isEqualTo(504);
        assertThat(body(response).get("error").get("kind").asText()).isEqualTo("DEADLINE_EXCEEDED");
    }

    @Test
    void score_pipelineSettingMissing_returns500AndLogsTheSetting() {
        NearlineFunctions f = NearlineFunctions.builder(FunctionsSettings.fromEnvironment(Map.of())).build();
        opened.add(f);
        RecordingContext context = new RecordingContext("inv-p");
        HttpResponseMessage response = f.http().score(FakeHttpRequest.post("/api/score", "{}"), context);
        assertThat(response.getStatusCode()).isEqualTo(500);
        assertThat(context.lines()).anySatisfy(l -> assertThat(l).contains(FunctionsSettings.PIPELINE).contains("not set"));
    }

    /** A ticker that advances by a fixed step on every read, so any deadline check sees time pass. */
    static final class StepTicker implements dev.nearline.api.Ticker {
        private final long step;
        private final java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong();

        StepTicker(long stepNanos) {
            this.step = stepNanos;
        }

        @Override
        public long read() {
            return now.addAndGet(step);
        }
    }
}
