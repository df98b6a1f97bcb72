package dev.nearline.keda;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The broker side of a {@link QueueWorker}: receive locked messages in batches, send replies, settle.
 * Implementations are thread-safe: several receive loops call {@link #receive} at once, and replies and
 * settlements are issued from any thread. Azure Service Bus is {@link ServiceBusTransport}; another
 * broker implements this interface (and says in its docs how its delivery count and locks map).
 *
 * <p>Contract: every message returned by {@link #receive} stays locked to this transport until the
 * worker calls exactly one of {@link #complete}, {@link #abandon} or {@link #deadLetter} for it, or
 * the lock expires, or the transport is closed, in which case the broker delivers it again
 * (at-least-once). The asynchronous methods never throw and never block; they return a future that
 * fails instead. The worker bounds each of them with a timeout and stops waiting for a future that has
 * not completed by then (it does not cancel it): such a message is left to the broker's redelivery, so a
 * reply whose future timed out may still arrive and be followed by a second one. The worker owns the
 * transport and closes it after draining.
 */
public interface Transport extends AutoCloseable {

    /**
     * Waits up to {@code maxWait} for messages and returns at most {@code maxMessages} of them, or an
     * empty list when none arrived. Messages are locked (peek-lock) when returned.
     *
     * @throws InterruptedException if the calling thread is interrupted while waiting
     * @throws IllegalStateException if the transport is closed
     * @throws RuntimeException when the broker cannot be reached; the worker backs off and calls again
     */
    List<InboundMessage> receive(int maxMessages, Duration maxWait) throws InterruptedException;

    /** Sends {@code reply}; the future completes once the broker has accepted it. */
    CompletableFuture<Void> reply(Reply reply);

    /** Removes the message from its queue: it was handled. */
    CompletableFuture<Void> complete(InboundMessage message);

    /**
     * Releases the lock so that the broker delivers the message again, counting a delivery; the
     * broker dead-letters it after its maximum delivery count.
     */
    CompletableFuture<Void> abandon(InboundMessage message);

    /**
     * Moves the message to the dead-letter queue with a machine-readable {@code reason} (a
     * {@code ScoringException.Kind} name) and a human-readable {@code description} (one line, at most 300
     * characters from the worker, the same text as the error reply's message).
     */
    CompletableFuture<Void> deadLetter(InboundMessage message, String reason, String description);

    /**
     * Extends the message's lock and returns the new expiry. The default fails with
     * {@link UnsupportedOperationException}, for brokers whose locks need no renewal.
     */
    default CompletableFuture<Instant> renewLock(InboundMessage message) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException(
                getClass().getSimpleName() + " does not renew locks"));
    }

    /**
     * A cheap round trip that proves the broker can be reached now; the future fails (or never completes)
     * when it cannot. The worker calls it about once a second, never twice at once, and bounds the wait;
     * a failed or late probe makes the worker unready until one succeeds. The default completes at once,
     * for transports whose {@link #isConnected()} is exact.
     */
    default CompletableFuture<Void> probe() {
        return CompletableFuture.completedFuture(null);
    }

    /**
     * Whether the transport believes its link to the broker works: for example true once a probe
     * succeeded, false while its receive stream has failed and after {@link #close()}. Part of the
     * worker's readiness, next to the outcome of the latest probes and calls.
     */
    boolean isConnected();

    /**
     * Stops receiving, releases (abandons) messages it received but never handed out, and closes the
     * broker connection. Messages still locked and unsettled are redelivered by the broker. Idempotent.
     */
    @Override
    void close();
}
