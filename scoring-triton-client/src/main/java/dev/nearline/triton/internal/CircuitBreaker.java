package dev.nearline.triton.internal;

import dev.nearline.api.Ticker;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A consecutive-failure circuit breaker. CLOSED lets every call through; after
 * {@code failureThreshold} consecutive server-down failures it turns OPEN and rejects calls for
 * {@code openNanos}; then it turns HALF_OPEN and lets exactly one probe through: the probe's
 * success closes it, its failure opens it again. Time comes from the injected {@link Ticker}.
 *
 * <p>Thread-safe. Every {@link #tryAcquire()} that returns true must be followed by exactly one of
 * {@link #onSuccess()} or {@link #onFailure(String)}, or a HALF_OPEN breaker never lets another
 * probe through.
 */
public final class CircuitBreaker {
    private static final Logger LOG = LoggerFactory.getLogger(CircuitBreaker.class);

    /** The breaker's state. */
    public enum State {
        /** Calls go through. */
        CLOSED,
        /** Calls fail fast until the open period ends. */
        OPEN,
        /** One probe call is allowed through; others fail fast. */
        HALF_OPEN
    }

    private final String target;
    private final int failureThreshold;
    private final long openNanos;
    private final Ticker ticker;

    // Guarded by this; state is volatile so that the CLOSED fast path takes no lock.
    private volatile State state = State.CLOSED;
    private int consecutiveFailures;
    private long openedAtNanos;
    private boolean probeInFlight;
    private String lastFailure = "";

    /**
     * A breaker for {@code target} (used in log lines and messages).
     *
     * @param failureThreshold consecutive failures that open the breaker; 0 disables it
     * @param openNanos        how long it stays open before a probe
     */
    public CircuitBreaker(String target, int failureThreshold, long openNanos, Ticker ticker) {
        if (failureThreshold < 0 || openNanos < 0) {
            throw new IllegalArgumentException("failureThreshold and openNanos must be >= 0");
        }
        this.target = target;
        this.failureThreshold = failureThreshold;
        this.openNanos = openNanos;
        this.ticker = ticker;
    }

    /** Whether a call may go out now; in HALF_OPEN only the first caller gets through, as the probe. */
    public boolean tryAcquire() {
        if (state == State.CLOSED) {
            return true;
        }
        synchronized (this) {
            switch (state) {
                case CLOSED:
                    return true;
                case OPEN:
                    if (ticker.read() - openedAtNanos < openNanos) {
                        return false;
                    }
                    state = State.HALF_OPEN;
                    probeInFlight = true;
                    LOG.info("circuit breaker for {} half-open: probing", target);
                    return true;
                case HALF_OPEN:
                    if (probeInFlight) {
                        return false;
                    }
                    probeInFlight = true;
                    return true;
                default:
                    throw new AssertionError(state);
            }
        }
    }

    /** The call reached a working server (any answer that does not say it is down). */
    public void onSuccess() {
        if (state == State.CLOSED && consecutiveFailures == 0) {
            return;
        }
        synchronized (this) {
            consecutiveFailures = 0;
            probeInFlight = false;
            if (state != State.CLOSED) {
                state = State.CLOSED;
                LOG.info("circuit breaker for {} closed: the server answers again", target);
            }
        }
    }

    /** The call found the server down or unreachable. */
    public synchronized void onFailure(String reason) {
        lastFailure = reason;
        if (failureThreshold == 0) {
            return;
        }
        if (state == State.HALF_OPEN) {
            open("the probe failed");
        } else if (state == State.CLOSED && ++consecutiveFailures >= failureThreshold) {
            open(consecutiveFailures + " consecutive failures");
        }
    }

    /** The current state. */
    public State state() {
        return state;
    }

    /** Why calls are being rejected, for the fast-fail message. */
    public synchronized String rejection() {
        long left = Math.max(0, openNanos - (ticker.read() - openedAtNanos));
        String when = state == State.HALF_OPEN ? "a probe is in flight"
                : "next probe in " + TimeUnit.NANOSECONDS.toMillis(left) + "ms";
        return "circuit breaker open after repeated failures (" + lastFailure + "); " + when;
    }

    private void open(String why) {
        state = State.OPEN;
        openedAtNanos = ticker.read();
        probeInFlight = false;
        consecutiveFailures = 0;
        LOG.warn("circuit breaker for {} opened after {} (last: {}); failing fast for {}ms", target, why, lastFailure,
                TimeUnit.NANOSECONDS.toMillis(openNanos));
    }
}
