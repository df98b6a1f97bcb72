package dev.nearline.triton.internal;

import dev.nearline.api.ModelSignature;
import dev.nearline.api.ScoringException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.function.Function;

/**
 * KServe v2 over HTTP/REST with the JDK's {@link HttpClient}: connections are pooled and reused
 * (HTTP/1.1 keep-alive, or multiplexed with HTTP/2), and requests are asynchronous, so many can
 * be in flight without a thread each. Owns a small daemon executor for response handling, shut
 * down by {@link #close()}.
 */
public final class RestTransport implements Transport {
    private final TransportConfig config;
    private final ExecutorService executor;
    private final HttpClient client;
    private final String serverBase;
    private final String modelBase;
    private final URI inferUri;
    private final RestCodec binaryCodec = new RestCodec(true);
    private final RestCodec jsonCodec = new RestCodec(false);

    /** A transport for {@code config}; opens no connection yet. */
    public RestTransport(TransportConfig config) {
        this.config = config;
        this.executor = DaemonThreads.cachedPool("nearline-triton-http");
        HttpClient.Builder b = HttpClient.newBuilder()
                .version(config.httpVersion())
                .connectTimeout(config.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .executor(executor);
        if (config.tls() && config.trustStore() != null) {
            b.sslContext(Tls.sslContext(config.trustStore()));
        }
        this.client = b.build();
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
        // Each attempt opens or reuses a connection as it goes: there is no stale state to wait out.
        return (timeout, waitForConnection) -> {
            HttpRequest.Builder b = request(inferUri, timeout)
                    .header("Content-Type", encoded.contentType())
                    .POST(HttpRequest.BodyPublishers.ofByteArray(encoded.body()));
            if (encoded.headerLength() >= 0) {
                b.header(RestCodec.HEADER_LENGTH, Integer.toString(encoded.headerLength()));
            }
            return send(b.build(), timeout).thenApply(response -> {
                if (response.statusCode() != 200) {
                    throw statusFailure(response.statusCode(), response.body());
                }
                return codec.decode(response.body(),
                        response.headers().firstValue(RestCodec.HEADER_LENGTH).orElse(null), layout, id);
            });
        };
    }

    @Override
    public void resetConnectBackoff() {
        // The JDK client opens a new connection per attempt after a failure: nothing to reset.
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }

    private <T> CompletableFuture<T> get(String uri, Duration timeout, Function<byte[], T> parse) {
        return send(request(URI.create(uri), timeout).GET().build(), timeout).thenApply(response -> {
            if (response.statusCode() != 200) {
                throw statusFailure(response.statusCode(), response.body());
            }
            return parse.apply(response.body());
        });
    }

    private CompletableFuture<Boolean> probe(String uri, Duration timeout) {
        return send(request(URI.create(uri), timeout).GET().build(), timeout)
                .thenApply(response -> response.statusCode() == 200);
    }

    private HttpRequest.Builder request(URI uri, Duration timeout) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(timeout);
        for (Map.Entry<String, String> h : config.headers().entrySet()) {
            b.header(h.getKey(), h.getValue());
        }
        return b;
    }

    private CompletableFuture<HttpResponse<byte[]>> send(HttpRequest request, Duration timeout) {
        CompletableFuture<HttpResponse<byte[]>> sent;
        try {
            sent = client.sendAsync(request, this::bodyHandler);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(
                    RemoteFailure.definite(ScoringException.Kind.INTERNAL, "cannot send request: " + e, e));
        }
        return sent.handle((response, error) -> {
            if (error != null) {
                throw ioFailure(Caller.unwrap(error), timeout);
            }
            return response;
        });
    }

    private HttpResponse.BodySubscriber<byte[]> bodyHandler(HttpResponse.ResponseInfo info) {
        long length = info.headers().firstValueAsLong("content-length").orElse(-1);
        if (length > config.maxMessageBytes()) {
            return HttpResponse.BodySubscribers.mapping(HttpResponse.BodySubscribers.discarding(), ignored -> {
                throw RemoteFailure.definite(ScoringException.Kind.INTERNAL, "response of " + length
                        + " bytes exceeds maxMessageSize " + config.maxMessageBytes(), null);
            });
        }
        return HttpResponse.BodySubscribers.ofByteArray();
    }

    private RemoteFailure ioFailure(Throwable t, Duration timeout) {
        if (t instanceof RemoteFailure) {
            return (RemoteFailure) t;
        }
        if (t instanceof HttpConnectTimeoutException) {
            return RemoteFailure.unavailable("could not connect within " + config.connectTimeout().toMillis() + "ms", t);
        }
        if (t instanceof HttpTimeoutException) {
            return RemoteFailure.timeout("no answer within " + timeout.toMillis() + "ms", t);
        }
        if (t instanceof ConnectException) {
            return RemoteFailure.unavailable("cannot connect (" + t + ")", t);
        }
        if (t instanceof IOException) {
            return RemoteFailure.unavailable("connection failed (" + t + ")", t);
        }
        return RemoteFailure.definite(ScoringException.Kind.INTERNAL, "HTTP client failure (" + t + ")", t);
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
                return RemoteFailure.timeout(message, null);
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
}
