package dev.nearline.keda.internal;

import dev.nearline.core.internal.wire.PayloadRef;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * The worker's side of the claim check: reads the records of requests by reference, writes large
 * outputs, deletes request blobs once their requests are settled. Every call is bounded by the timeout
 * it is given; its future fails with a {@code ScoringException}: {@code INVALID_INPUT} when the
 * reference cannot be served (no such blob, another container, too large), {@code UNAVAILABLE} when the
 * store cannot be reached or refuses (timeouts included). Thread-safe.
 */
public interface Payloads {

    /** The container every reference must name. */
    String container();

    /** A reply body larger than this goes by reference. */
    int thresholdBytes();

    /** The most one storage call may take; a request's deadline shortens a read. */
    Duration timeout();

    /** The content of the blob {@code ref} names. */
    CompletableFuture<byte[]> read(PayloadRef ref, Duration timeout);

    /** Stores {@code content} as blob {@code ref}, replacing what was there. */
    CompletableFuture<Void> write(PayloadRef ref, byte[] content, Duration timeout);

    /** Deletes blob {@code ref}; completes normally when there is none. */
    CompletableFuture<Void> delete(PayloadRef ref, Duration timeout);

    /** Releases what the store holds. Idempotent. */
    void close();
}
