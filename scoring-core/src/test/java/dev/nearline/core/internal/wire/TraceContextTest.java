package dev.nearline.core.internal.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** W3C trace context across one hop: continued when valid, a new trace when not. */
class TraceContextTest {
    private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String PARENT = "00f067aa0ba902b7";

    @Test
    void continueFrom_validTraceparent_keepsTraceIdAndFlagsWithANewSpan() {
        TraceContext t = TraceContext.continueFrom("00-" + TRACE + "-" + PARENT + "-01", "congo=t61rcWkgMzE");

        assertThat(t.traceId()).isEqualTo(TRACE);
        assertThat(t.parentId()).isEqualTo(PARENT);
        assertThat(t.spanId()).matches("[0-9a-f]{16}").isNotEqualTo(PARENT).isNotEqualTo("0000000000000000");
        assertThat(t.flags()).isEqualTo("01");
        assertThat(t.traceparent()).isEqualTo("00-" + TRACE + "-" + t.spanId() + "-01");
        assertThat(t.replyProperties()).containsExactly(Map.entry("traceparent", t.traceparent()),
                Map.entry("tracestate", "congo=t61rcWkgMzE"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "garbage", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01"})
    void continueFrom_invalidTraceparent_startsANewTraceWithoutTheState(String traceparent) {
        TraceContext t = TraceContext.continueFrom(traceparent, "congo=t61rcWkgMzE");

        assertThat(t.traceId()).matches("[0-9a-f]{32}").isNotEqualTo(TRACE).isNotEqualTo("0".repeat(32));
        assertThat(t.parentId()).isNull();
        assertThat(t.traceState()).as("tracestate belongs to the discarded trace").isNull();
        assertThat(t.traceparent()).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-00");
    }

    @Test
    void continueFrom_properties_prefersTraceparentThenDiagnosticId() {
        Map<String, Object> props = new HashMap<>();
        props.put("Diagnostic-Id", "00-" + TRACE + "-" + PARENT + "-00");
        assertThat(TraceContext.continueFrom(props).traceId()).isEqualTo(TRACE);

        String other = "0af7651916cd43dd8448eb211c80319c";
        props.put("TraceParent", "00-" + other + "-b7ad6b7169203331-01");
        assertThat(TraceContext.continueFrom(props).traceId()).as("case-insensitive name").isEqualTo(other);
        assertThat(TraceContext.continueFrom(Map.of()).parentId()).isNull();
    }

    @Test
    void continueFrom_traceStateWithControlCharacters_isDropped() {
        TraceContext t = TraceContext.continueFrom("00-" + TRACE + "-" + PARENT + "-01", "a=b\nc=d");

        assertThat(t.traceId()).isEqualTo(TRACE);
        assertThat(t.replyProperties()).containsOnlyKeys("traceparent");
    }
}
