package dev.nearline.api;

import org.jspecify.annotations.Nullable;

/**
 * The result of scoring one record of a batch: a value or the {@link ScoringException} that record
 * failed with. Immutable.
 *
 * @param value the result when scoring succeeded, else {@code null}
 * @param error the failure when scoring failed, else {@code null}
 * @param <O>   the result type
 */
public record Outcome<O>(@Nullable O value, @Nullable ScoringException error) {

    /** Exactly one of value and error must be present. */
    public Outcome {
        if ((value == null) == (error == null)) {
            throw new IllegalArgumentException("an outcome has either a value or an error");
        }
    }

    /** A successful outcome. */
    public static <O> Outcome<O> success(O value) {
        return new Outcome<>(value, null);
    }

    /** A failed outcome. */
    public static <O> Outcome<O> failure(ScoringException error) {
        return new Outcome<>(null, error);
    }

    /** Whether the record was scored. */
    public boolean isSuccess() {
        return error == null;
    }

    /**
     * The value.
     *
     * @throws ScoringException the record's failure, if it failed
     */
    @SuppressWarnings("NullAway")
    public O get() {
        if (error != null) {
            throw error;
        }
        return value;
    }
}
