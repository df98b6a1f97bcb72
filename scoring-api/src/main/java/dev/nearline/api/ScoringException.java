package dev.nearline.api;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The one exception a scorer throws for a record it could not score. Its {@link Kind} tells a host
 * what to do without parsing the message (answer 400 or 503, dead-letter or redeliver); the message
 * names the record's field or tensor and what was expected.
 */
public final class ScoringException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Why a record could not be scored. Whether a retry can help is fixed per constant. */
    public enum Kind {
        /** The record is wrong (missing field, wrong type or shape); retrying will not help. */
        INVALID_INPUT(false),
        /** The record's deadline passed before it was scored. */
        DEADLINE_EXCEEDED(true),
        /** Admission control refused the record; retry after backing off. */
        OVERLOADED(true),
        /** The backend (a remote server, a GPU) is down or failing, or the scorer is closed. */
        UNAVAILABLE(true),
        /** A bug or an unexpected backend error; a retry may help if the cause was transient. */
        INTERNAL(true);

        private final boolean retryable;

        Kind(boolean retryable) {
            this.retryable = retryable;
        }

        /** Whether scoring the same record again may succeed. */
        public boolean isRetryable() {
            return retryable;
        }
    }

    private final Kind kind;

    /** An exception of {@code kind}. */
    public ScoringException(Kind kind, String message) {
        super(message);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    /** An exception of {@code kind} caused by {@code cause}. */
    public ScoringException(Kind kind, String message, @Nullable Throwable cause) {
        super(message, cause);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    /** An {@link Kind#INVALID_INPUT} exception. */
    public static ScoringException invalidInput(String message) {
        return new ScoringException(Kind.INVALID_INPUT, message);
    }

    /** The kind, which decides how hosts answer and whether to retry. */
    public Kind kind() {
        return kind;
    }

    /** Shorthand for {@code kind().isRetryable()}. */
    public boolean isRetryable() {
        return kind.isRetryable();
    }

    /** {@code ScoringException[KIND]: message}, so stack traces show the kind. */
    @Override
    public String toString() {
        return "ScoringException[" + kind + "]: " + getMessage();
    }
}
