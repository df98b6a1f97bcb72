package dev.nearline.durable.internal;

import com.microsoft.durabletask.FailureDetails;
import dev.nearline.api.ScoringException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Carries a {@link ScoringException.Kind} across the Durable Functions boundary. An activity failure
 * reaches the orchestrator only as an error type and message (which the host may wrap in its own), so
 * the activity starts its message with a marker {@code [nearline:KIND]} and the orchestrator finds it
 * there. A failure without a marker (the activity crashed, the host timed it out) counts as
 * {@code INTERNAL}, which is retryable.
 */
public final class FailureKinds {
    private static final Pattern MARKER = Pattern.compile("\\[nearline:([A-Z_]+)]");

    private FailureKinds() {
    }

    /** An exception whose message carries {@code kind} for {@link #of(FailureDetails)}. */
    public static ScoringException marked(ScoringException.Kind kind, String message) {
        return new ScoringException(kind, "[nearline:" + kind.name() + "] " + message);
    }

    /** The kind a failed activity reported. */
    public static ScoringException.Kind of(@Nullable FailureDetails failure) {
        if (failure == null) {
            return ScoringException.Kind.INTERNAL;
        }
        ScoringException.Kind kind = find(failure.getErrorMessage());
        return kind != null ? kind : ScoringException.Kind.INTERNAL;
    }

    /** The kind named by the first marker in {@code text}, or null. */
    static ScoringException.@Nullable Kind find(@Nullable String text) {
        if (text == null) {
            return null;
        }
        Matcher m = MARKER.matcher(text);
        while (m.find()) {
            for (ScoringException.Kind k : ScoringException.Kind.values()) {
                if (k.name().equals(m.group(1))) {
                    return k;
                }
            }
        }
        return null;
    }

    /** The failure's message without the marker, clipped, for reports. */
    public static String message(@Nullable FailureDetails failure) {
        if (failure == null || failure.getErrorMessage() == null) {
            return "activity failed without details";
        }
        return Json.clip(MARKER.matcher(failure.getErrorMessage()).replaceFirst("").trim());
    }
}
