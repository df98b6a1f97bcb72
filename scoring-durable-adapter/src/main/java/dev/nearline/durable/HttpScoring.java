package dev.nearline.durable;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.microsoft.azure.functions.ExecutionContext;
import com.microsoft.azure.functions.HttpRequestMessage;
import com.microsoft.azure.functions.HttpResponseMessage;
import com.microsoft.azure.functions.HttpStatus;
import dev.nearline.api.Scorer;
import dev.nearline.api.ScoringException;
import dev.nearline.core.internal.wire.QueueReply;
import dev.nearline.core.internal.wire.TraceContext;
import dev.nearline.core.internal.wire.Wire;
import dev.nearline.durable.internal.Correlation;
import dev.nearline.durable.internal.Headers;
import dev.nearline.durable.internal.Json;
import java.time.Duration;
import java.util.Optional;
import java.util.logging.Level;
import org.jspecify.annotations.Nullable;
import org.slf4j.MDC;

/**
 * The single-record HTTP function: a JSON record in the request body, the scorer's result out.
 *
 * <table>
 *   <caption>Answers</caption>
 *   <tr><th>status</th><th>when</th><th>body</th></tr>
 *   <tr><td>200</td><td>scored</td><td>{@code {"status":"OK","output":<result>,"timing":{"queuedMs":-1,"scoreMicros":s,"totalMicros":t}}}</td></tr>
 *   <tr><td>400</td><td>{@code INVALID_INPUT}: empty or malformed JSON, or a record the pipeline rejects</td>
 *       <td>{@code {"status":"ERROR","error":{"kind":"INVALID_INPUT","message":<the reason>}}}</td></tr>
 *   <tr><td>413</td><td>body larger than {@value FunctionsSettings#MAX_REQUEST_BYTES}</td><td>error, kind INVALID_INPUT</td></tr>
 *   <tr><td>503 + {@code Retry-After}</td><td>{@code OVERLOADED} or {@code UNAVAILABLE}</td><td>error</td></tr>
 *   <tr><td>504</td><td>{@code DEADLINE_EXCEEDED}</td><td>error</td></tr>
 *   <tr><td>500</td><td>{@code INTERNAL}, including a pipeline that cannot be loaded</td><td>error without
 *       internals; the function log has the cause under the correlation id</td></tr>
 * </table>
 *
 * <p>Every answer carries the correlation id in the header named by
 * {@value FunctionsSettings#CORRELATION_HEADER}: the caller's, when it sent a loggable one, else the
 * invocation id. The id is in the SLF4J MDC under {@code correlationId} while the record is scored.
 *
 * <p>Every answer also carries a W3C {@code traceparent} header (and the request's {@code tracestate}, when it
 * had a valid one): the request's {@code traceparent} continued with a new span id for this invocation, or a
 * new trace when the request had none or a malformed one, as the queue worker does for its replies. The
 * trace id and span id are in the MDC under {@code traceId} and {@code spanId} while the record is scored.
 * Thread-safe; obtained from {@link NearlineFunctions#http()}.
 */
public final class HttpScoring {
    private final NearlineFunctions runtime;

    HttpScoring(NearlineFunctions runtime) {
        this.runtime = runtime;
    }

    /** Scores the record in the request body; never throws for a bad record or a failed scorer. */
    public HttpResponseMessage score(HttpRequestMessage<Optional<String>> request, ExecutionContext context) {
        FunctionsSettings settings = runtime.settings();
        try (Correlation correlation = Correlation.open(request.getHeaders(), settings.correlationHeader(),
                context.getInvocationId())) {
            String id = correlation.id();
            TraceContext trace = TraceContext.continueFrom(request.getHeaders());
            MDC.put("traceId", trace.traceId());
            MDC.put("spanId", trace.spanId());
            try {
                return score(request, context, settings, id, trace);
            } finally {
                MDC.remove("traceId");
                MDC.remove("spanId");
            }
        }
    }

    private HttpResponseMessage score(HttpRequestMessage<Optional<String>> request, ExecutionContext context,
                                      FunctionsSettings settings, String id, TraceContext trace) {
        long received = runtime.ticker().read();
        String tooLarge = checkSize(request, settings.maxRequestBytes(), FunctionsSettings.MAX_REQUEST_BYTES);
        if (tooLarge != null) {
            return answer(request, HttpStatus.PAYLOAD_TOO_LARGE, QueueReply.error(ScoringException.Kind.INVALID_INPUT, tooLarge), id, trace);
        }
        String body = body(request);
        if (body == null) {
            return answer(request, HttpStatus.BAD_REQUEST, QueueReply.error(ScoringException.Kind.INVALID_INPUT,
                    "request body is empty; send one JSON record"), id, trace);
        }
        JsonNode record;
        try {
            record = Json.parse(body);
        } catch (JsonProcessingException e) {
            return answer(request, HttpStatus.BAD_REQUEST, QueueReply.error(ScoringException.Kind.INVALID_INPUT,
                    "request body is not valid JSON: " + Wire.jsonError(e)), id, trace);
        }
        try {
            Scorer<Object, Object> scorer = runtime.scorer();
            Optional<Duration> timeout = settings.httpTimeout();
            long start = runtime.ticker().read();
            Object output = timeout.isPresent() ? scorer.score(record, timeout.get()) : scorer.score(record);
            long scored = runtime.ticker().read();
            runtime.recordFirst(scored - start);
            QueueReply.Timing timing = new QueueReply.Timing(QueueReply.Timing.UNKNOWN, (scored - start) / 1_000,
                    (scored - received) / 1_000);
            return answer(request, HttpStatus.OK, QueueReply.ok(output, timing), id, trace);
        } catch (ScoringException e) {
            return failure(request, context, e, id, trace);
        } catch (RuntimeException e) {
            return failure(request, context, new ScoringException(ScoringException.Kind.INTERNAL,
                    "unexpected " + e.getClass().getName() + ": " + e.getMessage(), e), id, trace);
        }
    }

    private HttpResponseMessage failure(HttpRequestMessage<?> request, ExecutionContext context, ScoringException e,
                                        String id, TraceContext trace) {
        ScoringException.Kind kind = e.kind();
        HttpStatus status = statusOf(kind);
        String message = e.getMessage();
        if (kind == ScoringException.Kind.INTERNAL) {
            context.getLogger().log(Level.SEVERE, "[correlationId=" + id + "] scoring failed: " + e, e);
            message = "internal error; the function log has the details under correlation id " + id;
        } else if (kind != ScoringException.Kind.INVALID_INPUT) {
            context.getLogger().warning("[correlationId=" + id + "] " + e);
        }
        HttpResponseMessage.Builder b = withTrace(request.createResponseBuilder(status), trace)
                .header("Content-Type", "application/json")
                .header(runtime.settings().correlationHeader(), id)
                .body(Json.write(QueueReply.error(kind, message)));
        if (status == HttpStatus.SERVICE_UNAVAILABLE) {
            b.header("Retry-After", Long.toString(Math.max(1, runtime.settings().retryAfter().toSeconds())));
        }
        return b.build();
    }

    private HttpResponseMessage answer(HttpRequestMessage<?> request, HttpStatus status, ObjectNode body, String id,
                                       TraceContext trace) {
        return withTrace(request.createResponseBuilder(status), trace)
                .header("Content-Type", "application/json")
                .header(runtime.settings().correlationHeader(), id)
                .body(Json.write(body))
                .build();
    }

    /** {@code traceparent}, and {@code tracestate} when the request had one, on the answer. */
    private static HttpResponseMessage.Builder withTrace(HttpResponseMessage.Builder b, TraceContext trace) {
        trace.replyProperties().forEach(b::header);
        return b;
    }

    /** The HTTP status for a failure of {@code kind}. */
    static HttpStatus statusOf(ScoringException.Kind kind) {
        switch (kind) {
            case INVALID_INPUT:
                return HttpStatus.BAD_REQUEST;
            case DEADLINE_EXCEEDED:
                return HttpStatus.GATEWAY_TIMEOUT;
            case OVERLOADED:
            case UNAVAILABLE:
                return HttpStatus.SERVICE_UNAVAILABLE;
            default:
                return HttpStatus.INTERNAL_SERVER_ERROR;
        }
    }

    /** The request body, or null when absent or blank. */
    static @Nullable String body(HttpRequestMessage<Optional<String>> request) {
        Optional<String> body = request.getBody();
        if (body == null || body.isEmpty() || body.get().isBlank()) {
            return null;
        }
        return body.get();
    }

    /**
     * Why the request is too large (by its {@code Content-Length}, else by the body it carries), or null
     * when it is within {@code limit} bytes.
     */
    static @Nullable String checkSize(HttpRequestMessage<Optional<String>> request, long limit, String setting) {
        long size = -1;
        String declared = Headers.get(request.getHeaders(), "Content-Length");
        if (declared != null) {
            try {
                size = Long.parseLong(declared.trim());
            } catch (NumberFormatException e) {
                size = -1;
            }
        }
        if (size <= limit) {
            Optional<String> body = request.getBody();
            size = body == null || body.isEmpty() ? 0 : utf8Length(body.get());
        }
        return size > limit ? "request body has " + size + " bytes, more than the limit of " + limit + " (app setting "
                + setting + ")" : null;
    }

    private static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }
}
