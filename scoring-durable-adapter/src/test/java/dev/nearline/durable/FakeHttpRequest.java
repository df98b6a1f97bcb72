package dev.nearline.durable;

import com.microsoft.azure.functions.HttpMethod;
import com.microsoft.azure.functions.HttpRequestMessage;
import com.microsoft.azure.functions.HttpResponseMessage;
import com.microsoft.azure.functions.HttpStatus;
import com.microsoft.azure.functions.HttpStatusType;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * An HTTP request as the Functions host would hand it to a function. This is the one stand-in in
 * these tests: the Functions host (and Core Tools, which downloads it) cannot run on this machine, so
 * the tests build the request themselves and call the function bodies directly. Everything behind the
 * request (the scorer, ONNX Runtime, the durable engine) is real.
 */
final class FakeHttpRequest implements HttpRequestMessage<Optional<String>> {
    private final HttpMethod method;
    private final URI uri;
    private final @Nullable String body;
    private final Map<String, String> headers = new LinkedHashMap<>();
    private final Map<String, String> query = new LinkedHashMap<>();

    private FakeHttpRequest(HttpMethod method, URI uri, @Nullable String body) {
        this.method = method;
        this.uri = uri;
        this.body = body;
    }

    static FakeHttpRequest post(String path, @Nullable String body) {
        return new FakeHttpRequest(HttpMethod.POST, URI.create("https://nearline-app.azurewebsites.net" + path), body);
    }

    static FakeHttpRequest get(String path) {
        return new FakeHttpRequest(HttpMethod.GET, URI.create("https://nearline-app.azurewebsites.net" + path), null);
    }

    FakeHttpRequest header(String name, String value) {
        headers.put(name, value);
        return this;
    }

    @Override
    public URI getUri() {
        return uri;
    }

    @Override
    public HttpMethod getHttpMethod() {
        return method;
    }

    @Override
    public Map<String, String> getHeaders() {
        return headers;
    }

    @Override
    public Map<String, String> getQueryParameters() {
        return query;
    }

    @Override
    public Optional<String> getBody() {
        return Optional.ofNullable(body);
    }

    @Override
    public HttpResponseMessage.Builder createResponseBuilder(HttpStatus status) {
        return new Response.Builder(status);
    }

    @Override
    public HttpResponseMessage.Builder createResponseBuilder(HttpStatusType status) {
        return new Response.Builder(status);
    }

    /** The response a function builds; headers compare ignoring case, as HTTP's do. */
    static final class Response implements HttpResponseMessage {
        private final HttpStatusType status;
        private final Map<String, String> headers;
        private final @Nullable Object body;

        private Response(HttpStatusType status, Map<String, String> headers, @Nullable Object body) {
            this.status = status;
            this.headers = headers;
            this.body = body;
        }

        @Override
        public HttpStatusType getStatus() {
            return status;
        }

        @Override
        public @Nullable String getHeader(String name) {
            return headers.get(name);
        }

        @Override
        public @Nullable Object getBody() {
            return body;
        }

        static final class Builder implements HttpResponseMessage.Builder {
            private HttpStatusType status;
            private final Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            private @Nullable Object body;

            Builder(HttpStatusType status) {
                this.status = status;
            }

            @Override
            public HttpResponseMessage.Builder status(HttpStatusType status) {
                this.status = status;
                return this;
            }

            @Override
            public HttpResponseMessage.Builder header(String name, String value) {
                headers.put(name, value);
                return this;
            }

            @Override
            public HttpResponseMessage.Builder body(Object body) {
                this.body = body;
                return this;
            }

            @Override
            public HttpResponseMessage build() {
                return new Response(status, headers, body);
            }
        }
    }
}
