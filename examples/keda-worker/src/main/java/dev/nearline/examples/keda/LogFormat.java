package dev.nearline.examples.keda;

import ch.qos.logback.core.PropertyDefinerBase;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The worker's log format, from {@code NEARLINE_LOG_FORMAT}: {@code text} (the default; one line per event)
 * or {@code json} (one JSON object per line, with the MDC: {@code messageId}, {@code deliveryCount},
 * {@code traceId}, {@code spanId}). The worker's {@code logback.xml} defines its {@code logFormat} property
 * with this class and sends the root logger to the appender of that name.
 *
 * <p>A value other than the two (case and surrounding blanks ignored) logs as text, with a one-line warning
 * on standard error naming the variable and what it accepts.
 */
public final class LogFormat extends PropertyDefinerBase {
    /** The environment variable that selects the format. */
    public static final String VARIABLE = "NEARLINE_LOG_FORMAT";

    /** Creates the definer; logback does, for {@code <define>} in {@code logback.xml}. */
    public LogFormat() {
    }

    /** {@code json} or {@code text}: the name of the appender the root logger writes to. */
    @Override
    public String getPropertyValue() {
        String value = System.getenv(VARIABLE);
        String format = of(value);
        if (format == null) {
            // logback.xml silences logback's status output, so this one line goes to standard error itself
            System.err.println("WARN " + VARIABLE + " must be json or text, not '" + value + "'; logging as text");
            return "text";
        }
        return format;
    }

    /** {@code json} or {@code text} for a value of the variable (null or blank: text); null when it is neither. */
    static @Nullable String of(@Nullable String value) {
        String v = value == null ? "" : value.strip().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "", "text" -> "text";
            case "json" -> "json";
            default -> null;
        };
    }
}
