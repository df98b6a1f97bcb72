package dev.nearline.examples.keda;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code NEARLINE_LOG_FORMAT}'s values; the worker's JSON lines themselves are checked by KedaGuideIT. */
class LogFormatTest {

    @Test
    void of_unsetOrBlankOrText_isText() {
        assertThat(LogFormat.of(null)).isEqualTo("text");
        assertThat(LogFormat.of(" ")).isEqualTo("text");
        assertThat(LogFormat.of("Text")).isEqualTo("text");
    }

    @Test
    void of_jsonInAnyCase_isJson() {
        assertThat(LogFormat.of("json")).isEqualTo("json");
        assertThat(LogFormat.of(" JSON ")).isEqualTo("json");
    }

    @Test
    void of_otherValue_isNullSoTheDefinerWarnsAndLogsText() {
        assertThat(LogFormat.of("xml")).isNull();
        assertThat(LogFormat.of("jsonl")).isNull();
    }
}
