package dev.nearline.durable;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The app settings the adapter reads, parsed and checked once. In Azure, app settings reach the worker
 * as environment variables; {@link #fromEnvironment(Map)} reads them from such a map so that tests pass
 * their own. Immutable and thread-safe.
 *
 * <table>
 *   <caption>App settings</caption>
 *   <tr><th>setting</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@value #PIPELINE}</td><td>(required to score)</td><td>the pipeline JSON file; a relative
 *       path is resolved against the app's root folder ({@code AzureWebJobsScriptRoot}, else
 *       {@code HOME/site/wwwroot}, else the working directory)</td></tr>
 *   <tr><td>{@value #WARMUP_RECORD}</td><td>none</td><td>a JSON record scored once right after the
 *       pipeline loads, so the first real request does not pay for lazy initialisation</td></tr>
 *   <tr><td>{@value #CORRELATION_HEADER}</td><td>{@code x-correlation-id}</td><td>HTTP header carrying
 *       the caller's correlation id (echoed in the response, put in the logging MDC)</td></tr>
 *   <tr><td>{@value #MAX_REQUEST_BYTES}</td><td>1048576</td><td>largest body of the single-record
 *       HTTP function; larger requests get 413</td></tr>
 *   <tr><td>{@value #HTTP_TIMEOUT_MS}</td><td>none (the pipeline's own)</td><td>deadline of an HTTP
 *       scoring call</td></tr>
 *   <tr><td>{@value #RETRY_AFTER_SECONDS}</td><td>1</td><td>the {@code Retry-After} of 503 answers</td></tr>
 *   <tr><td>{@value #MAX_BATCH_BYTES}</td><td>67108864</td><td>largest body of the batch starter</td></tr>
 *   <tr><td>{@value #CHUNK_SIZE}</td><td>500</td><td>records per scoring activity</td></tr>
 *   <tr><td>{@value #MAX_PARALLEL_CHUNKS}</td><td>8</td><td>chunks in flight at once per batch</td></tr>
 *   <tr><td>{@value #CHUNK_MAX_ATTEMPTS}</td><td>5</td><td>attempts of a chunk whose records fail with
 *       a retryable kind</td></tr>
 *   <tr><td>{@value #CHUNK_FIRST_RETRY_MS}</td><td>1000</td><td>delay before the first retry; doubles per
 *       attempt up to {@value #CHUNK_MAX_RETRY_MS}</td></tr>
 *   <tr><td>{@value #CHUNK_MAX_RETRY_MS}</td><td>60000</td><td>longest delay between attempts</td></tr>
 *   <tr><td>{@value #MAX_REPORTED_ERRORS}</td><td>1000</td><td>record errors listed in a batch's
 *       output (all of them are in its result files)</td></tr>
 *   <tr><td>{@value #PAYLOAD_DIR}</td><td>{@code HOME/data/nearline-batches}, else the temp dir</td>
 *       <td>where batch records and results are kept; every instance of the app must see it</td></tr>
 *   <tr><td>{@value #REPLY_CONNECTION}</td><td>{@code ServiceBusConnection}</td><td>name of the app
 *       setting holding the Service Bus connection string used to send replies</td></tr>
 *   <tr><td>{@value #PAYLOAD_CONTAINER}</td><td>none</td><td>a blob container: batch payloads and the
 *       Service Bus trigger's claim checks go to a {@link BlobPayloadStore} there instead of
 *       {@value #PAYLOAD_DIR} (required on Flex Consumption, which mounts no share)</td></tr>
 *   <tr><td>{@value #PAYLOAD_CONNECTION}</td><td>{@code AzureWebJobsStorage}</td><td>name of the connection
 *       of that container: an app setting holding a storage connection string, or the identity-based
 *       settings {@code <name>__blobServiceUri} (or {@code <name>__accountName}) and optionally
 *       {@code <name>__clientId}, for a managed identity</td></tr>
 *   <tr><td>{@value #PAYLOAD_TIMEOUT_MS}</td><td>30000</td><td>the most one Blob Storage call may take</td></tr>
 *   <tr><td>{@value #PAYLOAD_THRESHOLD_BYTES}</td><td>196608</td><td>Service Bus replies whose body would be
 *       larger go by reference ({@code outputRef})</td></tr>
 * </table>
 */
public final class FunctionsSettings {
    /** App setting naming the pipeline file. */
    public static final String PIPELINE = "NEARLINE_PIPELINE";
    /** App setting with a JSON record to score once after loading. */
    public static final String WARMUP_RECORD = "NEARLINE_WARMUP_RECORD";
    /** App setting naming the correlation-id header. */
    public static final String CORRELATION_HEADER = "NEARLINE_CORRELATION_HEADER";
    /** App setting: largest single-record request body in bytes. */
    public static final String MAX_REQUEST_BYTES = "NEARLINE_MAX_REQUEST_BYTES";
    /** App setting: deadline of an HTTP scoring call in milliseconds. */
    public static final String HTTP_TIMEOUT_MS = "NEARLINE_HTTP_TIMEOUT_MS";
    /** App setting: {@code Retry-After} seconds of 503 answers. */
    public static final String RETRY_AFTER_SECONDS = "NEARLINE_RETRY_AFTER_SECONDS";
    /** App setting: largest batch request body in bytes. */
    public static final String MAX_BATCH_BYTES = "NEARLINE_MAX_BATCH_BYTES";
    /** App setting: records per scoring activity. */
    public static final String CHUNK_SIZE = "NEARLINE_CHUNK_SIZE";
    /** App setting: chunks in flight at once per batch. */
    public static final String MAX_PARALLEL_CHUNKS = "NEARLINE_MAX_PARALLEL_CHUNKS";
    /** App setting: attempts per chunk for retryable failures. */
    public static final String CHUNK_MAX_ATTEMPTS = "NEARLINE_CHUNK_MAX_ATTEMPTS";
    /** App setting: first retry delay of a chunk in milliseconds. */
    public static final String CHUNK_FIRST_RETRY_MS = "NEARLINE_CHUNK_FIRST_RETRY_MS";
    /** App setting: longest retry delay of a chunk in milliseconds. */
    public static final String CHUNK_MAX_RETRY_MS = "NEARLINE_CHUNK_MAX_RETRY_MS";
    /** App setting: record errors listed in a batch report. */
    public static final String MAX_REPORTED_ERRORS = "NEARLINE_MAX_REPORTED_ERRORS";
    /** App setting: folder of batch payloads. */
    public static final String PAYLOAD_DIR = "NEARLINE_PAYLOAD_DIR";
    /** App setting naming the setting that holds the Service Bus connection string for replies. */
    public static final String REPLY_CONNECTION = "NEARLINE_REPLY_CONNECTION";
    /** App setting: the blob container of the payload store; setting it selects {@link BlobPayloadStore}. */
    public static final String PAYLOAD_CONTAINER = "NEARLINE_PAYLOAD_CONTAINER";
    /** App setting naming the connection of the payload container. */
    public static final String PAYLOAD_CONNECTION = "NEARLINE_PAYLOAD_CONNECTION";
    /** App setting: bound on one Blob Storage call, in milliseconds. */
    public static final String PAYLOAD_TIMEOUT_MS = "NEARLINE_PAYLOAD_TIMEOUT_MS";
    /** App setting: Service Bus reply bodies above this many bytes go by reference. */
    public static final String PAYLOAD_THRESHOLD_BYTES = "NEARLINE_PAYLOAD_THRESHOLD_BYTES";

    private static final Pattern HEADER_NAME = Pattern.compile("[A-Za-z0-9-]{1,64}");

    private final @Nullable Path pipeline;
    private final @Nullable String warmUpRecord;
    private final String correlationHeader;
    private final int maxRequestBytes;
    private final @Nullable Duration httpTimeout;
    private final Duration retryAfter;
    private final long maxBatchBytes;
    private final int chunkSize;
    private final int maxParallelChunks;
    private final int chunkMaxAttempts;
    private final Duration chunkFirstRetry;
    private final Duration chunkMaxRetry;
    private final int maxReportedErrors;
    private final Path payloadDirectory;
    private final String replyConnectionSetting;
    private final @Nullable String replyConnectionString;
    private final @Nullable String payloadContainer;
    private final String payloadConnectionSetting;
    private final @Nullable String payloadConnectionString;
    private final @Nullable String payloadBlobServiceUri;
    private final @Nullable String payloadClientId;
    private final Duration payloadTimeout;
    private final int payloadThresholdBytes;

    private FunctionsSettings(Map<String, String> env) {
        Path root = appRoot(env);
        String pipelineText = value(env, PIPELINE);
        this.pipeline = pipelineText == null ? null : root.resolve(pipelineText).normalize();
        this.warmUpRecord = value(env, WARMUP_RECORD);
        String header = Objects.requireNonNullElse(value(env, CORRELATION_HEADER), "x-correlation-id");
        if (!HEADER_NAME.matcher(header).matches()) {
            throw new IllegalArgumentException(CORRELATION_HEADER + " must be an HTTP header name (letters, digits, '-'), got '"
                    + header + "'");
        }
        this.correlationHeader = header.toLowerCase(Locale.ROOT);
        this.maxRequestBytes = (int) number(env, MAX_REQUEST_BYTES, 1 << 20, 1, Integer.MAX_VALUE);
        long timeoutMs = number(env, HTTP_TIMEOUT_MS, 0, 0, Long.MAX_VALUE);
        this.httpTimeout = timeoutMs == 0 ? null : Duration.ofMillis(timeoutMs);
        this.retryAfter = Duration.ofSeconds(number(env, RETRY_AFTER_SECONDS, 1, 0, 86_400));
        this.maxBatchBytes = number(env, MAX_BATCH_BYTES, 64L << 20, 1, Long.MAX_VALUE);
        this.chunkSize = (int) number(env, CHUNK_SIZE, 500, 1, 100_000);
        this.maxParallelChunks = (int) number(env, MAX_PARALLEL_CHUNKS, 8, 1, 1_000);
        this.chunkMaxAttempts = (int) number(env, CHUNK_MAX_ATTEMPTS, 5, 1, 100);
        this.chunkFirstRetry = Duration.ofMillis(number(env, CHUNK_FIRST_RETRY_MS, 1_000, 1, 86_400_000));
        this.chunkMaxRetry = Duration.ofMillis(number(env, CHUNK_MAX_RETRY_MS, 60_000, 1, 86_400_000));
        if (chunkMaxRetry.compareTo(chunkFirstRetry) < 0) {
            throw new IllegalArgumentException(CHUNK_MAX_RETRY_MS + " (" + chunkMaxRetry.toMillis() + ") must not be below "
                    + CHUNK_FIRST_RETRY_MS + " (" + chunkFirstRetry.toMillis() + ")");
        }
        this.maxReportedErrors = (int) number(env, MAX_REPORTED_ERRORS, 1_000, 0, 1_000_000);
        String dir = value(env, PAYLOAD_DIR);
        String home = value(env, "HOME");
        this.payloadDirectory = dir != null ? root.resolve(dir).normalize()
                : home != null ? Path.of(home, "data", "nearline-batches")
                : Path.of(System.getProperty("java.io.tmpdir"), "nearline-batches");
        this.replyConnectionSetting = Objects.requireNonNullElse(value(env, REPLY_CONNECTION), "ServiceBusConnection");
        this.replyConnectionString = value(env, replyConnectionSetting);
        this.payloadContainer = value(env, PAYLOAD_CONTAINER);
        this.payloadConnectionSetting = Objects.requireNonNullElse(value(env, PAYLOAD_CONNECTION), "AzureWebJobsStorage");
        this.payloadConnectionString = value(env, payloadConnectionSetting);
        String serviceUri = value(env, payloadConnectionSetting + "__blobServiceUri");
        String account = value(env, payloadConnectionSetting + "__accountName");
        this.payloadBlobServiceUri = serviceUri != null ? serviceUri
                : account != null ? "https://" + account + ".blob.core.windows.net" : null;
        this.payloadClientId = value(env, payloadConnectionSetting + "__clientId");
        this.payloadTimeout = Duration.ofMillis(number(env, PAYLOAD_TIMEOUT_MS, 30_000, 100, 600_000));
        this.payloadThresholdBytes = (int) number(env, PAYLOAD_THRESHOLD_BYTES, 192 * 1024, 1024, 100L << 20);
        if (payloadContainer != null) {
            if (!dev.nearline.core.internal.wire.PayloadRef.validContainer(payloadContainer)) {
                throw new IllegalArgumentException(PAYLOAD_CONTAINER + " must be a blob container name (3 to 63 lower-case "
                        + "letters, digits and single '-'), got '" + payloadContainer + "'");
            }
            if (payloadConnectionString == null && payloadBlobServiceUri == null) {
                throw new IllegalArgumentException(PAYLOAD_CONTAINER + " is set but its connection is not: set app setting "
                        + payloadConnectionSetting + " (named by " + PAYLOAD_CONNECTION + ") to a storage connection string, "
                        + "or " + payloadConnectionSetting + "__blobServiceUri for a managed identity");
            }
        }
    }

    /**
     * Reads the settings from {@code environment} (in an app: {@code System.getenv()}); absent settings
     * take their defaults.
     *
     * @throws IllegalArgumentException naming the setting, its value and what it must be
     */
    public static FunctionsSettings fromEnvironment(Map<String, String> environment) {
        return new FunctionsSettings(Objects.requireNonNull(environment, "environment"));
    }

    /** The pipeline file, absolute; empty when {@value #PIPELINE} is not set. */
    public Optional<Path> pipeline() {
        return Optional.ofNullable(pipeline);
    }

    /** The warm-up record as JSON text, if one is set. */
    public Optional<String> warmUpRecord() {
        return Optional.ofNullable(warmUpRecord);
    }

    /** The correlation-id header name, lower case. */
    public String correlationHeader() {
        return correlationHeader;
    }

    /** Largest single-record request body in bytes. */
    public int maxRequestBytes() {
        return maxRequestBytes;
    }

    /** The deadline of an HTTP scoring call; empty to use the pipeline's own. */
    public Optional<Duration> httpTimeout() {
        return Optional.ofNullable(httpTimeout);
    }

    /** The {@code Retry-After} of 503 answers. */
    public Duration retryAfter() {
        return retryAfter;
    }

    /** Largest batch request body in bytes. */
    public long maxBatchBytes() {
        return maxBatchBytes;
    }

    /** Records per scoring activity. */
    public int chunkSize() {
        return chunkSize;
    }

    /** Chunks in flight at once per batch. */
    public int maxParallelChunks() {
        return maxParallelChunks;
    }

    /** Attempts of a chunk whose records fail with a retryable kind, the first included. */
    public int chunkMaxAttempts() {
        return chunkMaxAttempts;
    }

    /** Delay before a chunk's first retry. */
    public Duration chunkFirstRetry() {
        return chunkFirstRetry;
    }

    /** Longest delay between two attempts of a chunk. */
    public Duration chunkMaxRetry() {
        return chunkMaxRetry;
    }

    /** Record errors listed in a batch report. */
    public int maxReportedErrors() {
        return maxReportedErrors;
    }

    /** The folder of batch payloads. */
    public Path payloadDirectory() {
        return payloadDirectory;
    }

    /** Name of the app setting that holds the Service Bus connection string for replies. */
    public String replyConnectionSetting() {
        return replyConnectionSetting;
    }

    /** The Service Bus connection string for replies, if its setting is present. */
    public Optional<String> replyConnectionString() {
        return Optional.ofNullable(replyConnectionString);
    }

    /** The blob container of the payload store, if {@value #PAYLOAD_CONTAINER} is set. */
    public Optional<String> payloadContainer() {
        return Optional.ofNullable(payloadContainer);
    }

    /** Name of the connection of the payload container. */
    public String payloadConnectionSetting() {
        return payloadConnectionSetting;
    }

    /** The bound on one Blob Storage call. */
    public Duration payloadTimeout() {
        return payloadTimeout;
    }

    /** Service Bus reply bodies above this many bytes go by reference. */
    public int payloadThresholdBytes() {
        return payloadThresholdBytes;
    }

    /** The payload store these settings name: a {@link BlobPayloadStore} or the folder. */
    PayloadStore payloadStore() {
        String container = payloadContainer;
        if (container == null) {
            return PayloadStore.directory(payloadDirectory);
        }
        if (payloadConnectionString != null) {
            return BlobPayloadStore.connect(payloadConnectionString, null, null, container, payloadTimeout);
        }
        com.azure.identity.DefaultAzureCredentialBuilder credential = new com.azure.identity.DefaultAzureCredentialBuilder();
        if (payloadClientId != null) {
            credential.managedIdentityClientId(payloadClientId);
        }
        return BlobPayloadStore.connect(null, payloadBlobServiceUri, credential.build(), container, payloadTimeout);
    }

    private static Path appRoot(Map<String, String> env) {
        String scriptRoot = value(env, "AzureWebJobsScriptRoot");
        if (scriptRoot != null) {
            return Path.of(scriptRoot).toAbsolutePath();
        }
        String home = value(env, "HOME");
        if (home != null && Files.isDirectory(Path.of(home, "site", "wwwroot"))) {
            return Path.of(home, "site", "wwwroot").toAbsolutePath();
        }
        return Path.of("").toAbsolutePath();
    }

    private static @Nullable String value(Map<String, String> env, String name) {
        String v = env.get(name);
        return v == null || v.isBlank() ? null : v.trim();
    }

    private static long number(Map<String, String> env, String name, long defaultValue, long min, long max) {
        String v = value(env, name);
        if (v == null) {
            return defaultValue;
        }
        long n;
        try {
            n = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number, got '" + v + "'", e);
        }
        if (n < min || n > max) {
            throw new IllegalArgumentException(name + " must be between " + min + " and " + max + ", got " + n);
        }
        return n;
    }

    /** The settings that decide behaviour, for logs; the connection string is never shown. */
    @Override
    public String toString() {
        return "FunctionsSettings[pipeline=" + pipeline + ", chunkSize=" + chunkSize + ", maxParallelChunks="
                + maxParallelChunks + ", chunkMaxAttempts=" + chunkMaxAttempts + ", payloadDirectory="
                + payloadDirectory + ", payloadContainer=" + payloadContainer + ", maxRequestBytes=" + maxRequestBytes + "]";
    }
}
