package dev.nearline.core.internal.wire;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * The W3C Trace Context (https://www.w3.org/TR/trace-context/) of one request as the adapters carry it across a
 * broker hop: read from the request's {@code traceparent} (else Service Bus's {@code Diagnostic-Id}, which holds
 * the same format) and {@code tracestate}, continued with a new span id for the work done here, and written on
 * the reply. A missing or malformed {@code traceparent} starts a new trace, as the specification asks. Immutable.
 *
 * @param traceId    32 lowercase hex digits, not all zero
 * @param spanId     16 lowercase hex digits, not all zero: the span of this hop, the reply's parent id
 * @param parentId   the request's span id, or {@code null} when this hop started the trace
 * @param flags      2 lowercase hex digits (bit 0: sampled), copied from the request
 * @param traceState the request's {@code tracestate}, passed on unchanged, or {@code null}
 */
public record TraceContext(String traceId, String spanId, @Nullable String parentId, String flags,
                           @Nullable String traceState) {

    /** The application property (and HTTP header) that carries the trace id and parent span. */
    public static final String TRACEPARENT = "traceparent";
    /** The application property (and HTTP header) with vendor-specific trace data. */
    public static final String TRACESTATE = "tracestate";
    /** What the Azure SDKs set on messages they send, in {@code traceparent} format. */
    public static final String DIAGNOSTIC_ID = "Diagnostic-Id";
    /** Longest {@code tracestate} passed on (the specification's 32 members of at most 256 characters fit 8 KiB). */
    static final int MAX_TRACESTATE = 8192;

    /** Checks the ids. */
    public TraceContext {
        if (!isHex(traceId, 32) || isZero(traceId)) {
            throw new IllegalArgumentException("traceId must be 32 lowercase hex digits, not all zero");
        }
        if (!isHex(spanId, 16) || isZero(spanId)) {
            throw new IllegalArgumentException("spanId must be 16 lowercase hex digits, not all zero");
        }
        if (!isHex(flags, 2)) {
            throw new IllegalArgumentException("flags must be 2 lowercase hex digits");
        }
    }

    /**
     * The context of the work on a request with these application properties (or headers; names are matched
     * exactly, then ignoring case): the request's trace continued with a new span, or a new trace.
     */
    public static TraceContext continueFrom(Map<String, ?> properties) {
        Objects.requireNonNull(properties, "properties");
        String parent = stringValue(properties, TRACEPARENT);
        if (parent == null) {
            parent = stringValue(properties, DIAGNOSTIC_ID);
        }
        return continueFrom(parent, stringValue(properties, TRACESTATE));
    }

    /** The work on a request with this {@code traceparent} and {@code tracestate}, either possibly null. */
    public static TraceContext continueFrom(@Nullable String traceparent, @Nullable String tracestate) {
        String p = traceparent == null ? "" : traceparent.trim();
        // version 00: "00-" 32 hex "-" 16 hex "-" 2 hex; uppercase hex is invalid per the specification
        if (p.length() == 55 && p.startsWith("00-") && p.charAt(35) == '-' && p.charAt(52) == '-') {
            String traceId = p.substring(3, 35);
            String parentId = p.substring(36, 52);
            String flags = p.substring(53, 55);
            if (isHex(traceId, 32) && !isZero(traceId) && isHex(parentId, 16) && !isZero(parentId) && isHex(flags, 2)) {
                return new TraceContext(traceId, newId(16), parentId, flags, validState(tracestate));
            }
        }
        return new TraceContext(newId(32), newId(16), null, "00", null);
    }

    /** The {@code traceparent} of what this hop sends on (the reply): this trace, with this hop's span as parent. */
    public String traceparent() {
        return "00-" + traceId + "-" + spanId + "-" + flags;
    }

    /** {@code traceparent}, and {@code tracestate} when the request had one, for the reply's properties. */
    public Map<String, String> replyProperties() {
        Map<String, String> out = new LinkedHashMap<>(2);
        out.put(TRACEPARENT, traceparent());
        if (traceState != null) {
            out.put(TRACESTATE, traceState);
        }
        return out;
    }

    /** {@code base} with {@link #replyProperties()} added; {@code base} itself is not changed. */
    public Map<String, String> addTo(Map<String, String> base) {
        Map<String, String> out = new LinkedHashMap<>(base);
        out.putAll(replyProperties());
        return out;
    }

    private static @Nullable String stringValue(Map<String, ?> properties, String name) {
        Object v = properties.get(name);
        if (v == null) {
            for (Map.Entry<String, ?> e : properties.entrySet()) {
                if (e.getKey() != null && e.getKey().equalsIgnoreCase(name)) {
                    v = e.getValue();
                    break;
                }
            }
        }
        return v == null ? null : v.toString();
    }

    private static @Nullable String validState(@Nullable String state) {
        if (state == null || state.isBlank() || state.length() > MAX_TRACESTATE) {
            return null;
        }
        for (int i = 0; i < state.length(); i++) {
            char c = state.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                return null; // printable ASCII only: never pass control characters on
            }
        }
        return state;
    }

    private static boolean isHex(@Nullable String s, int length) {
        if (s == null || s.length() != length) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }

    private static boolean isZero(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) != '0') {
                return false;
            }
        }
        return true;
    }

    private static String newId(int hexDigits) {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        StringBuilder sb = new StringBuilder(hexDigits);
        while (true) {
            sb.setLength(0);
            for (int i = 0; i < hexDigits; i += 16) {
                String h = Long.toHexString(r.nextLong());
                sb.append("0".repeat(16 - h.length())).append(h);
            }
            sb.setLength(hexDigits);
            if (!isZero(sb.toString())) {
                return sb.toString();
            }
        }
    }
}
