package dev.nearline.keda;

import dev.nearline.api.ScoringException;
import dev.nearline.core.FeedbackOutcome;
import dev.nearline.core.QualityMonitor;
import dev.nearline.core.internal.wire.FeedbackMessage;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes labels from a feedback entity (a queue or a topic subscription) and gives them to the pipeline's
 * {@link QualityMonitor}: one receive loop on a daemon thread, {@code nearline-feedback}. A message body is a
 * {@link FeedbackMessage} ({@code {"id": ..., "label": ...}} or an array of them); each is completed once its
 * labels are given, whatever their outcome ({@code UNKNOWN}, {@code DUPLICATE} and the others are counted by
 * the monitor, and would be the same on a redelivery); a body that is not feedback is dead-lettered with reason
 * {@code INVALID_INPUT} and the one-line error as description. A message scored twice after a lost lock gives
 * its labels again, which the monitor counts as duplicates: labels are idempotent.
 *
 * <p>Meters: {@code nearline.worker.feedback.messages} with tag {@code outcome} ({@code complete},
 * {@code deadletter}, {@code failed} for a settlement that failed, so the broker redelivers). Thread-safe;
 * {@link #close(Duration)} stops the loop and closes the transport.
 */
public final class FeedbackReceiver {
    private static final Logger log = LoggerFactory.getLogger(FeedbackReceiver.class);
    private static final int MAX_MESSAGES = 64;
    private final QualityMonitor monitor;
    private final Transport transport;
    private final Duration batchWait;
    private final Duration backoff;
    private final Duration settleTimeout;
    private final Counter completed;
    private final Counter deadLettered;
    private final Counter failed;
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final CountDownLatch stop = new CountDownLatch(1);
    private final Thread thread;

    private FeedbackReceiver(QualityMonitor monitor, Transport transport, MeterRegistry registry, Duration batchWait,
                             Duration backoff) {
        this.monitor = Objects.requireNonNull(monitor, "monitor");
        this.transport = Objects.requireNonNull(transport, "transport");
        this.batchWait = Objects.requireNonNull(batchWait, "batchWait");
        this.backoff = Objects.requireNonNull(backoff, "backoff");
        this.settleTimeout = Duration.ofSeconds(30);
        this.completed = counter(registry, "complete");
        this.deadLettered = counter(registry, "deadletter");
        this.failed = counter(registry, "failed");
        this.thread = new Thread(this::loop, "nearline-feedback");
        thread.setDaemon(true);
    }

    /**
     * Starts a receiver that gives the labels it takes from {@code transport} to {@code monitor}, receiving up to
     * 64 messages at a time (waiting up to {@code batchWait} for the first), pausing {@code backoff} after a
     * failed receive. It owns the transport.
     */
    public static FeedbackReceiver start(QualityMonitor monitor, Transport transport, MeterRegistry registry,
                                         Duration batchWait, Duration backoff) {
        FeedbackReceiver r = new FeedbackReceiver(monitor, transport, registry, batchWait, backoff);
        r.thread.start();
        return r;
    }

    private static Counter counter(MeterRegistry registry, String outcome) {
        return Counter.builder("nearline.worker.feedback.messages").tag("outcome", outcome)
                .description("feedback messages, by how they were settled").register(registry);
    }

    private void loop() {
        while (!stopping.get()) {
            List<InboundMessage> batch;
            try {
                batch = transport.receive(MAX_MESSAGES, batchWait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                if (stopping.get()) {
                    return;
                }
                log.warn("receiving feedback failed; retrying in {} ms: {}", backoff.toMillis(), e.toString());
                pause(backoff);
                continue;
            }
            for (InboundMessage m : batch) {
                handle(m);
            }
        }
    }

    private void handle(InboundMessage m) {
        CompletableFuture<Void> settled;
        Counter outcome;
        try {
            Map<FeedbackOutcome, Integer> outcomes = FeedbackMessage.parse(m.body()).applyTo(monitor);
            log.debug("feedback message {}: {}", m.messageId(), outcomes);
            settled = transport.complete(m);
            outcome = completed;
        } catch (ScoringException e) {
            settled = transport.deadLetter(m, e.kind().name(), e.getMessage());
            outcome = deadLettered;
        } catch (RuntimeException e) { // a bug: leave the message to the broker's redelivery
            log.warn("feedback message {} could not be handled: {}", m.messageId(), e.toString(), e);
            settled = transport.abandon(m);
            outcome = failed;
        }
        try {
            settled.get(settleTimeout.toMillis(), TimeUnit.MILLISECONDS);
            outcome.increment();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failed.increment();
        } catch (Exception e) {
            failed.increment();
            log.warn("settling feedback message {} failed; the broker delivers it again: {}", m.messageId(), e.toString());
        }
    }

    private void pause(Duration d) {
        try {
            stop.await(d.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Stops receiving, waits up to {@code timeout} for the message in hand to be settled, then closes the
     * transport (which releases messages received and not handled). Idempotent.
     */
    public void close(Duration timeout) {
        if (!stopping.compareAndSet(false, true)) {
            return;
        }
        stop.countDown();
        try {
            thread.join(Math.max(1, timeout.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            log.warn("the feedback loop did not stop within {} ms; closing its transport under it", timeout.toMillis());
        }
        transport.close();
    }
}
