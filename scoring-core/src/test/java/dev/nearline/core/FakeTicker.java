package dev.nearline.core;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** A ticker that moves only when told to. */
public final class FakeTicker implements Ticker {
    private final AtomicLong nanos;

    public FakeTicker(long startNanos) {
        this.nanos = new AtomicLong(startNanos);
    }

    public void advance(Duration d) {
        nanos.addAndGet(d.toNanos());
    }

    @Override
    public long read() {
        return nanos.get();
    }
}
