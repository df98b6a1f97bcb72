package dev.nearline.triton.internal;

import java.net.URI;
import java.net.http.HttpClient;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What a transport needs to reach one model on one server. Validated by the public builder.
 *
 * @param baseUrl         {@code http(s)://host:port[/prefix]}
 * @param model           model name
 * @param version         model version, empty to let the server choose
 * @param headers         extra headers sent with every request (values may be secrets: never logged)
 * @param connectTimeout  how long to wait for a connection
 * @param httpVersion     HTTP version for REST
 * @param trustStore      certificates to trust for https, or null for the JVM's defaults
 * @param maxMessageBytes largest response accepted
 * @param maxConnections  REST: most connections kept to the server (one per request in flight over HTTP/1.1)
 */
public record TransportConfig(URI baseUrl, String model, String version, Map<String, String> headers,
        Duration connectTimeout, HttpClient.Version httpVersion, @Nullable KeyStore trustStore, int maxMessageBytes,
        int maxConnections) {

    /** Copies the headers. */
    public TransportConfig {
        headers = Map.copyOf(headers);
    }

    /** Everything but the header values and the trust store's content, which may be secrets. */
    @Override
    public String toString() {
        return "TransportConfig[baseUrl=" + baseUrl + ", model=" + model + ", version=" + version + ", headers="
                + headers.keySet() + ", connectTimeout=" + connectTimeout + ", httpVersion=" + httpVersion
                + ", trustStore=" + (trustStore == null ? "default" : "custom") + ", maxMessageBytes=" + maxMessageBytes
                + ", maxConnections=" + maxConnections + "]";
    }

    /** Whether the URL asks for TLS. */
    public boolean tls() {
        return "https".equalsIgnoreCase(baseUrl.getScheme());
    }
}
