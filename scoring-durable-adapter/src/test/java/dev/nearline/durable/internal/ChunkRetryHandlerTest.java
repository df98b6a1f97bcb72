package dev.nearline.durable.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.api.ScoringException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ChunkRetryHandlerTest {

    @Test
    void delay_afterEachAttempt_doublesUpToTheMaximum() {
        ChunkRetryHandler h = new ChunkRetryHandler(10, Duration.ofSeconds(1), Duration.ofSeconds(5));
        assertThat(h.delay(1)).isEqualTo(Duration.ofSeconds(1));
        assertThat(h.delay(2)).isEqualTo(Duration.ofSeconds(2));
        assertThat(h.delay(3)).isEqualTo(Duration.ofSeconds(4));
        assertThat(h.delay(4)).isEqualTo(Duration.ofSeconds(5));
        assertThat(h.delay(60)).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void find_markerInAWrappedHostMessage_givesTheKind() {
        String wrapped = "Exception while executing function: Functions.NearlineScoreChunk -> Result: Failure "
                + "Exception: " + FailureKinds.marked(ScoringException.Kind.OVERLOADED, "chunk 3: busy");
        assertThat(FailureKinds.find(wrapped)).isEqualTo(ScoringException.Kind.OVERLOADED);
        assertThat(FailureKinds.find("java.lang.OutOfMemoryError")).isNull();
        assertThat(FailureKinds.find("[nearline:NOT_A_KIND] x")).isNull();
    }
}
