package dev.nearline.durable.internal;

import com.microsoft.durabletask.RetryContext;
import com.microsoft.durabletask.RetryHandler;
import java.time.Duration;

/**
 * Retries a scoring activity while its failure kind is retryable and attempts remain, waiting on a
 * durable timer with exponential back-off between attempts ({@code first}, {@code 2 x first}, ... up to
 * {@code max}). An {@code INVALID_INPUT} failure is never retried. Runs inside the orchestrator, so it
 * uses only the retry context: it is deterministic on replay.
 */
public final class ChunkRetryHandler implements RetryHandler {
    private final int maxAttempts;
    private final Duration first;
    private final Duration max;

    /** A handler allowing {@code maxAttempts} attempts in all. */
    public ChunkRetryHandler(int maxAttempts, Duration first, Duration max) {
        this.maxAttempts = maxAttempts;
        this.first = first;
        this.max = max;
    }

    @Override
    public boolean handle(RetryContext context) {
        if (!FailureKinds.of(context.getLastFailure()).isRetryable()
                || context.getLastAttemptNumber() >= maxAttempts) {
            return false;
        }
        context.getOrchestrationContext().createTimer(delay(context.getLastAttemptNumber())).await();
        return true;
    }

    /** The wait after attempt {@code attempt} (from 1) failed. */
    Duration delay(int attempt) {
        Duration d = first;
        for (int i = 1; i < attempt && d.compareTo(max) < 0; i++) {
            d = d.multipliedBy(2);
        }
        return d.compareTo(max) > 0 ? max : d;
    }
}
