package dev.nearline.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class OutcomeTest {

    @Test
    void success_holdsValue() {
        Outcome<String> o = Outcome.success("ok");

        assertThat(o.isSuccess()).isTrue();
        assertThat(o.get()).isEqualTo("ok");
        assertThat(o.value()).isEqualTo("ok");
        assertThat(o.error()).isNull();
    }

    @Test
    void failure_getThrowsTheError() {
        ScoringException e = ScoringException.invalidInput("bad");
        Outcome<String> o = Outcome.failure(e);

        assertThat(o.isSuccess()).isFalse();
        assertThat(o.error()).isSameAs(e);
        assertThat(o.value()).isNull();
        assertThatThrownBy(o::get).isSameAs(e);
    }

    @Test
    void constructor_neitherValueNorError_fails() {
        assertThatThrownBy(() -> new Outcome<String>(null, null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Outcome.success(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void constructor_bothValueAndError_fails() {
        assertThatThrownBy(() -> new Outcome<>("v", ScoringException.invalidInput("x")))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
