package dev.nearline.durable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FunctionsSettingsTest {

    @Test
    void fromEnvironment_empty_takesDefaults() {
        FunctionsSettings s = FunctionsSettings.fromEnvironment(Map.of());
        assertThat(s.pipeline()).isEmpty();
        assertThat(s.correlationHeader()).isEqualTo("x-correlation-id");
        assertThat(s.maxRequestBytes()).isEqualTo(1 << 20);
        assertThat(s.httpTimeout()).isEmpty();
        assertThat(s.retryAfter()).isEqualTo(Duration.ofSeconds(1));
        assertThat(s.chunkSize()).isEqualTo(500);
        assertThat(s.maxParallelChunks()).isEqualTo(8);
        assertThat(s.chunkMaxAttempts()).isEqualTo(5);
        assertThat(s.chunkFirstRetry()).isEqualTo(Duration.ofSeconds(1));
        assertThat(s.chunkMaxRetry()).isEqualTo(Duration.ofMinutes(1));
        assertThat(s.replyConnectionSetting()).isEqualTo("ServiceBusConnection");
        assertThat(s.replyConnectionString()).isEmpty();
    }

    @Test
    void fromEnvironment_relativePipeline_resolvesAgainstScriptRoot() {
        FunctionsSettings s = FunctionsSettings.fromEnvironment(Map.of("AzureWebJobsScriptRoot", "/home/site/wwwroot",
                FunctionsSettings.PIPELINE, "pipeline/fraud.json"));
        assertThat(s.pipeline()).contains(Path.of("/home/site/wwwroot/pipeline/fraud.json"));
    }

    @Test
    void fromEnvironment_homeWithoutPayloadDir_usesHomeData() {
        FunctionsSettings s = FunctionsSettings.fromEnvironment(Map.of("HOME", "/home"));
        assertThat(s.payloadDirectory()).isEqualTo(Path.of("/home/data/nearline-batches"));
    }

    @Test
    void fromEnvironment_replyConnectionNamed_readsThatSetting() {
        FunctionsSettings s = FunctionsSettings.fromEnvironment(Map.of(FunctionsSettings.REPLY_CONNECTION, "SbReplies",
                "SbReplies", "Endpoint=sb://x/;SharedAccessKeyName=k;SharedAccessKey=v"));
        assertThat(s.replyConnectionString()).hasValueSatisfying(v -> assertThat(v).startsWith("Endpoint=sb://x/"));
        assertThat(s.toString()).doesNotContain("SharedAccessKey");
    }

    @Test
    void fromEnvironment_notANumber_failsNamingTheSetting() {
        assertThatThrownBy(() -> FunctionsSettings.fromEnvironment(Map.of(FunctionsSettings.CHUNK_SIZE, "lots")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("NEARLINE_CHUNK_SIZE must be a whole number, got 'lots'");
    }

    @Test
    void fromEnvironment_outOfRange_failsWithTheBounds() {
        assertThatThrownBy(() -> FunctionsSettings.fromEnvironment(Map.of(FunctionsSettings.MAX_PARALLEL_CHUNKS, "0")))
                .hasMessage("NEARLINE_MAX_PARALLEL_CHUNKS must be between 1 and 1000, got 0");
    }

    @Test
    void fromEnvironment_maxRetryBelowFirst_fails() {
        assertThatThrownBy(() -> FunctionsSettings.fromEnvironment(Map.of(FunctionsSettings.CHUNK_FIRST_RETRY_MS, "5000",
                FunctionsSettings.CHUNK_MAX_RETRY_MS, "1000"))).hasMessageContaining("must not be below");
    }

    @Test
    void fromEnvironment_badHeaderName_fails() {
        assertThatThrownBy(() -> FunctionsSettings.fromEnvironment(Map.of(FunctionsSettings.CORRELATION_HEADER, "x id")))
                .hasMessageContaining(FunctionsSettings.CORRELATION_HEADER);
    }
}
