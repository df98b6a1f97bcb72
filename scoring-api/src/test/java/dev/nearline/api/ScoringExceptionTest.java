package dev.nearline.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.api.ScoringException.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ScoringExceptionTest {

    @ParameterizedTest
    @CsvSource({
            "INVALID_INPUT, false",
            "DEADLINE_EXCEEDED, true",
            "OVERLOADED, true",
            "UNAVAILABLE, true",
            "INTERNAL, true",
    })
    void isRetryable_perKind_isFixed(Kind kind, boolean retryable) {
        assertThat(kind.isRetryable()).isEqualTo(retryable);
        assertThat(new ScoringException(kind, "m").isRetryable()).isEqualTo(retryable);
    }

    @Test
    void kinds_allCovered() {
        assertThat(Kind.values()).hasSize(5);
    }

    @Test
    void invalidInput_hasKindAndMessage() {
        ScoringException e = ScoringException.invalidInput("field 'amount' is missing");

        assertThat(e.kind()).isEqualTo(Kind.INVALID_INPUT);
        assertThat(e.getMessage()).isEqualTo("field 'amount' is missing");
        assertThat(e).isInstanceOf(RuntimeException.class);
    }

    @Test
    void constructor_withCause_keepsCause() {
        IllegalStateException cause = new IllegalStateException("boom");

        ScoringException e = new ScoringException(Kind.UNAVAILABLE, "server down", cause);

        assertThat(e.getCause()).isSameAs(cause);
        assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE);
    }

    @Test
    void toString_showsKindAndMessage() {
        assertThat(new ScoringException(Kind.OVERLOADED, "queue full").toString())
                .isEqualTo("ScoringException[OVERLOADED]: queue full");
    }
}
