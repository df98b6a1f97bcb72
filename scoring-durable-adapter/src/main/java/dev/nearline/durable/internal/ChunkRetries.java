package dev.nearline.durable.internal;

import dev.nearline.api.ScoringException;
import java.time.Duration;
import java.util.Objects;

/**
 * When the orchestrator scores a chunk again: after a failure of a retryable kind while attempts remain,
 * on a durable timer with exponential back-off between attempts ({@code first}, {@code 2 x first}, ... up
 * to {@code max}). An {@code INVALID_INPUT} failure is never retried. Decides from the failure's kind and
 * the attempt number alone, so the orchestrator decides the same on every replay. Immutable.
 *
 * @param maxAttempts attempts in all, at least 1
 * @param first       the wait after the first failed attempt
 * @param max         the longest wait, at least {@code first}
 */
public record ChunkRetries(int maxAttempts, Duration first, Duration max) {

    /** Validates. */
    public ChunkRetries {
        Objects.requireNonNull(first, "first");
        Objects.requireNonNull(max, "max");
        if (maxAttempts < 1 || first.isNegative() || first.isZero() || max.compareTo(first) < 0) {
            throw new IllegalArgumentException("need maxAttempts >= 1 and 0 < first <= max, got " + maxAttempts + ", "
                    + first + ", " + max);
        }
    }

    /** Whether a chunk whose attempt {@code attempt} (from 1) failed with {@code kind} is scored again. */
    public boolean retry(ScoringException.Kind kind, int attempt) {
        return kind.isRetryable() && attempt < maxAttempts;
    }

    /** The wait after attempt {@code attempt} (from 1) failed. */
    public Duration delay(int attempt) {
        Duration d = first;
        for (int i = 1; i < attempt && d.compareTo(max) < 0; i++) {
            d = d.multipliedBy(2);
        }
        return d.compareTo(max) > 0 ? max : d;
    }
}
