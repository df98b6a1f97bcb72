package dev.nearline.triton;

import dev.nearline.api.Batching;
import dev.nearline.api.Model;
import dev.nearline.api.spi.ModelProvider;
import dev.nearline.api.spi.Settings;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code triton} model type: a pipeline step such as
 * {@code {"type": "triton", "url": "http://triton:8000", "model": "fraud"}} becomes a
 * {@link TritonModel}. Keys (all but {@code url} and {@code model} optional):
 *
 * <ul>
 *   <li>{@code url}: server base URL, {@code http(s)://host:port} (REST 8000, gRPC 8001 on Triton);</li>
 *   <li>{@code model}, {@code version}: model name and version;</li>
 *   <li>{@code protocol}: {@code rest} (default) or {@code grpc};</li>
 *   <li>{@code binary}: REST binary tensor data (default true);</li>
 *   <li>{@code httpVersion}: {@code 1.1} (default) or {@code 2};</li>
 *   <li>{@code timeout}, {@code connectTimeout}: durations such as {@code "250ms"};</li>
 *   <li>{@code headers}: object of strings; {@code bearerToken}: string;</li>
 *   <li>{@code maxInFlight}, {@code maxMessageSize} (bytes): integers;</li>
 *   <li>{@code batchAxis}: {@code 0} or {@code "none"}, the model's batching when the server has no
 *       model configuration (see {@link TritonModel.Builder#batching});</li>
 *   <li>{@code retries} (integer), {@code retryBackoff}, {@code retryMaxBackoff} (durations);</li>
 *   <li>{@code circuitBreaker}: {@code {"failureThreshold": 5, "openDuration": "5s"}}, threshold 0 disables;</li>
 *   <li>{@code tls}: {@code {"trustStore": "ca.p12", "trustStorePassword": "...", "trustStoreType": "PKCS12"}}.</li>
 * </ul>
 *
 * <p>A cheap descriptor: the constructor does nothing; {@link #create} connects and reads metadata.
 */
public final class TritonModelProvider implements ModelProvider {

    /** Creates the provider; {@link java.util.ServiceLoader} calls this. */
    public TritonModelProvider() {
    }

    /** {@code triton}. */
    @Override
    public String type() {
        return "triton";
    }

    /**
     * Builds a {@link TritonModel} from the step's settings.
     *
     * @throws IllegalArgumentException naming the JSON path of a bad setting
     * @throws dev.nearline.api.ScoringException when the server or model cannot be reached
     */
    @Override
    public Model create(Settings settings) {
        URI url = url(settings);
        String model = settings.string("model");
        if (model.isBlank()) {
            throw settings.error("model", "is empty");
        }
        TritonModel.Builder b = apply(settings, "url", () -> TritonModel.builder(url, model));
        String version = settings.string("version", null);
        if (version != null) {
            apply(settings, "version", () -> b.modelVersion(version));
        }
        String protocol = settings.choice("protocol", "rest", "rest", "grpc");
        b.protocol(protocol.toLowerCase(Locale.ROOT).equals("grpc") ? TritonModel.Protocol.GRPC : TritonModel.Protocol.REST);
        if (settings.has("binary")) {
            b.binaryData(settings.bool("binary", true));
        }
        if (settings.has("httpVersion")) {
            String v = settings.choice("httpVersion", "1.1", "1.1", "2");
            b.httpVersion(v.equals("2") ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1);
        }
        Duration timeout = settings.duration("timeout", null);
        if (timeout != null) {
            apply(settings, "timeout", () -> b.requestTimeout(timeout));
        }
        Duration connectTimeout = settings.duration("connectTimeout", null);
        if (connectTimeout != null) {
            apply(settings, "connectTimeout", () -> b.connectTimeout(connectTimeout));
        }
        if (settings.has("headers")) {
            Map<String, String> headers = settings.stringMap("headers");
            apply(settings, "headers", () -> b.headers(headers));
        }
        String token = settings.string("bearerToken", null);
        if (token != null) {
            apply(settings, "bearerToken", () -> b.bearerToken(token));
        }
        if (settings.has("maxInFlight")) {
            int n = settings.integer("maxInFlight");
            apply(settings, "maxInFlight", () -> b.maxInFlight(n));
        }
        if (settings.has("maxMessageSize")) {
            int n = settings.integer("maxMessageSize");
            apply(settings, "maxMessageSize", () -> b.maxMessageSize(n));
        }
        if (settings.has("batchAxis")) {
            Batching batching = batchAxis(settings);
            apply(settings, "batchAxis", () -> b.batching(batching));
        }
        if (settings.has("retries") || settings.has("retryBackoff") || settings.has("retryMaxBackoff")) {
            RetryPolicy d = RetryPolicy.defaults();
            int retries = settings.integer("retries", d.maxRetries());
            Duration initial = settings.duration("retryBackoff", d.initialBackoff());
            Duration max = settings.duration("retryMaxBackoff", null);
            Duration cap = max != null ? max : initial.compareTo(d.maxBackoff()) > 0 ? initial : d.maxBackoff();
            apply(settings, "retries", () -> b.retry(new RetryPolicy(retries, initial, cap)));
        }
        Settings cb = settings.optionalObject("circuitBreaker");
        if (cb != null) {
            CircuitBreakerPolicy d = CircuitBreakerPolicy.defaults();
            int threshold = cb.integer("failureThreshold", d.failureThreshold());
            Duration open = cb.duration("openDuration", d.openDuration());
            apply(settings, "circuitBreaker", () -> b.circuitBreaker(new CircuitBreakerPolicy(threshold, open)));
        }
        Settings tls = settings.optionalObject("tls");
        if (tls != null) {
            KeyStore trustStore = trustStore(tls);
            b.trustStore(trustStore);
        }
        return apply(settings, "url", b::build);
    }

    /** {@code "batchAxis": 0} or {@code "batchAxis": "none"}. */
    private static Batching batchAxis(Settings settings) {
        int axis;
        try {
            axis = settings.integer("batchAxis");
        } catch (IllegalArgumentException notAnInteger) {
            settings.choice("batchAxis", "none", "none");
            return Batching.none();
        }
        if (axis < 0) {
            throw settings.error("batchAxis", "expected 0 or \"none\", got " + axis);
        }
        return Batching.alongAxis(axis);
    }

    private static URI url(Settings settings) {
        String url = settings.string("url");
        try {
            return new URI(url);
        } catch (URISyntaxException e) {
            // URISyntaxException's message repeats the input, which may hold credentials: give the reason and index only.
            throw settings.error("url", "not a URL (" + e.getReason() + " at index " + e.getIndex() + ")");
        }
    }

    private static KeyStore trustStore(Settings tls) {
        Path path = tls.file("trustStore");
        String password = tls.string("trustStorePassword", null);
        String type = tls.string("trustStoreType", "PKCS12");
        try (InputStream in = Files.newInputStream(path)) {
            KeyStore ks = KeyStore.getInstance(type);
            ks.load(in, password == null ? null : password.toCharArray());
            return ks;
        } catch (IOException | GeneralSecurityException e) {
            // The message names the file, never the password.
            throw tls.error("trustStore", "cannot read " + type + " trust store " + path + ": " + e.getMessage());
        }
    }

    /** Runs a builder step, turning its IllegalArgumentException into one that names the JSON path of {@code key}. */
    private static <T> T apply(Settings settings, String key, Step<T> step) {
        try {
            return step.run();
        } catch (IllegalArgumentException e) {
            throw settings.error(key, e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    @FunctionalInterface
    private interface Step<T> {
        T run();
    }
}
