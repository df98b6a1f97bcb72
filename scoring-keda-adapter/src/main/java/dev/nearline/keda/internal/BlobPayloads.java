package dev.nearline.keda.internal;

import com.azure.core.util.BinaryData;
import com.azure.core.util.FluxUtil;
import com.azure.storage.blob.BlobAsyncClient;
import com.azure.storage.blob.BlobContainerAsyncClient;
import com.azure.storage.blob.models.BlobErrorCode;
import com.azure.storage.blob.models.BlobHttpHeaders;
import com.azure.storage.blob.models.BlobRange;
import com.azure.storage.blob.models.BlobStorageException;
import com.azure.storage.blob.options.BlobParallelUploadOptions;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.core.internal.wire.PayloadRef;
import dev.nearline.core.internal.wire.QueueRequest;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * {@link Payloads} on Azure Blob Storage ({@code azure-storage-blob}): one container, reads capped at a
 * byte limit (a range request, so an oversized blob is never downloaded whole), every call cut off by
 * {@code Mono.timeout} (which cancels the HTTP exchange). Error messages name the endpoint, the container
 * and the reference, never content, keys or SAS tokens. Thread-safe.
 */
public final class BlobPayloads implements Payloads {
    private final BlobContainerAsyncClient container;
    private final String endpoint;
    private final int thresholdBytes;
    private final long maxReadBytes;
    private final Duration timeout;

    /**
     * A store on {@code container}.
     *
     * @param endpoint       how messages name the store: the container's URL without a query string
     * @param thresholdBytes reply bodies above this go by reference
     * @param maxReadBytes   largest record read by reference
     * @param timeout        the most one call may take
     */
    public BlobPayloads(BlobContainerAsyncClient container, String endpoint, int thresholdBytes, long maxReadBytes,
                        Duration timeout) {
        this.container = Objects.requireNonNull(container, "container");
        this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
        this.thresholdBytes = thresholdBytes;
        this.maxReadBytes = maxReadBytes;
        this.timeout = Objects.requireNonNull(timeout, "timeout");
    }

    @Override
    public String container() {
        return container.getBlobContainerName();
    }

    @Override
    public int thresholdBytes() {
        return thresholdBytes;
    }

    @Override
    public Duration timeout() {
        return timeout;
    }

    @Override
    public CompletableFuture<byte[]> read(PayloadRef ref, Duration within) {
        ScoringException foreign = checkContainer(ref);
        if (foreign != null) {
            return CompletableFuture.failedFuture(foreign);
        }
        BlobAsyncClient blob = container.getBlobAsyncClient(ref.name());
        // One byte over the limit tells an oversized blob from one exactly at it, without reading the rest.
        Mono<byte[]> read = blob.downloadStreamWithResponse(new BlobRange(0, maxReadBytes + 1), null, null, false)
                .flatMap(r -> FluxUtil.collectBytesInByteBufferStream(r.getValue()))
                .onErrorResume(BlobStorageException.class, e -> e.getStatusCode() == 416
                        ? Mono.just(new byte[0]) // a range request on an empty blob
                        : Mono.error(e))
                .flatMap(bytes -> bytes.length > maxReadBytes
                        ? Mono.error(QueueRequest.recordTooLarge(ref, maxReadBytes)) : Mono.just(bytes));
        return run(read, "read", ref, within);
    }

    @Override
    public CompletableFuture<Void> write(PayloadRef ref, byte[] content, Duration within) {
        ScoringException foreign = checkContainer(ref);
        if (foreign != null) {
            return CompletableFuture.failedFuture(foreign);
        }
        BlobParallelUploadOptions options = new BlobParallelUploadOptions(BinaryData.fromBytes(content))
                .setHeaders(new BlobHttpHeaders().setContentType("application/json"));
        return run(container.getBlobAsyncClient(ref.name()).uploadWithResponse(options).then(), "write", ref, within);
    }

    @Override
    public CompletableFuture<Void> delete(PayloadRef ref, Duration within) {
        ScoringException foreign = checkContainer(ref);
        if (foreign != null) {
            return CompletableFuture.failedFuture(foreign);
        }
        return run(container.getBlobAsyncClient(ref.name()).deleteIfExists().then(), "delete", ref, within);
    }

    @Override
    public void close() {
        // The SDK's HTTP client runs on reactor-netty's shared resources: nothing of ours to release.
    }

    private <T> CompletableFuture<T> run(Mono<T> call, String op, PayloadRef ref, Duration within) {
        long millis = Math.max(1, within.toMillis());
        return call.timeout(Duration.ofMillis(millis))
                .onErrorMap(e -> !(e instanceof ScoringException), e -> map(e, op, ref, millis))
                .toFuture();
    }

    private ScoringException map(Throwable e, String op, PayloadRef ref, long millis) {
        if (e instanceof TimeoutException) {
            return new ScoringException(Kind.UNAVAILABLE, "the payload store at " + endpoint + " did not answer the " + op
                    + " of '" + ref + "' within " + millis + " ms", e);
        }
        if (e instanceof BlobStorageException b) {
            BlobErrorCode code = b.getErrorCode();
            if (op.equals("read") && BlobErrorCode.BLOB_NOT_FOUND.equals(code)) {
                return QueueRequest.recordMissing(ref);
            }
            if (BlobErrorCode.CONTAINER_NOT_FOUND.equals(code)) {
                return new ScoringException(Kind.UNAVAILABLE, "the payload store at " + endpoint + " has no container '"
                        + container() + "'; create it (the worker does not)", e);
            }
            String hint = b.getStatusCode() == 403 ? "; the worker's identity needs the Storage Blob Data Contributor role "
                    + "on the container" : "";
            return new ScoringException(Kind.UNAVAILABLE, "the payload store at " + endpoint + " refused the " + op + " of '"
                    + ref + "': HTTP " + b.getStatusCode() + " " + code + hint, e);
        }
        return new ScoringException(Kind.UNAVAILABLE, "cannot reach the payload store at " + endpoint + " for the " + op
                + " of '" + ref + "': " + e.getClass().getSimpleName() + ": " + PayloadRef.quote(String.valueOf(e.getMessage())), e);
    }

    private @Nullable ScoringException checkContainer(PayloadRef ref) {
        if (ref.container().equals(container())) {
            return null;
        }
        return ScoringException.invalidInput("'" + ref + "' names container '" + ref.container() + "'; this worker's payload "
                + "store is container '" + container() + "'");
    }

    @Override
    public String toString() {
        return "BlobPayloads[" + endpoint + "]";
    }
}
