package dev.nearline.api;

/**
 * A source of nanosecond time for deadlines and timings, injected so that tests drive time instead of
 * sleeping. Implementations must be thread-safe and monotonic.
 */
@FunctionalInterface
public interface Ticker {

    /** Nanoseconds from an arbitrary origin, like {@link System#nanoTime()}. */
    long read();

    /** The system ticker, {@link System#nanoTime()}. */
    static Ticker system() {
        return dev.nearline.api.internal.SystemTicker.INSTANCE;
    }
}
