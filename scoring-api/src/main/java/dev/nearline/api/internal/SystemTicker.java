package dev.nearline.api.internal;

import dev.nearline.api.Ticker;

/**
 * {@link Ticker#system()}: {@link System#nanoTime()}. A class rather than a method reference, so that building a
 * scorer spins no lambda class (the JVM's first lambda costs several milliseconds of a cold start); not part of
 * the public API.
 */
public final class SystemTicker implements Ticker {
    /** The one instance. */
    public static final Ticker INSTANCE = new SystemTicker();

    private SystemTicker() {
    }

    @Override
    public long read() {
        return System.nanoTime();
    }

    @Override
    public String toString() {
        return "Ticker.system()";
    }
}
