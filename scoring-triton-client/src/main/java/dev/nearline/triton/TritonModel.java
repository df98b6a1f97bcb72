package dev.nearline.triton;

import dev.nearline.api.Batching;
import dev.nearline.api.DataType;
import dev.nearline.api.Model;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.ScoringException;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.api.internal.SetOnce;
import dev.nearline.api.Ticker;
import dev.nearline.triton.internal.Caller;
import dev.nearline.triton.internal.CircuitBreaker;
import dev.nearline.triton.internal.ClientStats;
import dev.nearline.triton.internal.GrpcTransport;
import dev.nearline.triton.internal.Meters;
import dev.nearline.triton.internal.RequestLayout;
import dev.nearline.triton.internal.RestCodec;
import dev.nearline.triton.internal.RestTransport;
import dev.nearline.triton.internal.ServerMetadata;
import dev.nearline.triton.internal.Transport;
import dev.nearline.triton.internal.TransportConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Model} served by a remote NVIDIA Triton Inference Server, or any server that speaks
 * the KServe v2 / Open Inference Protocol, over REST or gRPC.
 *
 * <p>{@link Builder#build()} reads the server's metadata (its protocol extensions) and the model's
 * metadata, which becomes {@link #signature()}. Over REST, tensors travel with Triton's binary
 * tensor data extension when the server advertises it (the default), else as JSON; over gRPC as
 * raw contents. {@link #predictAsync} keeps many requests in flight without a thread each;
 * {@link #predictBatch} sends one request with the records concatenated along the first axis when
 * {@link #batching()} allows it, else one request per record.
 *
 * <p>{@link #batching()} comes from Triton's model configuration ({@code max_batch_size > 0}: along axis 0;
 * {@code 0}: none); a server without it (a plain KServe v2 server) leaves it undeclared unless
 * {@link Builder#batching(Batching)} declares it. When it is undeclared, a dynamic first dimension on
 * every input and output is taken as the batch axis for requests, as Triton reports one.
 *
 * <p>Failures are {@link ScoringException}s whose message starts with the model and server:
 * <ul>
 *   <li>the request's deadline passed: DEADLINE_EXCEEDED;</li>
 *   <li>the server is unreachable, dropped the connection, answered 502/503/504 or gRPC
 *       UNAVAILABLE: retried per the {@link RetryPolicy}, then UNAVAILABLE; while the
 *       {@link CircuitBreakerPolicy circuit breaker} is open, UNAVAILABLE at once;</li>
 *   <li>429 or gRPC RESOURCE_EXHAUSTED: retried, then OVERLOADED;</li>
 *   <li>more than {@code maxInFlight} requests outstanding: OVERLOADED at once (requests are not
 *       queued here; queueing and admission belong to the engine);</li>
 *   <li>400-class answers and gRPC INVALID_ARGUMENT: INVALID_INPUT with the server's message;
 *       404 (unknown model), 401/403: UNAVAILABLE; 500 and other server errors: INTERNAL;</li>
 *   <li>a response whose outputs do not match what was asked and declared (names, datatypes,
 *       shapes, rows along the batch axis, byte counts), for one record as for a batch: INTERNAL
 *       naming the output, expected versus actual;</li>
 *   <li>a response larger than {@code maxMessageSize}: INTERNAL; reading stops at the limit.</li>
 * </ul>
 *
 * <p>Thread-safe: build one per model and share it. {@link #close()} releases its connections and
 * threads at once (the REST client's I/O thread, or the gRPC channel); requests still in flight then
 * fail with UNAVAILABLE.
 */
public final class TritonModel implements Model {
    private static final Logger LOG = LoggerFactory.getLogger(TritonModel.class);

    /** Server metadata extension name of Triton's model configuration ({@code .../config}, {@code ModelConfig}). */
    private static final String MODEL_CONFIGURATION_EXTENSION = "model_configuration";

    /** The minimum time {@link Builder#build()} waits for the server's and model's metadata. */
    private static final Duration MIN_METADATA_TIMEOUT = Duration.ofSeconds(5);

    /** Wire protocol to the server. */
    public enum Protocol {
        /** HTTP/REST, Triton's port 8000 by default. */
        REST,
        /** gRPC, Triton's port 8001 by default. */
        GRPC
    }

    private final URI baseUrl;
    private final String modelName;
    private final Protocol protocol;
    private final Duration requestTimeout;
    private final int maxInFlight;
    private final Ticker ticker;
    private final Transport transport;
    private final Caller caller;
    private final CircuitBreaker breaker;
    private final ClientStats stats = new ClientStats();
    private final Runnable unbindMeters;
    private final ModelSignature signature;
    private final boolean binary;
    private final Batching batching;
    /** Whether axis 0 is treated as the batch axis: records are combined and every output's rows checked. */
    private final boolean batchAxis;
    private final Semaphore inFlight;
    private final String idPrefix;
    private final AtomicLong requestIds = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();

    private TritonModel(Builder b, Transport transport) {
        this.baseUrl = b.baseUrl;
        this.modelName = b.modelName;
        this.protocol = b.protocol;
        this.requestTimeout = b.requestTimeout;
        this.maxInFlight = b.maxInFlight;
        this.ticker = b.ticker;
        this.transport = transport;
        String target = "triton model '" + modelName + "'" + (b.version.isEmpty() ? "" : " version " + b.version)
                + " at " + baseUrl;
        CircuitBreakerPolicy cb = b.circuitBreaker;
        this.breaker = new CircuitBreaker(target, cb.failureThreshold(), cb.openDuration().toNanos(), ticker);
        RetryPolicy rp = b.retry;
        this.caller = new Caller(target, rp.maxRetries(), rp.initialBackoff().toNanos(), rp.maxBackoff().toNanos(),
                breaker, ticker, transport::resetConnectBackoff, stats);
        this.inFlight = new Semaphore(maxInFlight);
        this.idPrefix = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0x1000000)) + "-";

        Duration metadataTimeout = requestTimeout.compareTo(MIN_METADATA_TIMEOUT) > 0 ? requestTimeout
                : MIN_METADATA_TIMEOUT;
        long deadline = ticker.read() + metadataTimeout.toNanos();
        ServerMetadata server = await(caller.call(deadline, transport::serverMetadata));
        this.signature = await(caller.call(deadline, transport::modelMetadata));
        boolean advertised = server.supports(RestCodec.BINARY_EXTENSION);
        this.binary = protocol == Protocol.GRPC || (b.binaryData && advertised);
        if (protocol == Protocol.REST && b.binaryData && !advertised) {
            LOG.warn("{}: the server does not advertise '{}' (extensions {}); sending tensors as JSON", target,
                    RestCodec.BINARY_EXTENSION, server.extensions());
        }
        if (!binary) {
            requireJsonTypes(target, b.binaryData);
        }
        OptionalInt maxBatchSize = server.supports(MODEL_CONFIGURATION_EXTENSION)
                ? await(caller.call(deadline, transport::maxBatchSize)) : OptionalInt.empty();
        this.batching = resolveBatching(target, maxBatchSize, b.batching);
        this.batchAxis = batching.isBatchable() || (!batching.isDeclared() && firstAxisDynamic(signature) == null);
        LOG.info("{}: {} {}, {} inputs, {} outputs, batching {}{}", target, protocol,
                protocol == Protocol.GRPC ? "raw contents" : binary ? "binary tensors" : "JSON tensors",
                signature.inputs().size(), signature.outputs().size(), batching,
                !batching.isDeclared() && batchAxis ? " (requests batch along the dynamic first axis)" : "");
        this.unbindMeters = Meters.bind(modelName, baseUrl.getHost() + (baseUrl.getPort() < 0 ? "" : ":" + baseUrl.getPort()),
                breaker, stats);
    }

    /**
     * What this client has seen of the server so far: the circuit breaker's state, retries, calls the breaker
     * rejected, and failed attempts by kind. A live, cheap read; thread-safe. When Micrometer is on the class
     * path the same numbers are also meters in Micrometer's global registry ({@code nearline.remote.*}, tagged
     * {@code model} and {@code server}; see this module's README), removed on {@link #close()}.
     */
    public Stats stats() {
        Map<ScoringException.Kind, Long> failures = new java.util.EnumMap<>(ScoringException.Kind.class);
        for (ScoringException.Kind k : ScoringException.Kind.values()) {
            long n = stats.failures(k);
            if (n > 0) {
                failures.put(k, n);
            }
        }
        return new Stats(BreakerState.valueOf(breaker.state().name()), stats.retries(), stats.rejectedByBreaker(),
                failures);
    }

    /** The state of a client's circuit breaker (see {@link CircuitBreakerPolicy}). */
    public enum BreakerState {
        /** Calls go through. */
        CLOSED,
        /** Calls fail fast with UNAVAILABLE until the open period ends. */
        OPEN,
        /** One probe call is in flight or allowed; other calls fail fast. */
        HALF_OPEN
    }

    /**
     * A snapshot of {@link #stats()}.
     *
     * @param breaker           the circuit breaker's state
     * @param retries           attempts made after a failed attempt
     * @param rejectedByBreaker calls failed fast while the breaker was open
     * @param failures          failed attempts by kind (kinds with none are left out); each attempt of a retried call
     *                          counts, so this is at least the number of failed calls
     */
    public record Stats(BreakerState breaker, long retries, long rejectedByBreaker,
                        Map<ScoringException.Kind, Long> failures) {
        /** Copies the failures. */
        public Stats {
            java.util.Objects.requireNonNull(breaker, "breaker");
            failures = Map.copyOf(failures);
        }
    }

    /**
     * The model's batching: the server's configuration when it has one, else the user's declaration, else
     * undeclared. A batch axis, from either, must show as a dynamic first dimension on every tensor.
     */
    private Batching resolveBatching(String target, OptionalInt maxBatchSize, @Nullable Batching declared) {
        if (maxBatchSize.isPresent()) {
            int n = maxBatchSize.getAsInt();
            if (n == 0) {
                return Batching.none();
            }
            if (declared != null && !declared.isBatchable()) {
                LOG.info("{}: the server's configuration allows batches of {}, but batching none was declared", target, n);
                return declared;
            }
            String fixed = firstAxisDynamic(signature);
            if (fixed != null) {
                throw caller.failure(ScoringException.Kind.INTERNAL, "the model configuration says max_batch_size " + n
                        + " but " + fixed + ": the metadata shows no batch axis", null);
            }
            return Batching.alongAxis(0);
        }
        if (declared == null) {
            return Batching.undeclared();
        }
        if (declared.isBatchable()) {
            String fixed = firstAxisDynamic(signature);
            if (fixed != null) {
                throw new IllegalArgumentException(target + ": batching along axis 0 was declared but " + fixed);
            }
        }
        return declared;
    }

    private void requireJsonTypes(String target, boolean binaryRequested) {
        List<TensorSpec> all = new ArrayList<>(signature.inputs());
        all.addAll(signature.outputs());
        for (TensorSpec spec : all) {
            if (spec.type() == DataType.FP16 || spec.type() == DataType.BF16) {
                throw new IllegalStateException(target + ": tensor '" + spec.name() + "' is " + spec.type()
                        + ", which KServe v2 JSON cannot carry, and "
                        + (binaryRequested ? "the server does not advertise '" + RestCodec.BINARY_EXTENSION + "'"
                                : "binaryData(false) was set")
                        + "; use binary tensor data or protocol GRPC");
            }
        }
    }

    /**
     * Null when every input and output has a dynamic first dimension (how Triton shows its batch axis),
     * else which tensor does not, such as {@code input 'x' has shape [3]}.
     */
    private static @Nullable String firstAxisDynamic(ModelSignature signature) {
        if (signature.inputs().isEmpty()) {
            return "the model has no inputs";
        }
        List<TensorSpec> all = new ArrayList<>(signature.inputs());
        all.addAll(signature.outputs());
        for (TensorSpec spec : all) {
            long[] shape = spec.shape();
            if (shape == null || shape.length == 0 || shape[0] != -1) {
                return (signature.inputs().contains(spec) ? "input '" : "output '") + spec.name() + "' has shape "
                        + (shape == null ? "of unknown rank" : java.util.Arrays.toString(shape))
                        + " (a batch axis is a dynamic first dimension)";
            }
        }
        return null;
    }

    /**
     * A builder for the model {@code modelName} on the server at {@code baseUrl}, such as
     * {@code http://triton:8000} for REST or {@code http://triton:8001} for gRPC ({@code https}
     * for TLS). A REST URL may carry a path prefix (a proxy's route); a gRPC URL needs a port and
     * no path.
     *
     * @throws IllegalArgumentException for a URL that is not absolute http(s), or that carries
     *                                  credentials, a query or a fragment
     */
    public static Builder builder(URI baseUrl, String modelName) {
        return new Builder(baseUrl, modelName);
    }

    @Override
    public ModelSignature signature() {
        return signature;
    }

    /**
     * From the server's model configuration ({@code max_batch_size > 0}: {@link Batching#alongAxis(int)
     * along axis 0}; {@code 0}: {@link Batching#none()}), else as declared with {@link Builder#batching},
     * else {@link Batching#undeclared()}.
     */
    @Override
    public Batching batching() {
        return batching;
    }

    /** Whether tensors travel in binary form: always over gRPC; over REST when asked for and the server supports it. */
    public boolean binaryData() {
        return binary;
    }

    /**
     * Scores one record, waiting at most the request timeout.
     *
     * @throws ScoringException of the kinds the class documentation lists
     */
    @Override
    public Tensors predict(Tensors inputs) {
        return await(predictAsync(inputs));
    }

    /** Scores one record within {@code timeout} (the time left before the record's deadline). */
    @Override
    public Tensors predict(Tensors inputs, Duration timeout) {
        return await(predictAsync(inputs, timeout));
    }

    /** Scores several records within {@code timeout}; see {@link #predictBatch(List)}. */
    @Override
    public List<Tensors> predictBatch(List<Tensors> batch, Duration timeout) {
        if (batch.size() == 1) {
            return List.of(predict(batch.get(0), timeout));
        }
        return await(predictBatchAsync(batch, timeout));
    }

    /** Scores one record without blocking, within the request timeout. */
    @Override
    public CompletableFuture<Tensors> predictAsync(Tensors inputs) {
        return predictAsync(inputs, requestTimeout);
    }

    /**
     * Scores one record without blocking, within {@code timeout} instead of the request timeout:
     * retries stop and the future fails with DEADLINE_EXCEEDED (or the last failure's kind) once
     * it has passed. This is how a caller with its own deadline passes the time that is left.
     */
    public CompletableFuture<Tensors> predictAsync(Tensors inputs, Duration timeout) {
        Objects.requireNonNull(inputs, "inputs");
        return submit(() -> RequestLayout.single(signature, inputs, batchAxis), timeout).thenApply(outputs -> outputs.get(0));
    }

    /**
     * Scores several records in one request when {@link #batching()} allows it (along axis 0, or
     * undeclared with a dynamic first dimension on every input and output): the records are
     * concatenated along axis 0 and the outputs split back, so element {@code i} of the result belongs
     * to element {@code i} of {@code batch}. Otherwise (batching {@code none}) each record is its own
     * request, all in flight at once. If any part fails, the whole call throws.
     */
    @Override
    public List<Tensors> predictBatch(List<Tensors> batch) {
        if (batch.size() == 1) {
            return List.of(predict(batch.get(0)));
        }
        return await(predictBatchAsync(batch, requestTimeout));
    }

    /**
     * As {@link #predictBatch}, but only as one request over the records combined along axis 0: null when
     * {@link #batching()} does not allow it (each record would be its own request), or for a single record.
     */
    @Override
    public @Nullable List<Tensors> predictCombined(List<Tensors> batch, @Nullable Duration timeout) {
        Objects.requireNonNull(batch, "batch");
        if (!batchAxis || batch.size() < 2) {
            return null;
        }
        return await(predictBatchAsync(batch, timeout == null ? requestTimeout : timeout));
    }

    /** {@link #predictBatch} without blocking, within {@code timeout}. */
    public CompletableFuture<List<Tensors>> predictBatchAsync(List<Tensors> batch, Duration timeout) {
        Objects.requireNonNull(batch, "batch");
        if (batch.isEmpty()) {
            return CompletableFuture.completedFuture(List.of());
        }
        if (batchAxis) {
            return submit(() -> RequestLayout.batch(signature, batch), timeout);
        }
        List<CompletableFuture<Tensors>> each = new ArrayList<>(batch.size());
        for (Tensors record : batch) {
            each.add(predictAsync(record, timeout));
        }
        return CompletableFuture.allOf(each.toArray(new CompletableFuture<?>[0])).thenApply(v -> {
            List<Tensors> out = new ArrayList<>(each.size());
            for (CompletableFuture<Tensors> f : each) {
                out.add(f.join());
            }
            return out;
        });
    }

    private CompletableFuture<List<Tensors>> submit(Supplier<RequestLayout> layout, Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (closed.get()) {
            return CompletableFuture.failedFuture(caller.failure(ScoringException.Kind.UNAVAILABLE, "the model is closed",
                    null));
        }
        long now = ticker.read();
        long deadline = timeout.compareTo(Duration.ofDays(365)) > 0 ? now + TimeUnit.DAYS.toNanos(365)
                : now + timeout.toNanos();
        if (!inFlight.tryAcquire()) {
            return CompletableFuture.failedFuture(caller.failure(ScoringException.Kind.OVERLOADED, maxInFlight
                    + " requests already in flight (maxInFlight); back off or raise the limit", null));
        }
        Transport.InferCall call;
        try {
            call = transport.prepare(idPrefix + Long.toString(requestIds.incrementAndGet(), 36), layout.get(), binary);
        } catch (ScoringException e) {
            inFlight.release();
            return CompletableFuture.failedFuture(caller.failure(e.kind(), e.getMessage(), e.getCause()));
        } catch (RuntimeException e) {
            inFlight.release();
            return CompletableFuture.failedFuture(caller.failure(ScoringException.Kind.INTERNAL,
                    "cannot encode the request: " + e, e));
        }
        CompletableFuture<List<Tensors>> result = caller.call(deadline, call);
        result.whenComplete((outputs, error) -> inFlight.release());
        return result;
    }

    /** Whether the server answers its liveness check ({@code /v2/health/live}, {@code ServerLive}) within the request timeout. */
    public boolean isLive() {
        return health(transport::serverLive);
    }

    /** Whether the server answers its readiness check ({@code /v2/health/ready}, {@code ServerReady}) with ready. */
    public boolean isReady() {
        return health(transport::serverReady);
    }

    /** Whether the server says this model (version) is ready ({@code .../ready}, {@code ModelReady}). */
    public boolean isModelReady() {
        return health(transport::modelReady);
    }

    private boolean health(Function<Duration, CompletableFuture<Boolean>> check) {
        if (closed.get()) {
            return false;
        }
        try {
            return check.apply(requestTimeout).get(requestTimeout.toMillis() + 100, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            LOG.debug("{}: health check failed: {}", caller.target(), e.toString());
            return false;
        }
    }

    /**
     * Closes the model's connections and ends its threads before returning (the REST client's I/O thread and
     * decoding pool, or the gRPC channel and its executor); requests in flight fail with UNAVAILABLE.
     * Idempotent; later calls fail with UNAVAILABLE.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            unbindMeters.run();
            transport.close();
            LOG.debug("{}: closed", caller.target());
        }
    }

    /** The transport, for tests in this package that look at its connections. */
    Transport transport() {
        return transport;
    }

    /** Model, server, protocol and tensor format; never headers. */
    @Override
    public String toString() {
        return "TritonModel[" + modelName + " at " + baseUrl + ", " + protocol + ", "
                + (binary ? "binary" : "JSON") + "]";
    }

    /** Waits for {@code f}, rethrowing its ScoringException as is. */
    private static <T> T await(CompletableFuture<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new ScoringException(ScoringException.Kind.UNAVAILABLE, "interrupted while waiting for Triton", e);
        } catch (ExecutionException | CancellationException e) {
            Throwable cause = Caller.unwrap(e);
            if (cause instanceof ScoringException) {
                throw (ScoringException) cause;
            }
            if (cause instanceof RuntimeException) {
                throw (RuntimeException) cause;
            }
            throw new ScoringException(ScoringException.Kind.INTERNAL, "unexpected failure: " + cause, cause);
        }
    }

    /**
     * Builds a {@link TritonModel}. Every setter may be called at most once; unset options take the
     * defaults documented on each. Not thread-safe.
     */
    public static final class Builder {
        /** Headers the client sets itself or that HTTP forbids callers to set. */
        private static final Set<String> RESERVED_HEADERS = Set.of("connection", "content-length", "content-type",
                "expect", "host", "upgrade", "te", "transfer-encoding", "inference-header-content-length");

        private final URI baseUrl;
        private final String modelName;
        private String version = "";
        private Protocol protocol = Protocol.REST;
        private boolean binaryData = true;
        private HttpClient.Version httpVersion = HttpClient.Version.HTTP_1_1;
        private Duration requestTimeout = Duration.ofSeconds(1);
        private Duration connectTimeout = Duration.ofSeconds(1);
        private Map<String, String> headers = Map.of();
        private @Nullable String bearerToken;
        private @Nullable KeyStore trustStore;
        private int maxInFlight = 256;
        private RetryPolicy retry = RetryPolicy.defaults();
        private CircuitBreakerPolicy circuitBreaker = CircuitBreakerPolicy.defaults();
        private int maxMessageSize = 64 << 20;
        private @Nullable Batching batching;
        private Ticker ticker = Ticker.system();
        private final Set<String> set = new HashSet<>();

        private Builder(URI baseUrl, String modelName) {
            Objects.requireNonNull(baseUrl, "baseUrl");
            Objects.requireNonNull(modelName, "modelName");
            String scheme = baseUrl.getScheme();
            if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))
                    || baseUrl.getHost() == null) {
                throw new IllegalArgumentException("Triton URL must be absolute http or https with a host, such as "
                        + "http://triton:8000, got " + shown(baseUrl));
            }
            if (baseUrl.getRawUserInfo() != null || baseUrl.getRawQuery() != null || baseUrl.getRawFragment() != null) {
                throw new IllegalArgumentException("Triton URL must not carry credentials, a query or a fragment "
                        + "(pass credentials with headers or bearerToken), got a URL to " + baseUrl.getHost());
            }
            if (modelName.isBlank()) {
                throw new IllegalArgumentException("model name is empty");
            }
            this.baseUrl = baseUrl;
            this.modelName = modelName;
        }

        /**
         * What a message may show of a URL that failed validation: its scheme and host, never user info, a path, a
         * query or a fragment (any of which may carry a credential).
         */
        private static String shown(URI url) {
            if (url.getScheme() == null) {
                return "a URL without a scheme";
            }
            return "a " + url.getScheme() + " URL" + (url.getHost() == null ? " without a host" : " to " + url.getHost());
        }

        private void once(String property) {
            SetOnce.check(!set.add(property), property);
        }

        /** The model version to call; by default the server picks one by its version policy. */
        public Builder modelVersion(String version) {
            once("modelVersion");
            Objects.requireNonNull(version, "version");
            if (version.isBlank()) {
                throw new IllegalArgumentException("model version is empty");
            }
            this.version = version;
            return this;
        }

        /** REST (the default) or gRPC. */
        public Builder protocol(Protocol protocol) {
            once("protocol");
            this.protocol = Objects.requireNonNull(protocol, "protocol");
            return this;
        }

        /**
         * REST only: whether to send and ask for tensors with Triton's binary tensor data extension
         * (default true). Falls back to JSON when the server does not advertise the extension; FP16
         * and BF16 models then fail to build, as JSON cannot carry them. gRPC always uses raw contents.
         */
        public Builder binaryData(boolean binaryData) {
            once("binaryData");
            this.binaryData = binaryData;
            return this;
        }

        /**
         * REST only: {@link HttpClient.Version#HTTP_1_1} (default; connections kept alive and reused, one
         * per request in flight) or {@link HttpClient.Version#HTTP_2}, negotiated over TLS (ALPN) and
         * multiplexed on one connection; over cleartext the client stays on HTTP/1.1, which is what
         * Triton's HTTP endpoint speaks.
         */
        public Builder httpVersion(HttpClient.Version httpVersion) {
            once("httpVersion");
            this.httpVersion = Objects.requireNonNull(httpVersion, "httpVersion");
            return this;
        }

        /**
         * The deadline of a request when the caller passes none (default 1 second), covering retries
         * and backoffs. {@link #build()} waits the larger of this and 5 seconds for metadata.
         */
        public Builder requestTimeout(Duration timeout) {
            once("requestTimeout");
            this.requestTimeout = positive(timeout, "requestTimeout");
            return this;
        }

        /** How long to wait for a new connection (default 1 second). */
        public Builder connectTimeout(Duration timeout) {
            once("connectTimeout");
            this.connectTimeout = positive(timeout, "connectTimeout");
            return this;
        }

        /**
         * Extra headers sent with every request (gRPC: metadata), such as an API key. Values are
         * never logged. Names the client sets itself (Content-Type, Content-Length, Host,
         * Inference-Header-Content-Length ...) are rejected.
         */
        public Builder headers(Map<String, String> headers) {
            once("headers");
            Map<String, String> copy = new LinkedHashMap<>();
            for (Map.Entry<String, String> h : headers.entrySet()) {
                String name = Objects.requireNonNull(h.getKey(), "header name");
                String value = Objects.requireNonNull(h.getValue(), "header value");
                checkHeader(name, value);
                copy.put(name, value);
            }
            this.headers = copy;
            return this;
        }

        /** Sends {@code Authorization: Bearer <token>} with every request; the token is never logged. */
        public Builder bearerToken(String token) {
            once("bearerToken");
            Objects.requireNonNull(token, "token");
            checkHeader("Authorization", "Bearer " + token);
            this.bearerToken = token;
            return this;
        }

        /**
         * The certificates to trust for an {@code https} URL, instead of the JVM's default trust
         * store: typically the CA that signed Triton's (or its proxy's) certificate.
         */
        public Builder trustStore(KeyStore trustStore) {
            once("trustStore");
            this.trustStore = Objects.requireNonNull(trustStore, "trustStore");
            return this;
        }

        /**
         * The most requests outstanding at once (default 256); beyond it a request fails at once with
         * OVERLOADED rather than queueing, so that the engine's admission control sees the pressure.
         * A batch counts as one request.
         */
        public Builder maxInFlight(int maxInFlight) {
            once("maxInFlight");
            if (maxInFlight < 1) {
                throw new IllegalArgumentException("maxInFlight must be >= 1, got " + maxInFlight);
            }
            this.maxInFlight = maxInFlight;
            return this;
        }

        /** Retries of transient failures (default {@link RetryPolicy#defaults()}). */
        public Builder retry(RetryPolicy retry) {
            once("retry");
            this.retry = Objects.requireNonNull(retry, "retry");
            return this;
        }

        /** The circuit breaker (default {@link CircuitBreakerPolicy#defaults()}). */
        public Builder circuitBreaker(CircuitBreakerPolicy circuitBreaker) {
            once("circuitBreaker");
            this.circuitBreaker = Objects.requireNonNull(circuitBreaker, "circuitBreaker");
            return this;
        }

        /**
         * Declares the model's batching for a server that does not say (a plain KServe v2 server, without
         * Triton's model configuration): {@link Batching#alongAxis(int) alongAxis(0)} when records may be
         * concatenated along the first axis, {@link Batching#none()} when they must never share a request.
         * A server's configuration, when it has one, decides instead, except that {@code none} is kept.
         *
         * @throws IllegalArgumentException for an axis other than 0 (KServe v2's batch axis) or
         *                                  {@link Batching#undeclared()}
         */
        public Builder batching(Batching batching) {
            once("batching");
            Objects.requireNonNull(batching, "batching");
            if (!batching.isDeclared()) {
                throw new IllegalArgumentException("batching must be declared: alongAxis(0) or none()");
            }
            if (batching.isBatchable() && batching.axis() != 0) {
                throw new IllegalArgumentException("batch axis " + batching.axis()
                        + " is not supported: KServe v2 batches along axis 0 (or use none)");
            }
            this.batching = batching;
            return this;
        }

        /**
         * The largest response accepted, in bytes (default 64 MiB), whatever its framing: gRPC raises
         * grpc-java's 4 MiB inbound limit to it; REST fails a declared Content-Length over it before
         * reading, and stops reading a chunked or unframed body once it passes it. Either fails with
         * INTERNAL and closes that connection.
         */
        public Builder maxMessageSize(int bytes) {
            once("maxMessageSize");
            if (bytes < 1024) {
                throw new IllegalArgumentException("maxMessageSize must be >= 1024 bytes, got " + bytes);
            }
            this.maxMessageSize = bytes;
            return this;
        }

        /** The clock for deadlines and the circuit breaker; tests drive it instead of sleeping. */
        Builder ticker(Ticker ticker) {
            once("ticker");
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * Connects, reads the server's and the model's metadata, and returns the model.
         *
         * @throws ScoringException      UNAVAILABLE when the server or model cannot be reached in time,
         *                               INTERNAL when the metadata is unusable (for example a datatype
         *                               Nearline lacks, such as UINT16)
         * @throws IllegalStateException when the model has FP16/BF16 tensors but tensors must travel as JSON
         * @throws IllegalArgumentException for a gRPC URL without a port or with a path
         */
        public TritonModel build() {
            if (protocol == Protocol.GRPC) {
                if (baseUrl.getPort() < 0) {
                    throw new IllegalArgumentException("gRPC URL needs a port, such as http://triton:8001, got "
                            + baseUrl);
                }
                String path = baseUrl.getRawPath();
                if (path != null && !path.isEmpty() && !path.equals("/")) {
                    throw new IllegalArgumentException("gRPC URL must not have a path, got " + baseUrl);
                }
            }
            Map<String, String> all = new LinkedHashMap<>(headers);
            if (bearerToken != null) {
                for (String name : all.keySet()) {
                    if (name.equalsIgnoreCase("Authorization")) {
                        throw new IllegalArgumentException("both bearerToken and an Authorization header are set");
                    }
                }
                all.put("Authorization", "Bearer " + bearerToken);
            }
            TransportConfig config = new TransportConfig(baseUrl, modelName, version, all, connectTimeout, httpVersion,
                    trustStore, maxMessageSize, maxInFlight);
            Transport transport = protocol == Protocol.REST ? new RestTransport(config) : new GrpcTransport(config);
            try {
                return new TritonModel(this, transport);
            } catch (RuntimeException e) {
                transport.close();
                throw e;
            }
        }

        private void checkHeader(String name, String value) {
            if (name.isEmpty() || !name.chars().allMatch(c -> c > 32 && c < 127 && "()<>@,;:\\\"/[]?={}".indexOf(c) < 0)) {
                throw new IllegalArgumentException("invalid header name '" + name + "'");
            }
            String lower = name.toLowerCase(Locale.ROOT);
            if (RESERVED_HEADERS.contains(lower) || lower.startsWith("grpc-") || lower.startsWith(":")
                    || lower.endsWith("-bin")) {
                throw new IllegalArgumentException("header '" + name + "' is set by the client or not allowed");
            }
            if (!value.chars().allMatch(c -> c == '\t' || (c >= 32 && c < 127))) {
                // The value is not echoed: it may be a secret.
                throw new IllegalArgumentException("header '" + name + "' has a value with characters outside printable ASCII");
            }
        }

        private static Duration positive(Duration d, String name) {
            Objects.requireNonNull(d, name);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, got " + d);
            }
            return d;
        }
    }
}
