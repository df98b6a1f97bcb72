package dev.nearline.durable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.microsoft.azure.functions.HttpResponseMessage;
import dev.nearline.api.ScoringException;
import dev.nearline.core.FeedbackOutcome;
import dev.nearline.durable.internal.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The feedback functions (HTTP and Service Bus trigger) and the quality snapshot function, called as the
 * Functions host calls them, on the tiny ONNX pipeline with a {@code "quality"} object.
 */
class QualityFunctionsTest {
    @TempDir
    Path dir;

    @RegisterExtension
    final OpenedFunctions opened = new OpenedFunctions();

    /** The tiny pipeline, with a quality monitor keyed by the records' {@code txId}. */
    private NearlineFunctions withQuality() throws IOException {
        Path file = TestPipelines.tinyPipeline(dir);
        ObjectNode p = (ObjectNode) Json.parse(Files.readString(file));
        p.putObject("quality").put("id", "txId").put("window", 50);
        Files.writeString(file, Json.write(p));
        NearlineFunctions f = NearlineFunctions.builder(FunctionsSettings.fromEnvironment(
                TestPipelines.env(file, dir.resolve("payloads")))).build();
        opened.add(f);
        return f;
    }

    private static void score(NearlineFunctions f, int n) {
        for (int i = 0; i < n; i++) {
            ObjectNode r = TestPipelines.record(i).put("txId", "t" + i);
            HttpResponseMessage response = f.http().score(FakeHttpRequest.post("/api/score", Json.write(r)),
                    new RecordingContext("inv"));
            assertThat(response.getStatusCode()).isEqualTo(200);
        }
    }

    private static JsonNode body(HttpResponseMessage response) throws IOException {
        return Json.parse((String) response.getBody());
    }

    @Test
    void httpFeedback_oneLabelOrAnArray_answersTheOutcomesAndTheSnapshotShowsThem() throws IOException {
        NearlineFunctions f = withQuality();
        score(f, 60);
        HttpResponseMessage one = f.quality().feedback(FakeHttpRequest.post("/api/feedback",
                "{\"id\": \"t0\", \"label\": 1}").header("X-Correlation-ID", "fb-1"), new RecordingContext("inv"));
        assertThat(one.getStatusCode()).isEqualTo(200);
        assertThat(one.getHeader("x-correlation-id")).isEqualTo("fb-1");
        assertThat(body(one).get("joined").asInt()).isEqualTo(1);

        String array = IntStream.range(1, 60).mapToObj(i -> "{\"id\":\"t" + i + "\",\"label\":" + (i % 2) + "}")
                .collect(Collectors.joining(",", "[", ",{\"id\":\"t0\",\"label\":0},{\"id\":\"nope\",\"label\":1}]"));
        JsonNode many = body(f.quality().feedback(FakeHttpRequest.post("/api/feedback", array), new RecordingContext("i")));
        assertThat(many.get("joined").asInt()).isEqualTo(59);
        assertThat(many.get("duplicate").asInt()).isEqualTo(1);
        assertThat(many.get("unknown").asInt()).isEqualTo(1);

        HttpResponseMessage snapshot = f.quality().snapshot(FakeHttpRequest.get("/api/quality"), new RecordingContext("i"));
        assertThat(snapshot.getStatusCode()).isEqualTo(200);
        JsonNode s = body(snapshot);
        assertThat(s.at("/labels/joined").asLong()).isEqualTo(60);
        assertThat(s.at("/versions/0/version").asInt()).isEqualTo(1);
        assertThat(s.at("/versions/0/lastRecords/count").asLong()).isEqualTo(50);
        assertThat(s.at("/versions/0/lastRecords/auc").asDouble()).isBetween(0.0, 1.0);
    }

    @Test
    void httpFeedback_notFeedback_answers400WithTheReason() throws IOException {
        NearlineFunctions f = withQuality();
        HttpResponseMessage r = f.quality().feedback(FakeHttpRequest.post("/api/feedback", "{\"id\": \"t0\"}"),
                new RecordingContext("inv"));
        assertThat(r.getStatusCode()).isEqualTo(400);
        assertThat(body(r).at("/error/kind").asText()).isEqualTo("INVALID_INPUT");
        assertThat(body(r).at("/error/message").asText())
                .isEqualTo("feedback.label must be a number, a boolean or a class name, got nothing");
        assertThat(f.quality().feedback(FakeHttpRequest.post("/api/feedback", null), new RecordingContext("i"))
                .getStatusCode()).isEqualTo(400);
    }

    @Test
    void serviceBusFeedback_batchWithAMalformedMessage_givesTheOthersAndCompletes() throws IOException {
        NearlineFunctions f = withQuality();
        score(f, 3);
        RecordingContext context = new RecordingContext("inv");
        Map<FeedbackOutcome, Integer> outcomes = f.quality().feedback(new String[] {
            "{\"id\": \"t0\", \"label\": 1}", "not json", "[{\"id\": \"t1\", \"label\": false}, {\"id\": \"t2\", \"label\": 7}]"
        }, new String[] {"m-1", "m-2", "m-3"}, context);
        assertThat(outcomes).containsExactlyInAnyOrderEntriesOf(Map.of(FeedbackOutcome.JOINED, 2,
                FeedbackOutcome.INVALID, 1));
        assertThat(context.lines()).anySatisfy(l -> assertThat(l).startsWith("WARNING [messageId=m-2] not feedback")
                .contains("not valid JSON").doesNotContain("not json"));
    }

    @Test
    void feedback_pipelineWithoutQuality_answers404OrFailsTheTriggerSoTheHostRedelivers() {
        NearlineFunctions f = opened.onTinyPipeline(dir, Map.of());
        assertThat(f.quality().feedback(FakeHttpRequest.post("/api/feedback", "{\"id\":\"a\",\"label\":1}"),
                new RecordingContext("i")).getStatusCode()).isEqualTo(404);
        assertThat(f.quality().snapshot(FakeHttpRequest.get("/api/quality"), new RecordingContext("i")).getStatusCode())
                .isEqualTo(404);
        assertThatThrownBy(() -> f.quality().feedback(new String[] {"{\"id\":\"a\",\"label\":1}"}, new String[] {"m"},
                new RecordingContext("i"))).isInstanceOf(ScoringException.class).hasMessageContaining("\"quality\"");
    }
}
