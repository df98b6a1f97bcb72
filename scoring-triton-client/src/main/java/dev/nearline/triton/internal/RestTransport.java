package dev.nearline.triton.internal;

import dev.nearline.api.ModelSignature;
import dev.nearline.api.ScoringException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import javax.net.ssl.SSLException;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.client5.http.async.AsyncExecCallback;
import org.apache.hc.client5.http.async.AsyncExecChain;
import org.apache.hc.client5.http.impl.ChainElement;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.core5.concurrent.Cancellable;
import org.apache.hc.core5.concurrent.CancellableDependency;
import org.apache.hc.core5.http.HttpRequest;
import org.apache.hc.core5.http.nio.AsyncEntityProducer;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.config.TlsConfig;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.nio.PoolingAsyncClientConnectionManager;
import org.apache.hc.client5.http.impl.nio.PoolingAsyncClientConnectionManagerBuilder;
import org.apache.hc.client5.http.ssl.ClientTlsStrategyBuilder;
import org.apache.hc.core5.concurrent.FutureCallback;
import org.apache.hc.core5.http.ConnectionClosedException;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.EntityDetails;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.MalformedChunkCodingException;
import org.apache.hc.core5.http.TruncatedChunkException;
import org.apache.hc.core5.http.nio.AsyncRequestProducer;
import org.apache.hc.core5.http.nio.AsyncResponseConsumer;
import org.apache.hc.core5.http.nio.CapacityChannel;
import org.apache.hc.core5.http.nio.support.AsyncRequestBuilder;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.http2.HttpVersionPolicy;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.reactor.IOReactorConfig;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * KServe v2 over HTTP/REST with Apache HttpClient 5's asynchronous (NIO) client: requests are
 * asynchronous, so many can be in flight without a thread each, on pooled keep-alive connections
 * (HTTP/1.1, or HTTP/2 negotiated over TLS). One I/O thread per transport; responses are decoded on
 * a small daemon executor, never on the I/O thread.
 *
 * <p>Every exchange is bounded twice: by its deadline, at which it is cancelled and its connection
 * closed (a stalled body does not hold a socket), and by {@code maxMessageBytes}, at which reading
 * stops whatever the framing (Content-Length, chunked, or until the connection closes).
 * {@link #close()} shuts the client down: its I/O thread ends and every connection is closed.
 */
public final class RestTransport implements Transport {
    private static final Logger LOG = LoggerFactory.getLogger(RestTransport.class);
    private static final byte[] EMPTY = new byte[0];
    /** Context attribute holding an exchange's {@link ExchangeCancel}. */
    private static final String CANCEL_ATTRIBUTE = "dev.nearline.triton.exchange-cancel";
    /** How long close() waits for the I/O thread to end. */
    private static final TimeValue CLOSE_WAIT = TimeValue.ofSeconds(2);

    private final TransportConfig config;
    private final ExecutorService executor;
    private final CloseableHttpAsyncClient client;
    private final PoolingAsyncClientConnectionManager connections;
    private final String serverBase;
    private final String modelBase;
    private final URI inferUri;
    private final RestCodec binaryCodec = new RestCodec(true);
    private final RestCodec jsonCodec = new RestCodec(false);
    private final AtomicBoolean closed = new AtomicBoolean();

    /** A transport for {@code config}; starts the I/O thread, opens no connection yet. */
    public RestTransport(TransportConfig config) {
        this.config = config;
        this.executor = DaemonThreads.cachedPool("nearline-triton-http");
        PoolingAsyncClientConnectionManagerBuilder cm = PoolingAsyncClientConnectionManagerBuilder.create()
                .setMaxConnTotal(config.maxConnections())
                .setMaxConnPerRoute(config.maxConnections())
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setConnectTimeout(Timeout.of(config.connectTimeout()))
                        .build())
                .setDefaultTlsConfig(TlsConfig.custom()
                        .setHandshakeTimeout(Timeout.of(config.connectTimeout()))
                        .setVersionPolicy(config.httpVersion() == HttpClient.Version.HTTP_2 ? HttpVersionPolicy.NEGOTIATE
                                : HttpVersionPolicy.FORCE_HTTP_1)
                        .build());
        if (config.tls() && config.trustStore() != null) {
            cm.setTlsStrategy(ClientTlsStrategyBuilder.create().setSslContext(Tls.sslContext(config.trustStore()))
                    .buildAsync());
        }
        this.connections = cm.build();
        this.client = HttpAsyncClients.custom()
                .setConnectionManager(connections)
                .setIOReactorConfig(IOReactorConfig.custom().setIoThreadCount(1).setTcpNoDelay(true).build())
                .setThreadFactory(DaemonThreads.factory("nearline-triton-http-io"))
                // The reactor reports its own failures here; closing races its selector (ClosedSelectorException),
                // which is no news after close().
                .setIoReactorExceptionCallback(e -> {
                    if (closed.get()) {
                        LOG.debug("{}: I/O reactor while closing: {}", config.baseUrl(), e.toString());
                    } else {
                        LOG.warn("{}: I/O reactor failure: {}", config.baseUrl(), e.toString());
                    }
                })
                .setDefaultRequestConfig(RequestConfig.custom()
                        .setHardCancellationEnabled(true)
                        .setExpectContinueEnabled(false)
                        .setProtocolUpgradeEnabled(false)
                        .setRedirectsEnabled(false)
                        .setAuthenticationEnabled(false)
                        .setContentCompressionEnabled(false)
                        .build())
                .addExecInterceptorBefore(ChainElement.MAIN_TRANSPORT.name(), "nearline-cancel",
                        RestTransport::captureCancel)
                .setUserAgent("nearline-triton")
                .disableAutomaticRetries() // the Caller retries, within the deadline
                .disableRedirectHandling()
                .disableCookieManagement()
                .disableAuthCaching()
                .disableConnectionState()
                .disableContentCompression() // the byte limit counts what arrives, and no gzip bomb inflates
                .build();
        client.start();
        String base = config.baseUrl().toString();
        while (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        this.serverBase = base + "/v2";
        this.modelBase = serverBase + "/models/" + segment(config.model())
                + (config.version().isEmpty() ? "" : "/versions/" + segment(config.version()));
        this.inferUri = URI.create(modelBase + "/infer");
    }

    private static String segment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    @Override
    public CompletableFuture<ServerMetadata> serverMetadata(Duration timeout, boolean waitForConnection) {
        return get(serverBase, timeout, RestCodec::serverMetadata);
    }

    @Override
    public CompletableFuture<ModelSignature> modelMetadata(Duration timeout, boolean waitForConnection) {
        return get(modelBase, timeout, RestCodec::modelMetadata);
    }

    @Override
    public CompletableFuture<OptionalInt> maxBatchSize(Duration timeout, boolean waitForConnection) {
        return send(AsyncRequestBuilder.get(URI.create(modelBase + "/config")), timeout).thenApplyAsync(response -> {
            int status = response.status();
            if (status == 200) {
                return OptionalInt.of(RestCodec.maxBatchSize(response.body()));
            }
            if (status == 404 || status == 400 || status == 405 || status == 501) {
                return OptionalInt.empty(); // a plain KServe v2 server: no model configuration
            }
            throw statusFailure(status, response.body());
        }, this::decodeOn);
    }

    @Override
    public CompletableFuture<Boolean> serverLive(Duration timeout) {
        return probe(serverBase + "/health/live", timeout);
    }

    @Override
    public CompletableFuture<Boolean> serverReady(Duration timeout) {
        return probe(serverBase + "/health/ready", timeout);
    }

    @Override
    public CompletableFuture<Boolean> modelReady(Duration timeout) {
        return probe(modelBase + "/ready", timeout);
    }

    @Override
    public InferCall prepare(String id, RequestLayout layout, boolean binary) {
        RestCodec codec = binary ? binaryCodec : jsonCodec;
        RestCodec.Encoded encoded = codec.encode(id, layout);
        ContentType type = ContentType.create(encoded.contentType());
        return (timeout, waitForConnection) -> {
            AsyncRequestBuilder b = AsyncRequestBuilder.post(inferUri).setEntity(encoded.body(), type);
            if (encoded.headerLength() >= 0) {
                b.setHeader(RestCodec.HEADER_LENGTH, Integer.toString(encoded.headerLength()));
            }
            return send(b, timeout).thenApplyAsync(response -> {
                if (response.status() != 200) {
                    throw statusFailure(response.status(), response.body());
                }
                return codec.decode(response.body(), response.headerLength(), layout, id);
            }, this::decodeOn);
        };
    }

    /**
     * The connection pool's state, for tests and diagnostics: connections held by an exchange, idle in the
     * pool, and exchanges waiting for one.
     */
    public String poolStats() {
        return connections.getTotalStats().toString();
    }

    /** Connections an exchange holds now (0 when nothing is in flight). */
    public int leasedConnections() {
        return connections.getTotalStats().getLeased();
    }

    /** Connections idle in the pool, open and ready for the next request. */
    public int idleConnections() {
        return connections.getTotalStats().getAvailable();
    }

    @Override
    public void resetConnectBackoff() {
        // Each attempt opens or reuses a connection as it goes: there is no backoff to reset.
    }

    /** Closes every connection (requests in flight fail), ends the I/O thread and the decoding pool. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            client.close(CloseMode.IMMEDIATE);
            client.awaitShutdown(CLOSE_WAIT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            DaemonThreads.shutdown(executor);
        }
    }

    /** Runs a decoding task on the pool; after close() on the calling thread, so that no future is left hanging. */
    private void decodeOn(Runnable task) {
        try {
            executor.execute(task);
        } catch (RejectedExecutionException e) {
            task.run();
        }
    }

    private <T> CompletableFuture<T> get(String uri, Duration timeout, Function<byte[], T> parse) {
        return send(AsyncRequestBuilder.get(URI.create(uri)), timeout).thenApplyAsync(response -> {
            if (response.status() != 200) {
                throw statusFailure(response.status(), response.body());
            }
            return parse.apply(response.body());
        }, this::decodeOn);
    }

    private CompletableFuture<Boolean> probe(String uri, Duration timeout) {
        return send(AsyncRequestBuilder.get(URI.create(uri)), timeout).thenApply(response -> response.status() == 200);
    }

    /**
     * One HTTP exchange within {@code timeout}. Whatever ends it early (the deadline, a failure, a body
     * over the limit, a caller that stops waiting and completes the returned future) cancels the
     * exchange, which closes its connection instead of reading on.
     */
    private CompletableFuture<Response> send(AsyncRequestBuilder builder, Duration timeout) {
        for (Map.Entry<String, String> h : config.headers().entrySet()) {
            builder.addHeader(h.getKey(), h.getValue());
        }
        AsyncRequestProducer producer = builder.build();
        BodyConsumer consumer = new BodyConsumer(config.maxMessageBytes());
        ExchangeCancel cancel = new ExchangeCancel();
        HttpClientContext context = HttpClientContext.create();
        context.setAttribute(CANCEL_ATTRIBUTE, cancel);
        CompletableFuture<Response> raw = new CompletableFuture<>();
        Future<Response> exchange;
        try {
            exchange = client.execute(producer, consumer, null, context, new FutureCallback<Response>() {
                @Override
                public void completed(Response result) {
                    raw.complete(result);
                }

                @Override
                public void failed(Exception ex) {
                    raw.completeExceptionally(ex);
                }

                @Override
                public void cancelled() {
                    raw.cancel(false);
                }
            });
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(closed.get() ? closedFailure(e)
                    : RemoteFailure.definite(ScoringException.Kind.INTERNAL, "cannot send request: " + e, e));
        }
        raw.orTimeout(timeout.toNanos(), TimeUnit.NANOSECONDS);
        CompletableFuture<Response> result = raw.handle((response, error) -> {
            if (error == null) {
                return response;
            }
            abandon(cancel, exchange);
            throw failure(Caller.unwrap(error), timeout, cancel, consumer);
        });
        // A caller that gives up on the attempt (its own backstop) ends the exchange too.
        result.whenComplete((response, error) -> {
            if (error != null) {
                abandon(cancel, exchange);
            }
        });
        return result;
    }

    /** Ends an exchange that is no longer wanted: the exchange fails and its connection is closed, not read on. */
    private static void abandon(ExchangeCancel cancel, Future<?> exchange) {
        exchange.cancel(true); // before the request reached a connection; a no-op once done
        cancel.cancel();
    }

    private RemoteFailure failure(Throwable t, Duration timeout, ExchangeCancel exchange, BodyConsumer consumer) {
        if (t instanceof RemoteFailure) {
            return (RemoteFailure) t;
        }
        if (closed.get()) {
            return closedFailure(t);
        }
        if (t instanceof TimeoutException) {
            long ms = timeout.toMillis();
            if (consumer.headersSeen()) {
                return RemoteFailure.timeout("the answer stalled: HTTP " + consumer.status() + " and "
                        + consumer.received() + " bytes of its body arrived, not the rest, within " + ms + "ms", null, true);
            }
            if (exchange.onConnection()) {
                return RemoteFailure.timeout("no answer within " + ms + "ms", null, true);
            }
            return RemoteFailure.timeout("no connection within " + ms + "ms", null, false);
        }
        if (t instanceof TooLarge) {
            return RemoteFailure.definite(ScoringException.Kind.INTERNAL, t.getMessage(), null);
        }
        if (t instanceof ConnectTimeoutException) {
            return RemoteFailure.unavailable("could not connect within " + config.connectTimeout().toMillis() + "ms", t);
        }
        if (t instanceof ConnectException) {
            return RemoteFailure.unavailable("cannot connect (" + t.getMessage() + ")", t);
        }
        if (t instanceof SSLException) {
            return RemoteFailure.misconfigured("TLS handshake with " + config.baseUrl().getAuthority() + " failed ("
                    + t.getMessage() + "): a certificate the trust store does not trust, or a server that does not"
                    + " speak TLS (then use http://)", t);
        }
        if (t instanceof TruncatedChunkException || t instanceof ConnectionClosedException) {
            return RemoteFailure.unavailable("the connection closed before the answer was complete (" + t.getMessage()
                    + ")", t);
        }
        if (t instanceof MalformedChunkCodingException || t instanceof HttpException) {
            return RemoteFailure.definite(ScoringException.Kind.INTERNAL, "malformed HTTP response (" + t.getMessage()
                    + ")", t);
        }
        if (t instanceof IOException) {
            return RemoteFailure.unavailable("connection failed (" + t + ")", t);
        }
        if (t instanceof java.util.concurrent.CancellationException) {
            return RemoteFailure.unavailable("the exchange was cancelled", t);
        }
        return RemoteFailure.definite(ScoringException.Kind.INTERNAL, "HTTP client failure (" + t + ")", t);
    }

    private static RemoteFailure closedFailure(Throwable cause) {
        return RemoteFailure.definite(ScoringException.Kind.UNAVAILABLE, "the model was closed", cause);
    }

    /**
     * The failure for a non-200 status, as Triton maps its errors: 400-class is the request's
     * fault, 429 and 502-504 are worth a retry, other 500-class are server errors.
     */
    static RemoteFailure statusFailure(int status, byte[] body) {
        String message = "HTTP " + status + ": " + RestCodec.errorMessage(body);
        switch (status) {
            case 401:
            case 403:
                return RemoteFailure.definite(ScoringException.Kind.UNAVAILABLE, message + " (check the credentials)", null);
            case 404:
                return RemoteFailure.definite(ScoringException.Kind.UNAVAILABLE, message
                        + " (is the model name right and the model loaded?)", null);
            case 408:
                return RemoteFailure.timeout(message, null, true);
            case 429:
                return RemoteFailure.overloaded(message);
            case 502:
            case 503:
            case 504:
                return RemoteFailure.unavailable(message, null);
            default:
                if (status >= 400 && status < 500) {
                    return RemoteFailure.definite(ScoringException.Kind.INVALID_INPUT, message, null);
                }
                return RemoteFailure.definite(ScoringException.Kind.INTERNAL, message, null);
        }
    }

    /** A whole response: status, the binary header length header, the body. */
    private record Response(int status, @Nullable String headerLength, byte[] body) {
    }

    /** A body over the limit: reading stops and the connection is closed. */
    private static final class TooLarge extends IOException {
        private static final long serialVersionUID = 1L;

        TooLarge(String message) {
            super(message);
        }
    }

    /**
     * The cancel of one exchange's transport step, captured where HttpClient's main transport sets it. The
     * future {@code execute} returns cannot always be relied on for that: when a pooled connection is leased
     * at once, the lease step sets its own (finished) cancellable after the transport's, and cancelling the
     * future then leaves the exchange running on its connection. This holder keeps the transport's.
     */
    private static final class ExchangeCancel {
        private @Nullable Cancellable transport;
        private boolean cancelled;

        /** Called by the interceptor when the request is handed to a connection. */
        void set(Cancellable c) {
            boolean now;
            synchronized (this) {
                transport = c;
                now = cancelled;
            }
            if (now) {
                c.cancel();
            }
        }

        /** Whether the request reached a connection. */
        synchronized boolean onConnection() {
            return transport != null;
        }

        void cancel() {
            Cancellable c;
            synchronized (this) {
                cancelled = true;
                c = transport;
            }
            if (c != null) {
                c.cancel(); // hard cancellation: the exchange fails and its connection is closed
            }
        }
    }

    /** The exec-chain step before the main transport that hands each exchange's transport cancel to its holder. */
    private static void captureCancel(HttpRequest request, @Nullable AsyncEntityProducer entity, AsyncExecChain.Scope scope,
            AsyncExecChain chain, AsyncExecCallback callback) throws HttpException, IOException {
        Object holder = scope.clientContext.getAttribute(CANCEL_ATTRIBUTE);
        if (!(holder instanceof ExchangeCancel)) {
            chain.proceed(request, entity, scope, callback);
            return;
        }
        ExchangeCancel cancel = (ExchangeCancel) holder;
        CancellableDependency outer = scope.cancellableDependency;
        CancellableDependency capturing = new CancellableDependency() {
            @Override
            public void setDependency(Cancellable dependency) {
                cancel.set(dependency);
                outer.setDependency(dependency);
            }

            @Override
            public boolean isCancelled() {
                return outer.isCancelled();
            }

            @Override
            public boolean cancel() {
                return outer.cancel();
            }
        };
        chain.proceed(request, entity, new AsyncExecChain.Scope(scope.exchangeId, scope.route, scope.originalRequest,
                capturing, scope.clientContext, scope.execRuntime, scope.scheduler, scope.execCount), callback);
    }

    /**
     * Collects a response body up to {@code max} bytes. A declared Content-Length over the limit fails
     * before reading; otherwise bytes are counted as they arrive, so that chunked bodies, bodies without a
     * length and lying lengths stop at the limit too. The buffer grows with what arrived, never beyond
     * the limit, so a declared length is not trusted to allocate.
     */
    private static final class BodyConsumer implements AsyncResponseConsumer<Response> {
        private final int max;
        private volatile boolean headersSeen;
        private volatile int status;
        private volatile long received;
        private @Nullable String headerLength;
        private @Nullable FutureCallback<Response> callback;
        private byte[] buffer = EMPTY;
        private int size;

        BodyConsumer(int max) {
            this.max = max;
        }

        boolean headersSeen() {
            return headersSeen;
        }

        int status() {
            return status;
        }

        long received() {
            return received;
        }

        @Override
        public void consumeResponse(HttpResponse response, @Nullable EntityDetails entity, HttpContext context,
                FutureCallback<Response> resultCallback) throws HttpException, IOException {
            status = response.getCode();
            headersSeen = true;
            Header h = response.getFirstHeader(RestCodec.HEADER_LENGTH);
            headerLength = h == null ? null : h.getValue();
            if (entity == null) {
                resultCallback.completed(new Response(status, headerLength, EMPTY));
                return;
            }
            long length = entity.getContentLength();
            if (length > max) {
                throw new TooLarge("response of " + length + " bytes (Content-Length) exceeds maxMessageSize " + max
                        + "; raise maxMessageSize");
            }
            callback = resultCallback;
        }

        @Override
        public void informationResponse(HttpResponse response, HttpContext context) {
            // 1xx: nothing to do
        }

        @Override
        public void updateCapacity(CapacityChannel capacityChannel) throws IOException {
            capacityChannel.update(Integer.MAX_VALUE);
        }

        @Override
        public void consume(ByteBuffer src) throws IOException {
            int n = src.remaining();
            received += n;
            if ((long) size + n > max) {
                throw new TooLarge("response exceeds maxMessageSize " + max + " bytes (" + ((long) size + n)
                        + " read, and more was coming); raise maxMessageSize");
            }
            if (size + n > buffer.length) {
                long grown = Math.max((long) size + n, Math.max(8192L, 2L * buffer.length));
                buffer = Arrays.copyOf(buffer, (int) Math.min(grown, max));
            }
            src.get(buffer, size, n);
            size += n;
        }

        @Override
        public void streamEnd(@Nullable List<? extends Header> trailers) {
            FutureCallback<Response> cb = callback;
            if (cb != null) {
                cb.completed(new Response(status, headerLength, size == buffer.length ? buffer
                        : Arrays.copyOf(buffer, size)));
            }
        }

        @Override
        public void failed(Exception cause) {
            FutureCallback<Response> cb = callback;
            if (cb != null) {
                cb.failed(cause);
            }
        }

        @Override
        public void releaseResources() {
            buffer = EMPTY;
        }
    }
}
