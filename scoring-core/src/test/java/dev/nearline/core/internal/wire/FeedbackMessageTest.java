package dev.nearline.core.internal.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.nearline.api.ScoringException;
import dev.nearline.core.FeedbackOutcome;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The feedback wire format: what parses, and the one-line errors of what does not. */
class FeedbackMessageTest {

    @Test
    void parse_oneLabelOrAnArray_readsIdsAndEveryLabelForm() {
        FeedbackMessage one = FeedbackMessage.parse("{\"id\": \"tx-1\", \"label\": 1, \"source\": \"chargebacks\"}");
        assertThat(one.labels()).containsExactly(new FeedbackMessage.Label("tx-1", 1.0, null));
        FeedbackMessage many = FeedbackMessage.parse(("[{\"id\": 42, \"label\": true}, {\"id\": \"b\", \"label\": \"owl\"},"
                + " {\"id\": \"c\", \"label\": 12.5}]").getBytes(StandardCharsets.UTF_8));
        assertThat(many.labels()).containsExactly(new FeedbackMessage.Label("42", 1.0, null),
                new FeedbackMessage.Label("b", null, "owl"), new FeedbackMessage.Label("c", 12.5, null));
    }

    @Test
    void parse_malformedBodies_failWithInvalidInputNamingTheProblem() {
        assertThat(error("")).contains("empty");
        assertThat(error("{\"id\": \"a\", \"label\": 1")).contains("not valid JSON").contains("unexpected end of input");
        assertThat(error("{\"label\": 1}")).contains("feedback.id must be a string or an integer, got nothing");
        assertThat(error("{\"id\": 1.5, \"label\": 1}")).contains("feedback.id").contains("number");
        assertThat(error("[{\"id\": \"a\", \"label\": 1}, {\"id\": \"b\", \"label\": null}]"))
                .contains("feedback[1].label must be a number, a boolean or a class name, got null");
        assertThat(error("[1]")).contains("feedback[0] must be a JSON object");
        assertThat(error("[" + "{\"id\":\"a\",\"label\":1},".repeat(FeedbackMessage.MAX_LABELS) + "{\"id\":\"a\",\"label\":1}]"))
                .contains("1001 labels");
        assertThat(error("{\"id\": \"a\", \"label\": 1} trailing")).contains("not valid JSON");
    }

    @Test
    void summary_listsEveryOutcome() {
        assertThat(FeedbackMessage.summaryText(Map.of(FeedbackOutcome.JOINED, 2, FeedbackOutcome.UNKNOWN, 1)))
                .isEqualTo("{\"joined\":2,\"unknown\":1,\"expired\":0,\"duplicate\":0,\"invalid\":0}");
    }

    private static String error(String body) {
        ScoringException e = catchThrowableOfType(ScoringException.class, () -> FeedbackMessage.parse(body));
        assertThat(e).isNotNull();
        assertThat(e.kind()).isEqualTo(ScoringException.Kind.INVALID_INPUT);
        assertThat(e.getMessage()).doesNotContain("\n");
        return e.getMessage();
    }
}
