package dev.nearline.keda.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Request parsing and reply bodies, including random bytes (parsers of untrusted input must fail only with INVALID_INPUT). */
class EnvelopeTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void parseRequest_recordAndDeadline_readsBoth() {
        Envelope.Request r = Envelope.parseRequest(utf8("{\"record\": {\"a\": 1}, \"deadlineMs\": 1767225600000}"));
        assertThat(r.record().get("a").intValue()).isEqualTo(1);
        assertThat(r.deadline()).isEqualTo(Instant.ofEpochMilli(1767225600000L));
    }

    @Test
    void parseRequest_noDeadline_hasNone() {
        assertThat(Envelope.parseRequest(utf8("{\"record\": {}}")).deadline()).isNull();
    }

    @Test
    void parseRequest_malformed_failsWithInvalidInputNamingTheProblem() {
        assertInvalid("{\"record\": ", "not valid JSON");
        assertInvalid("", "empty");
        assertInvalid("[1, 2]", "must be a JSON object");
        assertInvalid("{\"rec\": {}}", "no 'record'");
        assertInvalid("{\"record\": null}", "no 'record'");
        assertInvalid("{\"record\": {}, \"deadlineMs\": \"soon\"}", "'deadlineMs' must be epoch milliseconds");
        assertInvalid("{\"record\": {}, \"deadlineMs\": 1.5}", "'deadlineMs' must be epoch milliseconds");
    }

    @Test
    void parseRequest_randomBytes_failOnlyWithInvalidInput() {
        SplittableRandom random = new SplittableRandom(7);
        String alphabet = "{}[]\":,0123456789.-eE truefalsnul\\record deadlineMs\u00e9";
        for (int i = 0; i < 5_000; i++) {
            byte[] bytes;
            if (i % 2 == 0) {
                bytes = new byte[random.nextInt(64)];
                for (int j = 0; j < bytes.length; j++) {
                    bytes[j] = (byte) random.nextInt(256);
                }
            } else {
                StringBuilder sb = new StringBuilder();
                int n = random.nextInt(80);
                for (int j = 0; j < n; j++) {
                    sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
                }
                bytes = utf8(sb.toString());
            }
            try {
                Envelope.parseRequest(bytes);
            } catch (ScoringException e) {
                assertThat(e.kind()).isEqualTo(Kind.INVALID_INPUT);
            }
        }
    }

    @Test
    void okReply_writesStatusOutputAndTiming() throws Exception {
        JsonNode n = JSON.readTree(Envelope.okReply(Map.of("score", 0.25), new Envelope.Timing(3, 40, 500)));
        assertThat(n.get("status").asText()).isEqualTo("OK");
        assertThat(n.at("/output/score").doubleValue()).isEqualTo(0.25);
        assertThat(n.at("/timing/queuedMs").longValue()).isEqualTo(3);
        assertThat(n.at("/timing/scoreMicros").longValue()).isEqualTo(40);
        assertThat(n.at("/timing/totalMicros").longValue()).isEqualTo(500);
    }

    @Test
    void errorReply_writesKindAndMessage() throws Exception {
        JsonNode n = JSON.readTree(Envelope.errorReply(Kind.INVALID_INPUT, "field 'x' missing",
                new Envelope.Timing(-1, 0, 10)));
        assertThat(n.get("status").asText()).isEqualTo("ERROR");
        assertThat(n.at("/error/kind").asText()).isEqualTo("INVALID_INPUT");
        assertThat(n.at("/error/message").asText()).isEqualTo("field 'x' missing");
        assertThat(n.has("output")).isFalse();
    }

    private static void assertInvalid(String body, String expected) {
        assertThatThrownBy(() -> Envelope.parseRequest(utf8(body)))
                .isInstanceOfSatisfying(ScoringException.class, e -> assertThat(e.kind()).isEqualTo(Kind.INVALID_INPUT))
                .hasMessageContaining(expected);
    }
}
