package dev.nearline.triton.internal;

import dev.nearline.api.ScoringException;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Live counters of one client's remote calls, kept by its {@link Caller}: retries, calls the circuit breaker
 * rejected, and failed attempts by kind. Thread-safe; cheap to update (one {@code LongAdder} increment).
 */
public final class ClientStats {
    private final LongAdder retries = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final Map<ScoringException.Kind, LongAdder> failures = new EnumMap<>(ScoringException.Kind.class);

    /** Counters at zero. */
    public ClientStats() {
        for (ScoringException.Kind k : ScoringException.Kind.values()) {
            failures.put(k, new LongAdder());
        }
    }

    void retried() {
        retries.increment();
    }

    void rejected() {
        rejected.increment();
    }

    void failed(ScoringException.Kind kind) {
        failures.get(kind).increment();
    }

    /** Attempts made after a failed one. */
    public long retries() {
        return retries.sum();
    }

    /** Calls failed fast because the circuit breaker was open. */
    public long rejectedByBreaker() {
        return rejected.sum();
    }

    /** Attempts that failed with {@code kind} (each attempt of a retried call counts). */
    public long failures(ScoringException.Kind kind) {
        return failures.get(kind).sum();
    }
}
