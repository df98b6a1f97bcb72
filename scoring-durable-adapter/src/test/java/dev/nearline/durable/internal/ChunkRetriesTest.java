package dev.nearline.durable.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.core.internal.wire.Wire;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The retry rule of the orchestrator, and the typed outcome that carries a chunk's failure kind to it. */
class ChunkRetriesTest {

    @Test
    void delay_afterEachAttempt_doublesUpToTheMaximum() {
        ChunkRetries r = new ChunkRetries(10, Duration.ofSeconds(1), Duration.ofSeconds(5));
        assertThat(r.delay(1)).isEqualTo(Duration.ofSeconds(1));
        assertThat(r.delay(2)).isEqualTo(Duration.ofSeconds(2));
        assertThat(r.delay(3)).isEqualTo(Duration.ofSeconds(4));
        assertThat(r.delay(4)).isEqualTo(Duration.ofSeconds(5));
        assertThat(r.delay(60)).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void retry_retryableKindsUntilTheLastAttempt_invalidInputNever() {
        ChunkRetries r = new ChunkRetries(3, Duration.ofSeconds(1), Duration.ofSeconds(5));
        assertThat(r.retry(Kind.UNAVAILABLE, 1)).isTrue();
        assertThat(r.retry(Kind.INTERNAL, 2)).isTrue();
        assertThat(r.retry(Kind.OVERLOADED, 3)).isFalse();
        assertThat(r.retry(Kind.INVALID_INPUT, 1)).isFalse();
    }

    @Test
    void new_firstAboveMax_failsNamingTheValues() {
        assertThatThrownBy(() -> new ChunkRetries(3, Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PT2S");
    }

    @Test
    void chunkOutcome_failedThroughJson_keepsItsKindAndClipsItsMessage() {
        ChunkOutcome failed = ChunkOutcome.failed(Kind.OVERLOADED, "x".repeat(1_000));
        ChunkOutcome read = Json.readPayload(Json.write(failed), ChunkOutcome.class);
        assertThat(read.failure()).isEqualTo(Kind.OVERLOADED);
        assertThat(read.summary()).isNull();
        assertThat(read.message()).hasSize(Wire.MAX_MESSAGE_CHARS).endsWith("...");
    }

    @Test
    void chunkOutcome_scoredThroughJson_keepsItsSummary() {
        ChunkOutcome scored = ChunkOutcome.scored(new ChunkSummary(2, 10, 10, 0, List.of()));
        JsonNode json = Json.MAPPER.valueToTree(scored);
        assertThat(json.get("failure").isNull()).isTrue();
        assertThat(Json.readPayload(Json.write(scored), ChunkOutcome.class)).isEqualTo(scored);
    }

    @Test
    void chunkOutcome_bothOrNeither_isRefused() {
        assertThatThrownBy(() -> new ChunkOutcome(null, null, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("neither");
        assertThatThrownBy(() -> new ChunkOutcome(new ChunkSummary(0, 1, 1, 0, List.of()), Kind.INTERNAL, "x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("both");
    }
}
