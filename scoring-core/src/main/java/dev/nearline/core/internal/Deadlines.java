package dev.nearline.core.internal;

import dev.nearline.api.Ticker;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * A record's deadline as a {@link Ticker} reading, from the pipeline's default timeout or a call's own.
 * Deadlines are compared by subtraction ({@code ticker.read() - deadline >= 0}), because tickers read like
 * {@link System#nanoTime()}, from any origin; {@link #NONE} means no deadline. Immutable and thread-safe.
 */
final class Deadlines {
    /** No deadline. */
    static final long NONE = Long.MAX_VALUE;

    private final Ticker ticker;
    private final long defaultTimeoutNanos;

    Deadlines(Ticker ticker, @Nullable Duration defaultTimeout) {
        this.ticker = ticker;
        this.defaultTimeoutNanos = defaultTimeout == null ? -1 : defaultTimeout.toNanos();
    }

    /** The deadline of a record given none by its call: the pipeline's default, or {@link #NONE}. */
    long fromDefault() {
        return defaultTimeoutNanos < 0 ? NONE : ticker.read() + defaultTimeoutNanos;
    }

    /** The deadline {@code timeout} from now; a negative timeout has passed already, like zero. */
    long after(Duration timeout) {
        long nanos;
        try {
            nanos = Math.max(0, timeout.toNanos());
        } catch (ArithmeticException e) {
            nanos = timeout.isNegative() ? 0 : NONE; // beyond 292 years
        }
        if (nanos == NONE) {
            return NONE;
        }
        // The sum may wrap (the ticker's origin is arbitrary) but must not be clamped.
        long deadline = ticker.read() + nanos;
        return deadline == NONE ? deadline - 1 : deadline;
    }
}
