package dev.nearline.core.internal.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The claim-check part of the wire format: {@code recordRef} requests, {@code outputRef} replies, the
 * reference syntax and the messages of a reference that cannot be used (which name the reference and never
 * a SAS token or the blob's content).
 */
class PayloadRefTest {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void parse_requestByReference_hasNoRecordUntilResolved() {
        QueueRequest r = QueueRequest.parse(utf8("{\"recordRef\": \"blob://nearline-payloads/requests/a.json\", "
                + "\"deadlineMs\": 1767225600000}"));

        assertThat(r.record()).isNull();
        assertThat(r.recordRef()).isEqualTo(new PayloadRef("nearline-payloads", "requests/a.json"));
        assertThat(r.deadline()).isEqualTo(Instant.ofEpochMilli(1767225600000L));
        QueueRequest resolved = r.withRecord(QueueRequest.readRecord(r.recordRef(), utf8("{\"f0\": 1}")));
        assertThat(resolved.record().get("f0").asInt()).isEqualTo(1);
        assertThat(resolved.recordRef()).isEqualTo(r.recordRef());
        assertThat(resolved.deadline()).isEqualTo(r.deadline());
        assertThat(QueueRequest.parse("{\"record\": {}}").recordRef()).isNull();
    }

    @Test
    void parse_malformedReferences_failInvalidInputNamingTheFieldWithoutSecrets() {
        String[][] cases = {
                {"{\"recordRef\": 42}", "'recordRef' must be a string blob://<container>/<name>, got a JSON number"},
                {"{\"recordRef\": \"blob://c/x\"}", "'recordRef' must be a reference blob://<container>/<name> (a container name, "
                        + "then letters, digits and ._-/), got 'blob://c/x'"},
                {"{\"recordRef\": \"https://a.blob.core.windows.net/c/x?sv=1&sig=SECRET\"}", "'recordRef' must be a reference "
                        + "blob://<container>/<name> (a container name, then letters, digits and ._-/), got "
                        + "'https://a.blob.core.windows.net/c/x?<cut>'"},
                {"{\"recordRef\": \"blob://payloads/a/../b\"}", "got 'blob://payloads/a/../b'"},
                {"{\"recordRef\": \"blob://payloads/a/./b\"}", "got 'blob://payloads/a/./b'"},
                {"{\"recordRef\": \"blob://payloads/\"}", "got 'blob://payloads/'"},
                {"{\"recordRef\": \"blob://Payloads/a\"}", "got 'blob://Payloads/a'"},
                {"{\"record\": {}, \"recordRef\": \"blob://payloads/a\"}", "request body has both 'record' and 'recordRef'; "
                        + "send the record inline or by reference, not both"},
        };
        for (String[] c : cases) {
            ScoringException e = catchThrowableOfType(ScoringException.class, () -> QueueRequest.parse(c[0]));
            assertThat(e).as(c[0]).isNotNull();
            assertThat(e.kind()).isEqualTo(Kind.INVALID_INPUT);
            assertThat(e.getMessage()).as(c[0]).endsWith(c[1]).doesNotContain("SECRET");
        }
    }

    @Test
    void readRecord_unusableContent_namesTheReferenceNotTheContent() {
        PayloadRef ref = new PayloadRef("payloads", "requests/a.json");

        assertThat(catchThrowableOfType(ScoringException.class, () -> QueueRequest.readRecord(ref, utf8("{\"k\": hunter2"))))
                .hasMessageStartingWith("the record at recordRef 'blob://payloads/requests/a.json' is not valid JSON (at line 1")
                .hasMessageNotContaining("hunter2");
        assertThat(catchThrowableOfType(ScoringException.class, () -> QueueRequest.readRecord(ref, new byte[0])))
                .hasMessage("the record at recordRef 'blob://payloads/requests/a.json' is empty or null; the blob must hold the "
                        + "record's JSON");
        assertThat(catchThrowableOfType(ScoringException.class, () -> QueueRequest.readRecord(ref, utf8("null"))).kind())
                .isEqualTo(Kind.INVALID_INPUT);
        assertThat(QueueRequest.recordMissing(ref).getMessage()).isEqualTo("recordRef 'blob://payloads/requests/a.json' does "
                + "not exist in the payload store (already deleted, removed by a lifecycle rule, or never uploaded)");
    }

    @Test
    void okByReference_bodyCarriesTheReferenceInsteadOfTheOutput() {
        JsonNode inline = QueueReply.ok(java.util.Map.of("score", 0.5), new QueueReply.Timing(1, 2, 3));
        PayloadRef ref = new PayloadRef("payloads", PayloadRef.replyName("m-1"));

        assertThat(QueueReply.text(QueueReply.okByReference(ref, new QueueReply.Timing(1, 2, 3))))
                .isEqualTo("{\"status\":\"OK\",\"outputRef\":\"blob://payloads/" + ref.name() + "\",\"timing\":"
                        + "{\"queuedMs\":1,\"scoreMicros\":2,\"totalMicros\":3}}");
        assertThat(new String(QueueReply.outputBytes(inline), StandardCharsets.UTF_8)).isEqualTo("{\"score\":0.5}");
        assertThat(PayloadRef.replyName("m-1")).isEqualTo(PayloadRef.replyName("m-1")).startsWith("replies/r-")
                .endsWith(".json").isNotEqualTo(PayloadRef.replyName("m-2"));
        assertThatThrownBy(() -> QueueReply.outputBytes(QueueReply.error(Kind.INTERNAL, "x")))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void parse_randomReferenceText_eitherRoundTripsOrFailsInvalidInput() {
        SplittableRandom random = new SplittableRandom(11);
        String alphabet = "ab-./_?#:%Z9 ";
        for (int n = 0; n < 20_000; n++) {
            StringBuilder s = new StringBuilder("blob://");
            for (int i = random.nextInt(0, 24); i > 0; i--) {
                s.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            try {
                PayloadRef ref = PayloadRef.parse("recordRef", s.toString());
                assertThat(ref.toString()).isEqualTo(s.toString());
                assertThat(ref.name()).doesNotStartWith("/").doesNotContain("//");
            } catch (ScoringException e) {
                assertThat(e.kind()).isEqualTo(Kind.INVALID_INPUT);
                assertThat(e.getMessage()).doesNotContain("#").hasSizeLessThan(Wire.MAX_MESSAGE_CHARS);
            }
        }
        assertThat(PayloadRef.quote("x".repeat(500))).hasSize(Wire.MAX_ECHO_CHARS);
    }
}
