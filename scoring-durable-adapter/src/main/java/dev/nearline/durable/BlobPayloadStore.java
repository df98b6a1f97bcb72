package dev.nearline.durable;

import com.azure.core.credential.TokenCredential;
import com.azure.core.http.HttpClient;
import com.azure.core.util.BinaryData;
import com.azure.core.util.Context;
import com.azure.core.util.HttpClientOptions;
import com.azure.storage.blob.BlobClient;
import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import com.azure.storage.blob.models.BlobErrorCode;
import com.azure.storage.blob.models.BlobHttpHeaders;
import com.azure.storage.blob.models.BlobStorageException;
import com.azure.storage.blob.options.BlobParallelUploadOptions;
import com.azure.storage.common.policy.RequestRetryOptions;
import com.azure.storage.common.policy.RetryPolicyType;
import dev.nearline.core.internal.Redaction;
import dev.nearline.core.internal.wire.PayloadRef;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * A {@link PayloadStore} in an Azure Blob Storage container, for apps whose instances share no file system
 * (Flex Consumption, Functions on Kubernetes): keys are blob names in the container. Every call is bounded
 * by the store's timeout (the SDK's retries included). It also serves the claim check of the Service Bus
 * trigger: requests may carry {@code "recordRef": "blob://<container>/<name>"} for a blob in this container,
 * and results larger than the threshold are answered by reference.
 *
 * <p>Apps configure it with app settings ({@value FunctionsSettings#PAYLOAD_CONTAINER} and its connection,
 * see {@link FunctionsSettings}); {@link #of} wraps a container client built by the app. The container
 * must exist. Error messages name the endpoint, the container and the key, never content, keys or SAS
 * tokens. Immutable and thread-safe.
 */
public final class BlobPayloadStore implements PayloadStore {
    private final BlobContainerClient container;
    private final Duration timeout;
    private final String endpoint;

    private BlobPayloadStore(BlobContainerClient container, Duration timeout) {
        this.container = container;
        this.timeout = timeout;
        String url = container.getBlobContainerUrl();
        int query = url.indexOf('?');
        this.endpoint = query < 0 ? url : url.substring(0, query); // a SAS connection string puts its token there
    }

    /**
     * A store on {@code container}, each call bounded by {@code timeout}. Give the client a retry policy
     * whose tries fit in the timeout ({@link #connect} does).
     */
    public static BlobPayloadStore of(BlobContainerClient container, Duration timeout) {
        Objects.requireNonNull(container, "container");
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        return new BlobPayloadStore(container, timeout);
    }

    /**
     * A store on container {@code container} of the account that {@code connectionString} names, or, with a
     * null connection string, of the blob endpoint {@code blobServiceUri} authenticated with
     * {@code credential} (a managed identity through {@code DefaultAzureCredential}).
     */
    static BlobPayloadStore connect(@Nullable String connectionString, @Nullable String blobServiceUri,
                                    @Nullable TokenCredential credential, String container, Duration timeout) {
        // The SDK retries within the call's own bound: short tries and quick retries ride out a dropped
        // connection without outliving the call (its defaults are 4 tries of up to 60 s each).
        RequestRetryOptions retries = new RequestRetryOptions(RetryPolicyType.EXPONENTIAL, 3,
                timeout.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : timeout, Duration.ofMillis(100),
                Duration.ofSeconds(1), null);
        HttpClient http = HttpClient.createDefault(new HttpClientOptions().setConnectTimeout(timeout)
                .setResponseTimeout(timeout).setReadTimeout(timeout).setWriteTimeout(timeout));
        BlobServiceClientBuilder b = new BlobServiceClientBuilder().httpClient(http).retryOptions(retries);
        BlobContainerClient client;
        try {
            if (connectionString != null) {
                b.connectionString(connectionString);
            } else {
                b.endpoint(Objects.requireNonNull(blobServiceUri, "blobServiceUri"))
                        .credential(Objects.requireNonNull(credential));
            }
            client = b.buildClient().getBlobContainerClient(container);
        } catch (IllegalArgumentException | IllegalStateException e) {
            // The SDK's messages and causes can quote the URL or the connection string, SAS token included.
            throw new IllegalArgumentException((connectionString != null ? "the payload store's connection string"
                    : "the payload store's blob endpoint " + Redaction.url(blobServiceUri))
                    + " was rejected by the storage SDK (" + e.getClass().getSimpleName() + ")");
        }
        return of(client, timeout);
    }

    /** The container. */
    public String container() {
        return container.getBlobContainerName();
    }

    /** The bound on each call. */
    public Duration timeout() {
        return timeout;
    }

    @Override
    public void write(String key, byte[] content) {
        BlobClient blob = blob(key);
        BlobParallelUploadOptions options = new BlobParallelUploadOptions(BinaryData.fromBytes(content))
                .setHeaders(new BlobHttpHeaders().setContentType("application/json"));
        try {
            blob.uploadWithResponse(options, timeout, Context.NONE);
        } catch (RuntimeException e) {
            throw failure("write", key, e);
        }
    }

    @Override
    public Optional<byte[]> read(String key) {
        BlobClient blob = blob(key);
        try {
            return Optional.of(blob.downloadContentWithResponse(null, null, timeout, Context.NONE).getValue().toBytes());
        } catch (BlobStorageException e) {
            if (BlobErrorCode.BLOB_NOT_FOUND.equals(e.getErrorCode())) {
                return Optional.empty();
            }
            throw failure("read", key, e);
        } catch (RuntimeException e) {
            throw failure("read", key, e);
        }
    }

    @Override
    public void delete(String key) {
        BlobClient blob = blob(key);
        try {
            blob.deleteIfExistsWithResponse(null, null, timeout, Context.NONE);
        } catch (RuntimeException e) {
            throw failure("delete", key, e);
        }
    }

    private BlobClient blob(String key) {
        Objects.requireNonNull(key, "key");
        if (!PayloadRef.validName(key)) {
            throw new IllegalArgumentException("payload key must be a relative path of letters, digits and ._- separated by "
                    + "'/', got '" + PayloadRef.quote(key) + "'");
        }
        return container.getBlobClient(key);
    }

    private UncheckedIOException failure(String op, String key, RuntimeException e) {
        String what;
        if (e instanceof BlobStorageException b) {
            BlobErrorCode code = b.getErrorCode();
            what = BlobErrorCode.CONTAINER_NOT_FOUND.equals(code)
                    ? "the container does not exist; create it (the app does not)"
                    : "HTTP " + b.getStatusCode() + " " + code + (b.getStatusCode() == 403
                    ? "; the app's identity needs the Storage Blob Data Contributor role on the container" : "");
        } else if (causedBy(e, TimeoutException.class)) {
            what = "no answer within " + timeout.toMillis() + " ms";
        } else {
            what = e.getClass().getSimpleName() + ": " + PayloadRef.quote(String.valueOf(e.getMessage()));
        }
        // the cause first: hosts prefix their own context and replies clip long messages
        String message = "cannot " + op + " '" + key + "': " + what + " (payload store " + endpoint + ")";
        return new UncheckedIOException(message, new IOException(message, e));
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    /** The endpoint and container, never a key or token. */
    @Override
    public String toString() {
        return "PayloadStore.blob(" + endpoint + ")";
    }
}
