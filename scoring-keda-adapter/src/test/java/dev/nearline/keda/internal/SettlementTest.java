package dev.nearline.keda.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.api.ScoringException.Kind;
import dev.nearline.keda.internal.Settlement.Action;
import dev.nearline.keda.internal.Settlement.Decision;
import org.junit.jupiter.api.Test;

/** The settlement table, row by row. */
class SettlementTest {

    @Test
    void decide_scored_repliesThenCompletes() {
        assertThat(Settlement.decide(null, false, 1, 10)).isEqualTo(new Decision(Action.COMPLETE, true, null, false));
    }

    @Test
    void decide_invalidInput_repliesThenDeadLettersWithTheKind() {
        assertThat(Settlement.decide(Kind.INVALID_INPUT, false, 1, 10))
                .isEqualTo(new Decision(Action.DEAD_LETTER, true, "INVALID_INPUT", false));
    }

    @Test
    void decide_requestDeadlinePassed_repliesThenCompletes() {
        assertThat(Settlement.decide(Kind.DEADLINE_EXCEEDED, true, 1, 10))
                .isEqualTo(new Decision(Action.COMPLETE, true, null, false));
    }

    @Test
    void decide_pipelineTimeoutWithRequestStillValid_abandonsSilently() {
        assertThat(Settlement.decide(Kind.DEADLINE_EXCEEDED, false, 1, 10))
                .isEqualTo(new Decision(Action.ABANDON, false, null, false));
    }

    @Test
    void decide_overloadedOrUnavailable_abandonsAndBacksOff() {
        assertThat(Settlement.decide(Kind.OVERLOADED, false, 2, 10)).isEqualTo(new Decision(Action.ABANDON, false, null, true));
        assertThat(Settlement.decide(Kind.UNAVAILABLE, false, 9, 10)).isEqualTo(new Decision(Action.ABANDON, false, null, true));
    }

    @Test
    void decide_internal_abandonsWithoutBackOff() {
        assertThat(Settlement.decide(Kind.INTERNAL, false, 1, 10)).isEqualTo(new Decision(Action.ABANDON, false, null, false));
    }

    @Test
    void decide_retryableOnLastDelivery_repliesThenDeadLettersWithTheKind() {
        assertThat(Settlement.decide(Kind.INTERNAL, false, 10, 10))
                .isEqualTo(new Decision(Action.DEAD_LETTER, true, "INTERNAL", false));
        assertThat(Settlement.decide(Kind.UNAVAILABLE, false, 11, 10))
                .isEqualTo(new Decision(Action.DEAD_LETTER, true, "UNAVAILABLE", true));
    }
}
