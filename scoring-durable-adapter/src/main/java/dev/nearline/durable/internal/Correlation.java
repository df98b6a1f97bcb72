package dev.nearline.durable.internal;

import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.MDC;

/**
 * A request's correlation id in the logging MDC for the duration of one invocation. The id comes from
 * the caller's header when it is safe to log (at most 128 letters, digits and {@code ._:-}), else from
 * the invocation id, else a random UUID. Use in try-with-resources on the invocation's thread.
 */
public final class Correlation implements AutoCloseable {
    /** MDC key of the correlation id. */
    public static final String MDC_KEY = "correlationId";
    /** MDC key of the Functions invocation id. */
    public static final String MDC_INVOCATION_KEY = "invocationId";

    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    private final String id;
    private final @Nullable String previousId;
    private final @Nullable String previousInvocation;

    private Correlation(String id, @Nullable String invocationId) {
        this.id = id;
        this.previousId = MDC.get(MDC_KEY);
        this.previousInvocation = MDC.get(MDC_INVOCATION_KEY);
        MDC.put(MDC_KEY, id);
        if (invocationId != null) {
            MDC.put(MDC_INVOCATION_KEY, invocationId);
        }
    }

    /** Opens the scope for a request with {@code headers}, looking {@code header} up ignoring case. */
    public static Correlation open(Map<String, String> headers, String header, @Nullable String invocationId) {
        String fromHeader = Headers.get(headers, header);
        String id = fromHeader != null && SAFE.matcher(fromHeader).matches() ? fromHeader
                : invocationId != null && SAFE.matcher(invocationId).matches() ? invocationId
                : UUID.randomUUID().toString();
        return new Correlation(id, invocationId);
    }

    /** Opens the scope with a known id (a message id, a job id). */
    public static Correlation of(String id, @Nullable String invocationId) {
        return new Correlation(SAFE.matcher(id).matches() ? id : UUID.randomUUID().toString(), invocationId);
    }

    /** The correlation id. */
    public String id() {
        return id;
    }

    /** Restores the MDC as it was. */
    @Override
    public void close() {
        restore(MDC_KEY, previousId);
        restore(MDC_INVOCATION_KEY, previousInvocation);
    }

    private static void restore(String key, @Nullable String value) {
        if (value == null) {
            MDC.remove(key);
        } else {
            MDC.put(key, value);
        }
    }
}
