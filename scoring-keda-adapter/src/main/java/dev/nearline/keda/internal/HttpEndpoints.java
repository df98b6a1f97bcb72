package dev.nearline.keda.internal;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The worker's HTTP endpoints on the JDK's built-in server: {@code GET /health/live},
 * {@code GET /health/ready} (200 or 503) and {@code GET /metrics} (Prometheus text). One thread; the
 * caller closes it.
 */
public final class HttpEndpoints implements AutoCloseable {
    /** Path of the liveness probe. */
    public static final String LIVE = "/health/live";
    /** Path of the readiness probe. */
    public static final String READY = "/health/ready";
    /** Path of the Prometheus scrape. */
    public static final String METRICS = "/metrics";

    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private final HttpServer server;
    private final ExecutorService executor;

    private HttpEndpoints(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /**
     * Starts serving on {@code port} (0 picks a free one) on all interfaces.
     *
     * @throws UncheckedIOException if the port cannot be bound
     */
    public static HttpEndpoints start(int port, BooleanSupplier live, BooleanSupplier ready, Supplier<String> metrics) {
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(port), 16);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on port " + port + " for health and metrics: " + e, e);
        }
        server.createContext(LIVE, ex -> probe(ex, live.getAsBoolean(), "live"));
        server.createContext(READY, ex -> probe(ex, ready.getAsBoolean(), "ready"));
        server.createContext(METRICS, ex -> {
            if (!onlyGet(ex)) {
                return;
            }
            String path = ex.getRequestURI().getPath();
            if (!path.equals(METRICS)) {
                send(ex, 404, "text/plain; charset=utf-8", "not found\n");
                return;
            }
            send(ex, 200, PROMETHEUS_TEXT, metrics.get());
        });
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "nearline-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.start();
        return new HttpEndpoints(server, executor);
    }

    /** The bound port. */
    public int port() {
        return server.getAddress().getPort();
    }

    /** Stops serving at once. */
    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    private static void probe(HttpExchange ex, boolean ok, String what) throws IOException {
        if (!onlyGet(ex)) {
            return;
        }
        send(ex, ok ? 200 : 503, "text/plain; charset=utf-8", ok ? what + "\n" : "not " + what + "\n");
    }

    private static boolean onlyGet(HttpExchange ex) throws IOException {
        if (ex.getRequestMethod().equals("GET") || ex.getRequestMethod().equals("HEAD")) {
            return true;
        }
        ex.getResponseHeaders().set("Allow", "GET, HEAD");
        send(ex, 405, "text/plain; charset=utf-8", "method not allowed\n");
        return false;
    }

    private static void send(HttpExchange ex, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", contentType);
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(status, head ? -1 : bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            if (!head) {
                out.write(bytes);
            }
        }
    }
}
