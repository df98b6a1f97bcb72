package dev.nearline.triton.internal;

import dev.nearline.api.ScoringException;
import dev.nearline.api.Ticker;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one remote call within a deadline: asks the {@link CircuitBreaker}, makes an attempt with
 * the time that is left, and retries retryable failures ({@link RemoteFailure#retryable()}) with
 * exponential backoff and jitter while retries and time remain. Never blocks a thread: attempts are
 * asynchronous and backoffs are scheduled. Thread-safe; one instance serves every call of a model.
 *
 * <p>The returned future fails with exactly one {@link ScoringException} whose message starts with
 * the target, such as {@code triton model 'fraud' at http://triton:8000: HTTP 503: ...}.
 */
public final class Caller {
    private static final Logger LOG = LoggerFactory.getLogger(Caller.class);
    /** Extra time an attempt gets beyond the deadline before the backstop gives up on it. */
    private static final long BACKSTOP_GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final String target;
    private final int maxRetries;
    private final long initialBackoffNanos;
    private final long maxBackoffNanos;
    private final CircuitBreaker breaker;
    private final Ticker ticker;
    private final Runnable beforeRetry;
    private final ClientStats stats;

    /**
     * A caller.
     *
     * @param target      message prefix naming the model and server
     * @param maxRetries  attempts after the first one; 0 disables retries
     * @param beforeRetry run before each retry of a server-down failure and before a circuit breaker
     *                    probe (gRPC resets its reconnect backoff)
     */
    public Caller(String target, int maxRetries, long initialBackoffNanos, long maxBackoffNanos, CircuitBreaker breaker,
            Ticker ticker, Runnable beforeRetry) {
        this(target, maxRetries, initialBackoffNanos, maxBackoffNanos, breaker, ticker, beforeRetry, new ClientStats());
    }

    /** As the other constructor, counting retries, breaker rejections and failed attempts in {@code stats}. */
    public Caller(String target, int maxRetries, long initialBackoffNanos, long maxBackoffNanos, CircuitBreaker breaker,
            Ticker ticker, Runnable beforeRetry, ClientStats stats) {
        this.stats = java.util.Objects.requireNonNull(stats, "stats");
        this.target = target;
        this.maxRetries = maxRetries;
        this.initialBackoffNanos = initialBackoffNanos;
        this.maxBackoffNanos = maxBackoffNanos;
        this.breaker = breaker;
        this.ticker = ticker;
        this.beforeRetry = beforeRetry;
    }

    /** The prefix of every message, such as {@code triton model 'fraud' at http://triton:8000}. */
    public String target() {
        return target;
    }

    /**
     * Calls {@code attempt} (given the time left) until it succeeds, fails for good, or the deadline
     * ({@link Ticker#read()} based) passes.
     */
    public <T> CompletableFuture<T> call(long deadlineNanos, Attempt<T> attempt) {
        CompletableFuture<T> result = new CompletableFuture<>();
        new Run<>(deadlineNanos, attempt, result).attempt();
        return result;
    }

    /** A ScoringException of {@code kind} with the target prefix. */
    public ScoringException failure(ScoringException.Kind kind, String message, @Nullable Throwable cause) {
        return new ScoringException(kind, target + ": " + message, cause);
    }

    private final class Run<T> {
        private final long deadlineNanos;
        private final Attempt<T> attemptFn;
        private final CompletableFuture<T> result;
        private int attempts;
        private long attemptStarted;

        private boolean afterServerDown;
        private @Nullable RemoteFailure lastServerDown;
        private @Nullable RemoteFailure lastFailure;

        Run(long deadlineNanos, Attempt<T> attemptFn, CompletableFuture<T> result) {
            this.deadlineNanos = deadlineNanos;
            this.attemptFn = attemptFn;
            this.result = result;
        }

        void attempt() {
            long remaining = deadlineNanos - ticker.read();
            if (remaining <= 0) {
                if (lastFailure != null) {
                    // A backoff ran a little past the deadline: report what kept failing.
                    result.completeExceptionally(failure(lastFailure.kind(), lastFailure.getMessage() + " (after "
                            + attempts + (attempts == 1 ? " attempt" : " attempts")
                            + "; the deadline passed before the next)", lastFailure.getCause()));
                } else {
                    result.completeExceptionally(failure(ScoringException.Kind.DEADLINE_EXCEEDED,
                            "the deadline passed before the request was sent", null));
                }
                return;
            }
            if (!breaker.tryAcquire()) {
                stats.rejected();
                result.completeExceptionally(failure(ScoringException.Kind.UNAVAILABLE, breaker.rejection(), null));
                return;
            }
            if (breaker.state() == CircuitBreaker.State.HALF_OPEN) {
                beforeRetry.run(); // the probe should find a server that is back, not a stale backoff
                afterServerDown = true;
            }
            attempts++;
            attemptStarted = ticker.read();
            CompletableFuture<T> f;
            try {
                f = attemptFn.start(Duration.ofNanos(remaining), afterServerDown)
                        .orTimeout(remaining + BACKSTOP_GRACE_NANOS, TimeUnit.NANOSECONDS);
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            f.whenComplete(this::done);
        }

        private void done(@Nullable T value, @Nullable Throwable error) {
            if (error == null) {
                breaker.onSuccess();
                result.complete(value);
                return;
            }
            Throwable e = unwrap(error);
            if (e instanceof TimeoutException) {
                e = RemoteFailure.timeout("no complete answer within the deadline", null, true);
            }
            if (!(e instanceof RemoteFailure)) {
                // Not a transport failure: the request was refused before sending (bad record) or the
                // response was unusable. Either way the server is not known to be down.
                breaker.onSuccess();
                result.completeExceptionally(asScoringException(e));
                return;
            }
            RemoteFailure rf = (RemoteFailure) e;
            stats.failed(rf.kind());
            if (rf.kind() == ScoringException.Kind.DEADLINE_EXCEEDED && !rf.connected() && afterServerDown
                    && lastServerDown != null) {
                // This attempt waited for a connection to a server found down and the deadline came
                // first without one: the server is still down, which is what the caller needs to hear.
                // (An attempt that had its connection and got no answer in time says so instead.)
                rf = RemoteFailure.unavailable(lastServerDown.getMessage() + "; still no connection at the deadline",
                        lastServerDown.getCause());
            } else if (rf.serverDown() && rf.kind() != ScoringException.Kind.DEADLINE_EXCEEDED) {
                lastServerDown = rf;
            }
            if (rf.serverDown()) {
                breaker.onFailure(rf.getMessage());
            } else {
                breaker.onSuccess();
            }
            if (rf.retryable() && attempts <= maxRetries) {
                long backoff = backoffNanos(attempts);
                long now = ticker.read();
                // Retry only when an attempt as long as this one still fits after the backoff: one that cannot
                // finish in time would only turn what the server said into a timeout.
                if (now + backoff + (now - attemptStarted) < deadlineNanos) {
                    lastFailure = rf;
                    LOG.debug("{}: attempt {} failed ({}), retrying in {}us", target, attempts, rf.getMessage(),
                            TimeUnit.NANOSECONDS.toMicros(backoff));
                    afterServerDown = rf.serverDown();
                    if (afterServerDown) {
                        beforeRetry.run();
                    }
                    stats.retried();
                    CompletableFuture.delayedExecutor(backoff, TimeUnit.NANOSECONDS).execute(this::attempt);
                    return;
                }
            }
            String suffix = "";
            if (attempts > 1) {
                RemoteFailure before = lastFailure;
                // A last failure of another kind (a timeout after a 503) would hide what the server said.
                boolean differs = before != null && before.kind() != rf.kind();
                suffix = " (after " + attempts + " attempts" + (differs ? "; the one before: " + before.getMessage() : "")
                        + ")";
            }
            result.completeExceptionally(failure(rf.kind(), rf.getMessage() + suffix, rf.getCause()));
        }

        private ScoringException asScoringException(Throwable e) {
            if (e instanceof ScoringException) {
                ScoringException se = (ScoringException) e;
                return failure(se.kind(), se.getMessage(), se.getCause());
            }
            return failure(ScoringException.Kind.INTERNAL, "unexpected client error: " + e, e);
        }
    }

    /** One attempt of a remote call. */
    @FunctionalInterface
    public interface Attempt<T> {
        /**
         * Starts the attempt.
         *
         * @param timeout         the time left before the deadline
         * @param afterServerDown true for a retry after the server was found down and for a circuit
         *                        breaker probe: the attempt should wait (within the timeout) for a
         *                        connection rather than fail on the last connection error
         */
        CompletableFuture<T> start(Duration timeout, boolean afterServerDown);
    }

    /** Exponential backoff capped at the maximum, with "equal jitter": half fixed, half random. */
    private long backoffNanos(int attempt) {
        long exp = initialBackoffNanos;
        for (int i = 1; i < attempt && exp < maxBackoffNanos; i++) {
            exp *= 2;
        }
        long capped = Math.min(exp, maxBackoffNanos);
        long half = capped / 2;
        return half + (half > 0 ? ThreadLocalRandom.current().nextLong(half + 1) : 0);
    }

    /** The cause behind CompletableFuture's wrappers. */
    public static Throwable unwrap(Throwable t) {
        Throwable e = t;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }
}
