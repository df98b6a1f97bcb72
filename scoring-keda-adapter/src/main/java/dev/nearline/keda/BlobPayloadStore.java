package dev.nearline.keda;

import com.azure.core.credential.TokenCredential;
import com.azure.core.http.HttpClient;
import com.azure.core.util.HttpClientOptions;
import com.azure.identity.DefaultAzureCredentialBuilder;
import com.azure.storage.blob.BlobContainerAsyncClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import com.azure.storage.common.policy.RequestRetryOptions;
import com.azure.storage.common.policy.RetryPolicyType;
import dev.nearline.api.internal.SetOnce;
import dev.nearline.core.internal.Redaction;
import dev.nearline.core.internal.wire.PayloadRef;
import dev.nearline.keda.internal.BlobPayloads;
import dev.nearline.keda.internal.Payloads;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The worker's claim-check store on Azure Blob Storage: requests whose record is too large for the broker
 * carry {@code "recordRef": "blob://<container>/<name>"} instead, and replies whose body would exceed
 * {@link Builder#thresholdBytes the threshold} carry {@code "outputRef"} (see this module's README,
 * "Large payloads"). The worker reads request blobs, writes reply blobs under {@code replies/}, and
 * deletes a request's blob once the request is completed; the client deletes reply blobs after reading
 * them (or a lifecycle rule does).
 *
 * <p>Give it to {@link QueueWorker.Builder#payloadStore}, which owns it from then on. Every storage call is
 * bounded by {@link Builder#timeout} and, for reads, by the request's deadline. Immutable and thread-safe;
 * nothing connects until the first call.
 */
public final class BlobPayloadStore {
    /** Environment variable: the container; setting it turns the store on. */
    public static final String CONTAINER = "NEARLINE_PAYLOAD_CONTAINER";
    /** Environment variable: a storage connection string (Azurite, or an account key). */
    public static final String CONNECTION_STRING = "NEARLINE_PAYLOAD_CONNECTION_STRING";
    /** Environment variable: the blob endpoint, {@code https://<account>.blob.core.windows.net}, for {@code DefaultAzureCredential}. */
    public static final String ACCOUNT_URL = "NEARLINE_PAYLOAD_ACCOUNT_URL";
    /** Environment variable: reply bodies larger than this many bytes go by reference. */
    public static final String THRESHOLD_BYTES = "NEARLINE_PAYLOAD_THRESHOLD_BYTES";
    /** Environment variable: the most one storage call may take, in milliseconds. */
    public static final String TIMEOUT_MS = "NEARLINE_PAYLOAD_TIMEOUT_MS";
    /** Environment variable: the largest record read by reference, in bytes. */
    public static final String MAX_BYTES = "NEARLINE_PAYLOAD_MAX_BYTES";
    /** Every variable the store reads. */
    public static final List<String> VARIABLES = List.of(CONTAINER, CONNECTION_STRING, ACCOUNT_URL, THRESHOLD_BYTES,
            TIMEOUT_MS, MAX_BYTES);

    /** Default threshold: a reply and its properties stay under Service Bus Standard's 256 KB. */
    public static final int DEFAULT_THRESHOLD_BYTES = 192 * 1024;
    /** Default bound on one storage call. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    /** Default largest record read by reference. */
    public static final long DEFAULT_MAX_BYTES = 64L << 20;

    private final Payloads payloads;
    private final String description;
    /** The keys a storage connection string needs: an account key, a SAS with an endpoint, or the emulator. */
    private static final List<List<String>> STORAGE_KEYS = List.of(List.of("AccountName", "AccountKey"),
            List.of("BlobEndpoint", "SharedAccessSignature"), List.of("UseDevelopmentStorage"));

    private BlobPayloadStore(Payloads payloads, String description) {
        this.payloads = payloads;
        this.description = description;
    }

    /** A builder: a connection, a container, then {@link Builder#build()}. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The store the environment describes, or empty when {@value #CONTAINER} is not set. Authenticates with
     * {@value #CONNECTION_STRING} or, with {@value #ACCOUNT_URL}, with {@code DefaultAzureCredential}
     * (workload identity in AKS).
     *
     * @throws IllegalArgumentException naming every missing, conflicting or malformed variable, one per line
     */
    public static Optional<BlobPayloadStore> fromEnvironment(Map<String, String> env) {
        EnvReader r = new EnvReader(env);
        String container = r.optional(CONTAINER);
        String cs = r.optional(CONNECTION_STRING);
        String url = r.optional(ACCOUNT_URL);
        List<String> problems = r.problems;
        if (container == null) {
            if (cs != null || url != null) {
                problems.add(CONTAINER + " is required with " + (cs != null ? CONNECTION_STRING : ACCOUNT_URL));
            }
        } else if (!PayloadRef.validContainer(container)) {
            problems.add(CONTAINER + " must be a container name (3 to 63 lower-case letters, digits and single '-'), got '"
                    + container + "'");
        }
        if (container != null && (cs == null) == (url == null)) {
            problems.add(cs == null ? CONNECTION_STRING + " or " + ACCOUNT_URL + " is required with " + CONTAINER
                    : CONNECTION_STRING + " and " + ACCOUNT_URL + " are both set; set only one");
        }
        if (url != null && !url.startsWith("https://") && !url.startsWith("http://")) {
            problems.add(ACCOUNT_URL + " must be the blob endpoint, such as https://myaccount.blob.core.windows.net");
        }
        if (cs != null) {
            String problem = Redaction.connectionStringProblem(cs, STORAGE_KEYS);
            if (problem != null) {
                problems.add(CONNECTION_STRING + " is not a storage connection string: " + problem);
            }
        }
        long threshold = r.number(THRESHOLD_BYTES, DEFAULT_THRESHOLD_BYTES, 1024, 100L << 20);
        long timeoutMs = r.number(TIMEOUT_MS, DEFAULT_TIMEOUT.toMillis(), 100, 600_000);
        long maxBytes = r.number(MAX_BYTES, DEFAULT_MAX_BYTES, 1024, 1L << 30);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("payload store configuration is invalid:\n  " + String.join("\n  ", problems));
        }
        if (container == null) {
            return Optional.empty();
        }
        Builder b = builder().container(container).thresholdBytes((int) threshold).timeout(Duration.ofMillis(timeoutMs))
                .maxBytes(maxBytes);
        try {
            if (cs != null) {
                b.connectionString(cs);
            } else {
                b.accountUrl(Objects.requireNonNull(url), new DefaultAzureCredentialBuilder().build());
            }
            return Optional.of(b.build());
        } catch (RuntimeException e) {
            // The SDK's messages and causes can quote the URL or connection string, SAS token included: report
            // which variable and the exception type only, without the cause.
            throw new IllegalArgumentException("payload store configuration is invalid:\n  "
                    + (cs != null ? CONNECTION_STRING : ACCOUNT_URL + " (" + Redaction.url(url) + ")")
                    + " was rejected by the storage SDK (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** The container. */
    public String container() {
        return payloads.container();
    }

    /** Reply bodies larger than this many bytes go by reference. */
    public int thresholdBytes() {
        return payloads.thresholdBytes();
    }

    /** The most one storage call may take. */
    public Duration timeout() {
        return payloads.timeout();
    }

    /** What the worker calls. */
    Payloads payloads() {
        return payloads;
    }

    /** The endpoint and container, never a key or token. */
    @Override
    public String toString() {
        return "BlobPayloadStore[" + description + "]";
    }

    /** Options of a {@link BlobPayloadStore}; each settable once. Not thread-safe; use once. */
    public static final class Builder {
        private @Nullable String connectionString;
        private @Nullable String accountUrl;
        private @Nullable TokenCredential credential;
        private @Nullable String container;
        private int thresholdBytes = -1;
        private @Nullable Duration timeout;
        private long maxBytes = -1;

        private Builder() {
        }

        /** Authenticate with a storage connection string (an account key, a SAS, or Azurite's). */
        public Builder connectionString(String connectionString) {
            if (accountUrl != null) {
                throw new IllegalStateException("accountUrl is already set; use one of connectionString and accountUrl");
            }
            this.connectionString = SetOnce.check(this.connectionString, Objects.requireNonNull(connectionString,
                    "connectionString"), "connectionString");
            return this;
        }

        /**
         * Authenticate with {@code credential} (such as {@code DefaultAzureCredential}) against the blob endpoint
         * {@code accountUrl}, {@code https://<account>.blob.core.windows.net}.
         */
        public Builder accountUrl(String accountUrl, TokenCredential credential) {
            if (connectionString != null) {
                throw new IllegalStateException("connectionString is already set; use one of connectionString and accountUrl");
            }
            this.accountUrl = SetOnce.check(this.accountUrl, Objects.requireNonNull(accountUrl, "accountUrl"), "accountUrl");
            this.credential = Objects.requireNonNull(credential, "credential");
            return this;
        }

        /** The container; it must exist (the worker does not create it). Required. */
        public Builder container(String container) {
            Objects.requireNonNull(container, "container");
            if (!PayloadRef.validContainer(container)) {
                throw new IllegalArgumentException("container must be 3 to 63 lower-case letters, digits and single '-', got '"
                        + container + "'");
            }
            this.container = SetOnce.check(this.container, container, "container");
            return this;
        }

        /** Reply bodies larger than this go by reference. Default {@value BlobPayloadStore#DEFAULT_THRESHOLD_BYTES}. */
        public Builder thresholdBytes(int bytes) {
            if (bytes < 1) {
                throw new IllegalArgumentException("thresholdBytes must be at least 1, got " + bytes);
            }
            this.thresholdBytes = SetOnce.check(thresholdBytes, -1, bytes, "thresholdBytes");
            return this;
        }

        /** The most one storage call may take; a request's deadline shortens a read. Default 10 s. */
        public Builder timeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout must be positive, got " + timeout);
            }
            this.timeout = SetOnce.check(this.timeout, timeout, "timeout");
            return this;
        }

        /** The largest record read by reference; a larger one is {@code INVALID_INPUT}. Default 64 MiB. */
        public Builder maxBytes(long bytes) {
            if (bytes < 1) {
                throw new IllegalArgumentException("maxBytes must be at least 1, got " + bytes);
            }
            SetOnce.check(maxBytes != -1, "maxBytes");
            this.maxBytes = bytes;
            return this;
        }

        /**
         * The store. Nothing connects yet.
         *
         * @throws IllegalStateException if the container or the connection is missing
         */
        public BlobPayloadStore build() {
            if (container == null) {
                throw new IllegalStateException("container is required");
            }
            if (connectionString == null && accountUrl == null) {
                throw new IllegalStateException("connectionString or accountUrl is required");
            }
            Duration t = timeout == null ? DEFAULT_TIMEOUT : timeout;
            // The SDK retries within the call's own bound (every call is cut off at t): a short try timeout and a
            // few quick retries ride out a dropped connection without outliving the call.
            RequestRetryOptions retries = new RequestRetryOptions(RetryPolicyType.EXPONENTIAL, 3,
                    t.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : t, Duration.ofMillis(100),
                    Duration.ofSeconds(1), null);
            HttpClient http = HttpClient.createDefault(new HttpClientOptions().setConnectTimeout(t).setResponseTimeout(t)
                    .setReadTimeout(t).setWriteTimeout(t));
            BlobServiceClientBuilder b = new BlobServiceClientBuilder().httpClient(http).retryOptions(retries);
            BlobContainerAsyncClient client;
            try {
                if (connectionString != null) {
                    b.connectionString(connectionString);
                } else {
                    b.endpoint(Objects.requireNonNull(accountUrl)).credential(Objects.requireNonNull(credential));
                }
                client = b.buildAsyncClient().getBlobContainerAsyncClient(container);
            } catch (RuntimeException e) {
                // The SDK's messages and causes can quote the URL or the connection string, SAS token included.
                throw new IllegalArgumentException((connectionString != null ? "the connection string"
                        : "accountUrl " + Redaction.url(accountUrl)) + " was rejected by the storage SDK ("
                        + e.getClass().getSimpleName() + ")");
            }
            String url = client.getBlobContainerUrl();
            int query = url.indexOf('?');
            String endpoint = query < 0 ? url : url.substring(0, query); // a SAS connection string puts its token here
            Payloads p = new BlobPayloads(client, endpoint, thresholdBytes == -1 ? DEFAULT_THRESHOLD_BYTES : thresholdBytes,
                    maxBytes == -1 ? DEFAULT_MAX_BYTES : maxBytes, t);
            return new BlobPayloadStore(p, endpoint);
        }
    }
}
