package dev.nearline.triton.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Retries, deadlines and breaker bookkeeping of {@link Caller}, with scripted attempts and no network. */
class CallerTest {
    private final AtomicLong now = new AtomicLong(0);
    private final CircuitBreaker breaker = new CircuitBreaker("t", 2, TimeUnit.SECONDS.toNanos(5), now::get);
    private final AtomicInteger resets = new AtomicInteger();
    private final Caller caller = new Caller("triton model 'm' at http://h:8000", 2, TimeUnit.MILLISECONDS.toNanos(1),
            TimeUnit.MILLISECONDS.toNanos(4), breaker, now::get, resets::incrementAndGet);
    private final List<Duration> given = new ArrayList<>();
    private final List<Boolean> afterDown = new ArrayList<>();

    /** Attempts that fail with the scripted failures in order, then succeed with "ok". */
    private Caller.Attempt<String> script(RuntimeException... failures) {
        AtomicInteger n = new AtomicInteger();
        return (timeout, afterServerDown) -> {
            given.add(timeout);
            afterDown.add(afterServerDown);
            int i = n.getAndIncrement();
            return i < failures.length ? CompletableFuture.failedFuture(failures[i])
                    : CompletableFuture.completedFuture("ok");
        };
    }

    private static ScoringException failure(CompletableFuture<?> f) {
        Throwable t = catchThrowable(() -> f.get(5, TimeUnit.SECONDS));
        assertThat(t).hasCauseInstanceOf(ScoringException.class);
        return (ScoringException) t.getCause();
    }

    @Test
    void call_firstAttemptSucceeds_givesTheRemainingTime() throws Exception {
        assertThat(caller.call(TimeUnit.MILLISECONDS.toNanos(250), script()).get()).isEqualTo("ok");
        assertThat(given).containsExactly(Duration.ofMillis(250));
    }

    @Test
    void call_retryableFailuresThenSuccess_succeeds() throws Exception {
        CompletableFuture<String> f = caller.call(TimeUnit.SECONDS.toNanos(1), script(
                RemoteFailure.overloaded("HTTP 429: busy"), RemoteFailure.overloaded("HTTP 429: busy")));

        assertThat(f.get(5, TimeUnit.SECONDS)).isEqualTo("ok");
        assertThat(given).hasSize(3);
        assertThat(afterDown).containsExactly(false, false, false);
        assertThat(resets.get()).as("no reconnect reset for an overloaded server").isZero();
    }

    @Test
    void call_serverDownThenUp_resetsConnectBackoffBeforeRetrying() throws Exception {
        CompletableFuture<String> f = caller.call(TimeUnit.SECONDS.toNanos(1), script(
                RemoteFailure.unavailable("cannot connect", null)));

        assertThat(f.get(5, TimeUnit.SECONDS)).isEqualTo("ok");
        assertThat(resets.get()).isEqualTo(1);
        assertThat(afterDown).containsExactly(false, true);
    }

    @Test
    void call_retriesExhausted_reportsTheLastFailureOnce() {
        ScoringException e = failure(caller.call(TimeUnit.SECONDS.toNanos(1), script(
                RemoteFailure.overloaded("HTTP 429: a"), RemoteFailure.overloaded("HTTP 429: b"),
                RemoteFailure.overloaded("HTTP 429: c"))));

        assertThat(e.kind()).isEqualTo(Kind.OVERLOADED);
        assertThat(e.getMessage()).isEqualTo("triton model 'm' at http://h:8000: HTTP 429: c (after 3 attempts)");
        assertThat(given).hasSize(3);
    }

    @Test
    void call_definiteFailure_isNotRetried() {
        ScoringException e = failure(caller.call(TimeUnit.SECONDS.toNanos(1), script(
                RemoteFailure.definite(Kind.INVALID_INPUT, "HTTP 400: bad shape", null))));

        assertThat(e.kind()).isEqualTo(Kind.INVALID_INPUT);
        assertThat(e.getMessage()).isEqualTo("triton model 'm' at http://h:8000: HTTP 400: bad shape");
        assertThat(given).hasSize(1);
    }

    @Test
    void call_codecScoringException_keepsItsKindAndGainsThePrefix() {
        ScoringException e = failure(caller.call(TimeUnit.SECONDS.toNanos(1), script(
                new ScoringException(Kind.INTERNAL, "output 'y' expects FP32 [-1], got INT32 [1]"))));

        assertThat(e.kind()).isEqualTo(Kind.INTERNAL);
        assertThat(e.getMessage()).isEqualTo("triton model 'm' at http://h:8000: output 'y' expects FP32 [-1], got INT32 [1]");
        assertThat(given).hasSize(1);
    }

    @Test
    void call_unexpectedException_becomesInternal() {
        ScoringException e = failure(caller.call(TimeUnit.SECONDS.toNanos(1),
                script(new CompletionException(new IllegalStateException("bug")))));

        assertThat(e.kind()).isEqualTo(Kind.INTERNAL);
        assertThat(e.getMessage()).contains("unexpected client error").contains("bug");
    }

    @Test
    void call_deadlineAlreadyPassed_failsWithoutAnAttempt() {
        ScoringException e = failure(caller.call(0, script()));

        assertThat(e.kind()).isEqualTo(Kind.DEADLINE_EXCEEDED);
        assertThat(given).isEmpty();
    }

    @Test
    void call_backoffWouldPassTheDeadline_stopsWithTheLastFailure() {
        // 1 ms initial backoff with jitter is at least 0.5 ms: a 0.2 ms deadline leaves no room for a retry.
        ScoringException e = failure(caller.call(TimeUnit.MICROSECONDS.toNanos(200), script(
                RemoteFailure.unavailable("HTTP 503: loading", null))));

        assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE);
        assertThat(e.getMessage()).endsWith("HTTP 503: loading");
        assertThat(given).hasSize(1);
    }

    @Test
    void call_backoffEndsAfterTheDeadline_reportsTheLastFailure() {
        // The clock jumps past the deadline while the retry waits (the hook runs just before the backoff).
        Caller late = new Caller("t", 2, TimeUnit.MILLISECONDS.toNanos(1), TimeUnit.MILLISECONDS.toNanos(1), breaker,
                now::get, () -> now.addAndGet(TimeUnit.SECONDS.toNanos(1)));

        ScoringException e = failure(late.call(TimeUnit.MILLISECONDS.toNanos(100), script(
                RemoteFailure.unavailable("HTTP 503: loading", null))));

        assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE);
        assertThat(e.getMessage()).isEqualTo("t: HTTP 503: loading (after 1 attempt; the deadline passed before the next)");
        assertThat(given).hasSize(1);
    }

    @Test
    void call_attemptThatNeverCompletes_failsAtTheDeadline() {
        Caller real = new Caller("t", 0, 0, 0, new CircuitBreaker("t", 0, 0, System::nanoTime), System::nanoTime,
                () -> { });
        long t0 = System.nanoTime();

        ScoringException e = failure(real.call(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100),
                (timeout, afterServerDown) -> new CompletableFuture<String>()));

        assertThat(e.kind()).isEqualTo(Kind.DEADLINE_EXCEEDED);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isBetween(100L, 100L + 50 + 700);
    }

    @Test
    void call_serverDownTwice_opensTheBreakerAndFailsFast() {
        Caller.Attempt<String> down = script(RemoteFailure.unavailable("refused", null),
                RemoteFailure.unavailable("refused", null), RemoteFailure.unavailable("refused", null));
        Caller noRetry = new Caller("t", 0, 0, 0, breaker, now::get, () -> { });
        failure(noRetry.call(TimeUnit.SECONDS.toNanos(1), down));
        failure(noRetry.call(TimeUnit.SECONDS.toNanos(1), down));

        ScoringException e = failure(noRetry.call(TimeUnit.SECONDS.toNanos(1), down));

        assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE);
        assertThat(e.getMessage()).contains("circuit breaker open");
        assertThat(given).hasSize(2);
    }

    @Test
    void call_overloadedAnswers_doNotOpenTheBreaker() {
        Caller noRetry = new Caller("t", 0, 0, 0, breaker, now::get, () -> { });
        for (int i = 0; i < 5; i++) {
            failure(noRetry.call(TimeUnit.SECONDS.toNanos(1), script(RemoteFailure.overloaded("HTTP 429"))));
        }
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
    }

    @Test
    void call_serverDownThenATimeoutWithAConnection_saysNoAnswerAndWhatCameBefore() {
        ScoringException e = failure(caller.call(TimeUnit.SECONDS.toNanos(1), script(
                RemoteFailure.unavailable("HTTP 503: loading", null),
                RemoteFailure.timeout("no answer within 900ms", null, true))));

        assertThat(e.kind()).isEqualTo(Kind.DEADLINE_EXCEEDED);
        assertThat(e.getMessage()).isEqualTo("triton model 'm' at http://h:8000: no answer within 900ms (after 2 attempts;"
                + " the one before: HTTP 503: loading)");
    }

    @Test
    void call_serverDownThenATimeoutWithoutAConnection_saysStillNoConnection() {
        ScoringException e = failure(caller.call(TimeUnit.SECONDS.toNanos(1), script(
                RemoteFailure.unavailable("cannot connect (refused)", null),
                RemoteFailure.timeout("no connection within 900ms", null, false))));

        assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE);
        assertThat(e.getMessage()).contains("cannot connect (refused); still no connection at the deadline");
    }
}
