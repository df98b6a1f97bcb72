package dev.nearline.triton.internal;

import dev.nearline.api.ScoringException;
import org.jspecify.annotations.Nullable;

/**
 * One failed attempt at a remote call, classified for the retry loop and the circuit breaker.
 * Transports complete their futures with it; {@link Caller} turns the last one into the single
 * {@link ScoringException} the user sees, so the message is wrapped exactly once. Carries no
 * stack trace of its own: the cause (an {@code IOException}, a gRPC status) has the useful one.
 */
public final class RemoteFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ScoringException.Kind kind;
    private final boolean retryable;
    private final boolean serverDown;
    private final boolean connected;

    private RemoteFailure(ScoringException.Kind kind, boolean retryable, boolean serverDown, boolean connected,
            String message, @Nullable Throwable cause) {
        super(message, cause, false, false);
        this.kind = kind;
        this.retryable = retryable;
        this.serverDown = serverDown;
        this.connected = connected;
    }

    /** The server could not be reached or said it is unavailable (refused, reset, 503): retried, counts against the breaker. */
    public static RemoteFailure unavailable(String message, @Nullable Throwable cause) {
        return new RemoteFailure(ScoringException.Kind.UNAVAILABLE, true, true, false, message, cause);
    }

    /** The server is up but shedding load (429, RESOURCE_EXHAUSTED): retried, does not count against the breaker. */
    public static RemoteFailure overloaded(String message) {
        return new RemoteFailure(ScoringException.Kind.OVERLOADED, true, false, true, message, null);
    }

    /**
     * No answer before the attempt's deadline: not retried (the deadline is spent), counts against the breaker.
     *
     * @param connected whether the attempt had a connection (the request went out): a deadline that passes
     *                  while still connecting says the server is unreachable, one that passes after sending
     *                  says it is slow
     */
    public static RemoteFailure timeout(String message, @Nullable Throwable cause, boolean connected) {
        return new RemoteFailure(ScoringException.Kind.DEADLINE_EXCEEDED, false, true, connected, message, cause);
    }

    /** An answer that retrying will not change (400, 404, 500, a malformed response): the server is reachable. */
    public static RemoteFailure definite(ScoringException.Kind kind, String message, @Nullable Throwable cause) {
        return new RemoteFailure(kind, false, false, true, message, cause);
    }

    /**
     * A failure that retrying will not change although no answer came: the server cannot be talked to as
     * configured (a TLS handshake that fails, a peer that is not a gRPC server). Not retried; does not count
     * against the breaker, which is for servers that are down, not misconfigured.
     */
    public static RemoteFailure misconfigured(String message, @Nullable Throwable cause) {
        return new RemoteFailure(ScoringException.Kind.UNAVAILABLE, false, false, false, message, cause);
    }

    /** The kind the user sees when this is the last attempt. */
    public ScoringException.Kind kind() {
        return kind;
    }

    /** Whether another attempt may succeed. */
    public boolean retryable() {
        return retryable;
    }

    /** Whether this says the server is down or unreachable, as the circuit breaker counts failures. */
    public boolean serverDown() {
        return serverDown;
    }

    /** Whether the attempt had a connection to the server when it failed (false: it never got one). */
    public boolean connected() {
        return connected;
    }
}
