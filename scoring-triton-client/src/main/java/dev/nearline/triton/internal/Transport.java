package dev.nearline.triton.internal;

import dev.nearline.api.ModelSignature;
import dev.nearline.api.Tensors;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;

/**
 * One protocol binding (REST or gRPC) to one model on one server. Every method is asynchronous
 * and thread-safe; futures fail with {@link RemoteFailure} for transport and status failures and
 * with ScoringException for responses that do not add up. Retries and the circuit breaker are
 * the {@link Caller}'s business, not the transport's.
 */
public interface Transport extends AutoCloseable {

    /**
     * Server name, version and extensions.
     *
     * @param waitForConnection wait (within the timeout) for a connection instead of failing on the
     *                          last connection error; see {@link Caller.Attempt}
     */
    CompletableFuture<ServerMetadata> serverMetadata(Duration timeout, boolean waitForConnection);

    /** The model's inputs and outputs; {@code waitForConnection} as for {@link #serverMetadata}. */
    CompletableFuture<ModelSignature> modelMetadata(Duration timeout, boolean waitForConnection);

    /**
     * The model's {@code max_batch_size} from Triton's model configuration extension (REST
     * {@code GET .../config}, gRPC {@code ModelConfig}); empty when the server offers no configuration
     * (a plain KServe v2 server), so that the model's batching stays undeclared.
     */
    CompletableFuture<OptionalInt> maxBatchSize(Duration timeout, boolean waitForConnection);

    /** Whether the server is live; a non-success status is false, an unreachable server fails. */
    CompletableFuture<Boolean> serverLive(Duration timeout);

    /** Whether the server is ready. */
    CompletableFuture<Boolean> serverReady(Duration timeout);

    /** Whether the model (version) is ready. */
    CompletableFuture<Boolean> modelReady(Duration timeout);

    /**
     * Encodes one inference request now, so that retries resend the same bytes.
     *
     * @param id     request id the server echoes
     * @param binary REST only: binary tensor data instead of JSON
     * @throws dev.nearline.api.ScoringException INVALID_INPUT when the record cannot be encoded
     */
    InferCall prepare(String id, RequestLayout layout, boolean binary);

    /** Makes the next connection attempt immediate (after the server was found down). */
    void resetConnectBackoff();

    /** Releases connections and threads; idempotent. */
    @Override
    void close();

    /** An encoded request, sendable more than once; an attempt for the {@link Caller}. */
    @FunctionalInterface
    interface InferCall extends Caller.Attempt<List<Tensors>> {
        /**
         * Sends the request; completes with the response's outputs for each record of the layout.
         *
         * @param waitForConnection as for {@link Transport#serverMetadata}
         */
        @Override
        CompletableFuture<List<Tensors>> start(Duration timeout, boolean waitForConnection);
    }
}
