package dev.nearline.triton.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The breaker's state machine, driven by a fake ticker. */
class CircuitBreakerTest {
    private final AtomicLong now = new AtomicLong(42);
    private final CircuitBreaker breaker = new CircuitBreaker("triton test", 3, TimeUnit.SECONDS.toNanos(10), now::get);

    private void advanceSeconds(long s) {
        now.addAndGet(TimeUnit.SECONDS.toNanos(s));
    }

    private void fail(int times) {
        for (int i = 0; i < times; i++) {
            assertThat(breaker.tryAcquire()).isTrue();
            breaker.onFailure("connection refused");
        }
    }

    @Test
    void closed_failuresBelowThreshold_staysClosed() {
        fail(2);
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(breaker.tryAcquire()).isTrue();
    }

    @Test
    void closed_successBetweenFailures_resetsTheCount() {
        fail(2);
        breaker.onSuccess();
        fail(2);
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
    }

    @Test
    void closed_consecutiveFailuresAtThreshold_opensAndRejects() {
        fail(3);

        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
        assertThat(breaker.tryAcquire()).isFalse();
        assertThat(breaker.rejection()).contains("connection refused").contains("next probe in 10000ms");
        advanceSeconds(9);
        assertThat(breaker.tryAcquire()).isFalse();
        assertThat(breaker.rejection()).contains("next probe in 1000ms");
    }

    @Test
    void open_afterOpenDuration_letsExactlyOneProbeThrough() {
        fail(3);
        advanceSeconds(10);

        assertThat(breaker.tryAcquire()).isTrue();
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
        assertThat(breaker.tryAcquire()).isFalse();
        assertThat(breaker.rejection()).contains("a probe is in flight");
    }

    @Test
    void halfOpen_probeSucceeds_closes() {
        fail(3);
        advanceSeconds(10);
        assertThat(breaker.tryAcquire()).isTrue();

        breaker.onSuccess();

        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(breaker.tryAcquire()).isTrue();
        assertThat(breaker.tryAcquire()).isTrue();
    }

    @Test
    void halfOpen_probeFails_opensForAnotherPeriod() {
        fail(3);
        advanceSeconds(10);
        assertThat(breaker.tryAcquire()).isTrue();

        breaker.onFailure("HTTP 503");

        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
        assertThat(breaker.tryAcquire()).isFalse();
        advanceSeconds(10);
        assertThat(breaker.tryAcquire()).isTrue();
    }

    @Test
    void breaker_zeroThreshold_neverOpens() {
        CircuitBreaker disabled = new CircuitBreaker("t", 0, 0, now::get);
        for (int i = 0; i < 100; i++) {
            assertThat(disabled.tryAcquire()).isTrue();
            disabled.onFailure("down");
        }
        assertThat(disabled.state()).isEqualTo(CircuitBreaker.State.CLOSED);
    }
}
