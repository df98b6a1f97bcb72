package dev.nearline.core.internal.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import java.io.CharConversionException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.SplittableRandom;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The queue wire format, tested once for both hosts: golden request and reply JSON, the reply's id and
 * application properties, every malformed envelope with its exact message, and the clipping limits.
 * The hosts' own tests check that what they send is exactly what this definition makes.
 */
class WireFormatTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Parses {@code body} both as bytes and as text; both must give the same failure, whose message is returned. */
    private static String failure(@Nullable String body) {
        ScoringException fromText = catchThrowableOfType(ScoringException.class, () -> QueueRequest.parse(body));
        assertThat(fromText).as("failure of %s", body).isNotNull();
        assertThat(fromText.kind()).isEqualTo(Kind.INVALID_INPUT);
        if (body != null) {
            ScoringException fromBytes = catchThrowableOfType(ScoringException.class, () -> QueueRequest.parse(utf8(body)));
            assertThat(fromBytes).as("failure of %s as bytes", body).isNotNull();
            assertThat(fromBytes.kind()).isEqualTo(Kind.INVALID_INPUT);
            assertThat(fromBytes.getMessage()).isEqualTo(fromText.getMessage());
        }
        return fromText.getMessage();
    }

    @Nested
    class Request {
        @Test
        void parse_recordAndDeadline_readsBoth() {
            QueueRequest r = QueueRequest.parse(utf8("{\"record\": {\"a\": 1}, \"deadlineMs\": 1767225600000}"));
            assertThat(r.record().get("a").intValue()).isEqualTo(1);
            assertThat(r.deadline()).isEqualTo(Instant.ofEpochMilli(1767225600000L));
            assertThat(QueueRequest.parse("{\"record\": {\"a\": 1}, \"deadlineMs\": 1767225600000}")).isEqualTo(r);
        }

        @Test
        void parse_noOrNullDeadlineAndOtherMembers_hasNoDeadline() {
            assertThat(QueueRequest.parse(utf8("{\"record\": {}}")).deadline()).isNull();
            assertThat(QueueRequest.parse("{\"record\": [1], \"deadlineMs\": null, \"client\": \"x\"}").deadline()).isNull();
        }

        @Test
        void parse_malformedEnvelope_failsWithItsExactMessage() {
            String expectRecord = "; expected {\"record\": {...}}";
            assertThat(failure(null)).isEqualTo("request body is empty" + expectRecord);
            assertThat(failure("")).isEqualTo("request body is empty" + expectRecord);
            assertThat(failure(" \n\t")).isEqualTo("request body is empty" + expectRecord);
            assertThat(failure("[1, 2]")).isEqualTo("request body must be a JSON object {\"record\": {...}}, got an array");
            assertThat(failure("\"Jane Doe\"")).isEqualTo("request body must be a JSON object {\"record\": {...}}, got a string");
            assertThat(failure("{\"record\": {\"name\": JaneDoe}}")).startsWith("request body is not valid JSON: "
                    + "Unrecognized token (not shown): was expecting").doesNotContain("JaneDoe");
            assertThat(failure("null")).isEqualTo("request body must be a JSON object {\"record\": {...}}, got null");
            assertThat(failure("{\"rec\": {}}")).isEqualTo("request body has no 'record'" + expectRecord);
            assertThat(failure("{\"record\": null}")).isEqualTo("request body has no 'record'" + expectRecord);
            assertThat(failure("{\"record\": {}, \"deadlineMs\": \"soon\"}"))
                    .isEqualTo("'deadlineMs' must be epoch milliseconds (an integer), got \"soon\"");
            assertThat(failure("{\"record\": {}, \"deadlineMs\": 1.5}"))
                    .isEqualTo("'deadlineMs' must be epoch milliseconds (an integer), got 1.5");
            assertThat(failure("{\"record\": {}, \"deadlineMs\": 100000000000000000000}"))
                    .isEqualTo("'deadlineMs' must be epoch milliseconds (an integer), got 100000000000000000000");
        }

        @Test
        void parse_invalidJson_namesWhereTheParserStopped() {
            assertThat(failure("{\"record\": "))
                    .isEqualTo("request body is not valid JSON: unexpected end of input at line 1, column 12");
            assertThat(failure("{oops")).startsWith("request body is not valid JSON: Unexpected character ('o'")
                    .endsWith(" at line 1, column 2");
            // a body is one JSON value: anything after it makes it invalid
            assertThat(failure("{\"record\": {}} {}")).startsWith("request body is not valid JSON: Trailing token")
                    .endsWith(" at line 1, column 16");
            assertThat(failure("{\"record\": {}}\n]")).startsWith("request body is not valid JSON: Unexpected close marker")
                    .endsWith(" at line 2, column 1");
        }

        @Test
        void parse_echoOfALongValue_isClippedToTheEchoLimit() {
            String value = "v".repeat(1_000);
            String message = failure("{\"record\": {}, \"deadlineMs\": \"" + value + "\"}");
            assertThat(message).isEqualTo("'deadlineMs' must be epoch milliseconds (an integer), got \""
                    + "v".repeat(Wire.MAX_ECHO_CHARS - 4) + "...");
            assertThat(failure("[" + "1,".repeat(500) + "1]")).endsWith("got an array");
        }

        @Test
        void parse_randomBytes_failOnlyWithOneLineInvalidInput() {
            SplittableRandom random = new SplittableRandom(7);
            String alphabet = "{}[]\":,0123456789.-eE truefalsnul\\record deadlineMs\u00e9\n";
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
                    QueueRequest.parse(bytes);
                } catch (ScoringException e) {
                    assertThat(e.kind()).isEqualTo(Kind.INVALID_INPUT);
                    assertThat(e.getMessage()).doesNotContain("\n").hasSizeLessThanOrEqualTo(40 + Wire.MAX_MESSAGE_CHARS);
                }
            }
        }

        @Test
        void missingMessageId_explainsWhyAndTheFix() {
            ScoringException e = QueueRequest.missingMessageId();
            assertThat(e.kind()).isEqualTo(Kind.INVALID_INPUT);
            assertThat(e.getMessage()).isEqualTo("request has no MessageId, so no reply could be matched to it; "
                    + "set MessageId on every request");
        }

        @Test
        void deadlinePassed_atTheDeadline_countsAsPassed() {
            Instant deadline = Instant.parse("2026-11-25T12:00:00Z");
            QueueRequest r = QueueRequest.parse("{\"record\": {}, \"deadlineMs\": " + deadline.toEpochMilli() + "}");
            assertThat(r.deadlinePassed(deadline.minusMillis(1))).isFalse();
            assertThat(r.deadlinePassed(deadline)).isTrue();
            assertThat(QueueRequest.parse("{\"record\": {}}").deadlinePassed(Instant.MAX)).isFalse();
            ScoringException e = r.deadlineExceeded(deadline.plusSeconds(1));
            assertThat(e.kind()).isEqualTo(Kind.DEADLINE_EXCEEDED);
            assertThat(e.getMessage()).isEqualTo("request deadline 2026-11-25T12:00:00Z passed before scoring "
                    + "(received at 2026-11-25T12:00:01Z)");
        }

        @Test
        void deadlineExceeded_withoutDeadline_failsAsMisuse() {
            QueueRequest r = QueueRequest.parse("{\"record\": {}}");
            assertThatThrownBy(() -> r.deadlineExceeded(Instant.EPOCH)).isInstanceOf(IllegalStateException.class);
        }
    }

    @Nested
    class Reply {
        private final QueueReply.Timing timing = new QueueReply.Timing(3, 40, 500);

        @Test
        void conventions_areTheDocumentedOnes() {
            assertThat(QueueReply.messageIdFor("m-1")).isEqualTo("r:m-1");
            assertThat(QueueReply.SUBJECT).isEqualTo("nearline.reply");
            assertThat(QueueReply.CONTENT_TYPE).isEqualTo("application/json");
        }

        @Test
        void properties_ofAResult_areTheStatusOnly() {
            assertThat(QueueReply.properties(null)).containsExactlyInAnyOrderEntriesOf(Map.of("nearline-status", "OK"));
        }

        @Test
        void properties_ofEachFailureKind_areStatusAndKind() {
            for (Kind kind : Kind.values()) {
                assertThat(QueueReply.properties(kind)).containsExactlyInAnyOrderEntriesOf(
                        Map.of("nearline-status", "ERROR", "nearline-error-kind", kind.name()));
            }
            assertThatThrownBy(() -> QueueReply.properties(Kind.INTERNAL).put("x", "y"))
                    .isInstanceOf(UnsupportedOperationException.class);
        }

        @Test
        void ok_golden() {
            String golden = "{\"status\":\"OK\",\"output\":{\"score\":0.25},"
                    + "\"timing\":{\"queuedMs\":3,\"scoreMicros\":40,\"totalMicros\":500}}";
            assertThat(QueueReply.text(QueueReply.ok(Map.of("score", 0.25), timing))).isEqualTo(golden);
            assertThat(QueueReply.bytes(QueueReply.ok(Map.of("score", 0.25), timing))).isEqualTo(utf8(golden));
            assertThat(QueueReply.text(QueueReply.body(Map.of("score", 0.25), null, timing))).isEqualTo(golden);
        }

        @Test
        void ok_nullOutputAndUnknownQueueTime_golden() {
            assertThat(QueueReply.text(QueueReply.ok(null, new QueueReply.Timing(QueueReply.Timing.UNKNOWN, 0, 7))))
                    .isEqualTo("{\"status\":\"OK\",\"output\":null,\"timing\":{\"queuedMs\":-1,\"scoreMicros\":0,\"totalMicros\":7}}");
        }

        @Test
        void error_golden() {
            String golden = "{\"status\":\"ERROR\",\"error\":{\"kind\":\"INVALID_INPUT\",\"message\":\"field 'x' missing\"},"
                    + "\"timing\":{\"queuedMs\":3,\"scoreMicros\":40,\"totalMicros\":500}}";
            assertThat(QueueReply.text(QueueReply.error(Kind.INVALID_INPUT, "field 'x' missing", timing))).isEqualTo(golden);
            assertThat(QueueReply.text(QueueReply.body("ignored",
                    ScoringException.invalidInput("field 'x' missing"), timing))).isEqualTo(golden);
        }

        @Test
        void error_withoutTiming_golden() {
            assertThat(QueueReply.text(QueueReply.error(Kind.UNAVAILABLE, "backend down")))
                    .isEqualTo("{\"status\":\"ERROR\",\"error\":{\"kind\":\"UNAVAILABLE\",\"message\":\"backend down\"}}");
            assertThat(QueueReply.error(Kind.INTERNAL, null).at("/error/message").asText()).isEqualTo("null");
        }

        @Test
        void error_longMessage_isClippedToTheMessageLimit() throws Exception {
            String message = "m".repeat(Wire.MAX_MESSAGE_CHARS + 1);
            String written = JSON.readTree(QueueReply.bytes(QueueReply.error(Kind.INVALID_INPUT, message, timing)))
                    .at("/error/message").asText();
            assertThat(written).isEqualTo("m".repeat(Wire.MAX_MESSAGE_CHARS - 3) + "...");
        }

        @Test
        void ok_outputJacksonCannotWrite_failsInternalNamingTheType() {
            assertThatThrownBy(() -> QueueReply.ok(new Object(), timing))
                    .isInstanceOfSatisfying(ScoringException.class, e -> assertThat(e.kind()).isEqualTo(Kind.INTERNAL))
                    .hasMessageStartingWith("cannot write the output (java.lang.Object) as JSON");
        }
    }

    @Nested
    class Text {
        @Test
        void clip_atTheLimits_cutsOnlyAbove() {
            for (int max : new int[] {Wire.MAX_ECHO_CHARS, Wire.MAX_MESSAGE_CHARS}) {
                assertThat(Wire.clip("x".repeat(max - 1), max)).hasSize(max - 1);
                assertThat(Wire.clip("x".repeat(max), max)).isEqualTo("x".repeat(max));
                assertThat(Wire.clip("x".repeat(max + 1), max)).isEqualTo("x".repeat(max - 3) + "...");
                assertThat(Wire.clip("x".repeat(10 * max), max)).hasSize(max);
            }
        }

        @Test
        void clip_throughASurrogatePair_keepsTheWholeCharacterOut() {
            String text = "a".repeat(116) + "\uD83D\uDE00" + "b".repeat(10); // U+1F600 at chars 116-117
            String clipped = Wire.clip(text, 120);
            assertThat(clipped).isEqualTo("a".repeat(116) + "...");
            assertThat(Wire.clip(text, 121)).isEqualTo("a".repeat(116) + "\uD83D\uDE00" + "...");
        }

        @Test
        void clip_isIdempotent() {
            String once = Wire.clip("z".repeat(1_000), 300);
            assertThat(Wire.clip(once, 300)).isSameAs(once);
        }

        @Test
        void clip_noRoomForText_failsAsMisuse() {
            assertThatThrownBy(() -> Wire.clip("abcdef", 3)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("got 3");
        }

        @Test
        void errorDescription_isTheClippedMessage() {
            assertThat(Wire.errorDescription("short")).isEqualTo("short");
            assertThat(Wire.errorDescription(null)).isEqualTo("null");
            assertThat(Wire.errorDescription("d".repeat(5_000))).hasSize(Wire.MAX_MESSAGE_CHARS).endsWith("...");
        }

        @Test
        void jsonError_notAParserException_usesTheFirstLineOfItsMessage() {
            assertThat(Wire.jsonError(new CharConversionException("invalid UTF-32 character\nat byte 4")))
                    .isEqualTo("invalid UTF-32 character");
        }
    }
}
