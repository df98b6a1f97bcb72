package dev.nearline.triton;

import java.time.Duration;
import java.util.Objects;

/**
 * How {@link TritonModel} retries a request that failed in a way another attempt may fix: the
 * server could not be reached or dropped the connection, answered 502/503/504 or gRPC
 * UNAVAILABLE, or shed load with 429 or gRPC RESOURCE_EXHAUSTED. Waits between attempts grow
 * exponentially from {@code initialBackoff} up to {@code maxBackoff}, each with random jitter
 * (between half and all of the step), and never run past the request's deadline: a retry that
 * could not start before the deadline is not made. Immutable.
 *
 * <p>Inference requests are safe to resend (they change nothing on the server), so a request is
 * retried even when the connection dropped after it was sent.
 *
 * @param maxRetries     attempts after the first; 0 disables retries
 * @param initialBackoff wait before the first retry (before jitter)
 * @param maxBackoff     cap on the wait between attempts
 */
public record RetryPolicy(int maxRetries, Duration initialBackoff, Duration maxBackoff) {

    /** Validates: non-negative retries and backoffs, and {@code maxBackoff >= initialBackoff}. */
    public RetryPolicy {
        Objects.requireNonNull(initialBackoff, "initialBackoff");
        Objects.requireNonNull(maxBackoff, "maxBackoff");
        if (maxRetries < 0) {
            throw new IllegalArgumentException("maxRetries must be >= 0, got " + maxRetries);
        }
        if (initialBackoff.isNegative() || maxBackoff.isNegative()) {
            throw new IllegalArgumentException("backoffs must be >= 0, got " + initialBackoff + " and " + maxBackoff);
        }
        if (maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException("maxBackoff " + maxBackoff + " is below initialBackoff " + initialBackoff);
        }
    }

    /** Two retries, 25 ms initial backoff, 500 ms at most: fits inside a one-second deadline. */
    public static RetryPolicy defaults() {
        return new RetryPolicy(2, Duration.ofMillis(25), Duration.ofMillis(500));
    }

    /** No retries: every failure is reported at once. */
    public static RetryPolicy none() {
        return new RetryPolicy(0, Duration.ZERO, Duration.ZERO);
    }
}
