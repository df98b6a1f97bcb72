package dev.nearline.core.testing;

import dev.nearline.api.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Ticker} that moves only when the test says so, so that deadlines, timeouts and open periods are
 * driven, not slept through (the shape of Caffeine's {@code FakeTicker} and Micrometer's {@code MockClock}).
 * Thread-safe.
 */
public final class FakeTicker implements Ticker {
    private final AtomicLong nanos;

    /** A ticker that starts at one second (an arbitrary, non-zero origin). */
    public FakeTicker() {
        this(1_000_000_000L);
    }

    /** A ticker that starts at {@code startNanos}. */
    public FakeTicker(long startNanos) {
        this.nanos = new AtomicLong(startNanos);
    }

    /** Moves time forward by {@code d}. */
    public void advance(Duration d) {
        nanos.addAndGet(d.toNanos());
    }

    @Override
    public long read() {
        return nanos.get();
    }
}
