package dev.nearline.triton;

import java.time.Duration;
import java.util.Objects;

/**
 * When {@link TritonModel} stops calling a server that looks down. After
 * {@code failureThreshold} consecutive attempts that found the server unreachable, unavailable
 * (503, gRPC UNAVAILABLE) or silent until the deadline, the breaker opens: requests fail at once
 * with ScoringException UNAVAILABLE, without touching the network, for {@code openDuration}. Then
 * one request goes through as a probe; its success closes the breaker, its failure opens it for
 * another period. Answers that show the server is up (including 4xx, 500 and 429) reset the
 * count. Immutable.
 *
 * @param failureThreshold consecutive failures that open the breaker; 0 disables it
 * @param openDuration     how long it stays open before probing
 */
public record CircuitBreakerPolicy(int failureThreshold, Duration openDuration) {

    /** Validates: non-negative threshold and duration. */
    public CircuitBreakerPolicy {
        Objects.requireNonNull(openDuration, "openDuration");
        if (failureThreshold < 0) {
            throw new IllegalArgumentException("failureThreshold must be >= 0, got " + failureThreshold);
        }
        if (openDuration.isNegative()) {
            throw new IllegalArgumentException("openDuration must be >= 0, got " + openDuration);
        }
    }

    /** Opens after 5 consecutive failures, probes again after 5 seconds. */
    public static CircuitBreakerPolicy defaults() {
        return new CircuitBreakerPolicy(5, Duration.ofSeconds(5));
    }

    /** Never opens. */
    public static CircuitBreakerPolicy disabled() {
        return new CircuitBreakerPolicy(0, Duration.ZERO);
    }
}
