package dev.nearline.triton.internal;

/**
 * A source of monotonic nanoseconds, injected so that tests drive time (the circuit breaker's
 * open period, request deadlines) instead of sleeping. Implementations must be thread-safe.
 */
@FunctionalInterface
public interface Ticker {

    /** Nanoseconds from an arbitrary origin; only differences are meaningful. */
    long nanos();

    /** The JVM's {@link System#nanoTime()}. */
    static Ticker system() {
        return System::nanoTime;
    }
}
