package dev.nearline.triton.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.nearline.triton.internal.GrpcInferenceService;
import dev.nearline.triton.internal.proto.InferTensorContents;
import dev.nearline.triton.internal.proto.ModelConfig;
import dev.nearline.triton.internal.proto.ModelConfigResponse;
import dev.nearline.triton.internal.proto.ModelInferRequest;
import dev.nearline.triton.internal.proto.ModelInferResponse;
import dev.nearline.triton.internal.proto.ModelMetadataResponse;
import dev.nearline.triton.internal.proto.ModelReadyResponse;
import dev.nearline.triton.internal.proto.ServerLiveResponse;
import dev.nearline.triton.internal.proto.ServerMetadataResponse;
import dev.nearline.triton.internal.proto.ServerReadyResponse;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerCredentials;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

/**
 * A small KServe v2 server for tests: REST on the JDK's HttpServer and gRPC on grpc-java's Netty
 * server, both on 127.0.0.1 with ephemeral ports, serving real ONNX models through ONNX Runtime.
 * Implements health, server and model metadata, model readiness and inference with JSON and
 * binary tensor data for every datatype, plus the {@link Faults} switches. Its JSON and binary
 * handling is written independently of the client's codec, from the protocol description. Models are
 * given at start or {@link #load loaded} and {@link #unload unloaded} while it runs; the caller owns
 * and closes them. Closing the server stops both front ends.
 */
public final class KServeTestServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HEADER_LENGTH = "Inference-Header-Content-Length";

    static {
        // The JDK's HttpServer writes a response's headers and body separately and leaves Nagle's
        // algorithm on unless this is set when it first loads: the body then waits for the client's
        // delayed ACK, 40 ms a request on Linux (measured: 44 ms p50 for an mlp record, about 1 ms
        // with it). Set before any server of this JVM starts; an explicit -D setting is kept.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }

    private final Map<String, OrtBackend> models;
    private final Faults faults = new Faults();
    private final AtomicInteger inferCount = new AtomicInteger();
    private final List<String> contentTypes = Collections.synchronizedList(new ArrayList<>());
    private final List<Map<String, String>> headers = Collections.synchronizedList(new ArrayList<>());
    private final List<Integer> clientPorts = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, Integer> maxBatchSizes = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong bytesStreamed = new java.util.concurrent.atomic.AtomicLong();
    private final @Nullable SSLContext tls;
    private final KeyManager @Nullable [] keyManagers;
    private final ExecutorService httpExecutor;
    private final ExecutorService grpcExecutor;
    private HttpServer http;
    private Server grpc;
    private final int restPort;
    private final int grpcPort;

    private KServeTestServer(Map<String, OrtBackend> models, @Nullable SSLContext tls, KeyManager @Nullable [] keyManagers)
            throws IOException {
        this.models = new ConcurrentHashMap<>(models);
        this.tls = tls;
        this.keyManagers = keyManagers;
        this.httpExecutor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "kserve-test-http");
            t.setDaemon(true);
            return t;
        });
        this.grpcExecutor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "kserve-test-grpc");
            t.setDaemon(true);
            return t;
        });
        this.http = startRest(0);
        this.restPort = http.getAddress().getPort();
        this.grpc = startGrpc(0);
        this.grpcPort = grpc.getPort();
    }

    /** Starts a plaintext server for {@code models}. */
    public static KServeTestServer start(Map<String, OrtBackend> models) throws IOException {
        return new KServeTestServer(models, null, null);
    }

    /** Starts an https/TLS server whose certificate comes from {@code keyManagers}. */
    public static KServeTestServer startTls(Map<String, OrtBackend> models, SSLContext tls, KeyManager[] keyManagers)
            throws IOException {
        return new KServeTestServer(models, tls, keyManagers);
    }

    /**
     * Serves {@code model} under its name from now on, replacing a model of the same name. The server
     * does not take ownership: the caller closes the backend after {@link #unload}.
     */
    public void load(OrtBackend model) {
        models.put(model.name(), model);
    }

    /** Stops serving the model {@code name}: requests for it get 404 / NOT_FOUND. */
    public void unload(String name) {
        models.remove(name);
    }

    public Faults faults() {
        return faults;
    }

    /**
     * Serves Triton's model configuration for {@code model} with this {@code max_batch_size} (REST
     * {@code GET .../config}, gRPC {@code ModelConfig}); models without one answer 404 / NOT_FOUND there.
     */
    public void setMaxBatchSize(String model, int maxBatchSize) {
        maxBatchSizes.put(model, maxBatchSize);
    }

    /** Stops serving a model configuration for {@code model}. */
    public void clearMaxBatchSize(String model) {
        maxBatchSizes.remove(model);
    }

    /** Body bytes the REST front end wrote for {@link Faults#floodChunkedBytes} answers so far. */
    public long bytesStreamed() {
        return bytesStreamed.get();
    }

    /** Inference requests received (REST and gRPC), counted before faults apply. */
    public int inferCount() {
        return inferCount.get();
    }

    /** Content-Type of each REST inference request, in arrival order. */
    public List<String> contentTypes() {
        synchronized (contentTypes) {
            return new ArrayList<>(contentTypes);
        }
    }

    /** The client's TCP port of each REST inference request: equal ports mean a reused connection. */
    public List<Integer> clientPorts() {
        synchronized (clientPorts) {
            return new ArrayList<>(clientPorts);
        }
    }

    /** Selected headers (lower-case names) of each inference request. */
    public List<Map<String, String>> requestHeaders() {
        synchronized (headers) {
            return new ArrayList<>(headers);
        }
    }

    public String restUrl() {
        return (tls != null ? "https" : "http") + "://127.0.0.1:" + restPort;
    }

    public String grpcUrl() {
        return (tls != null ? "https" : "http") + "://127.0.0.1:" + grpcPort;
    }

    /** Stops both front ends: clients get connection refused. */
    public void stopServing() throws InterruptedException {
        http.stop(0);
        grpc.shutdownNow();
        grpc.awaitTermination(5, TimeUnit.SECONDS);
    }

    /** Starts both front ends again on the same ports. */
    public void resumeServing() throws IOException {
        http = startRest(restPort);
        grpc = startGrpc(grpcPort);
    }

    @Override
    public void close() {
        faults.reset();
        http.stop(0);
        grpc.shutdownNow();
        try {
            grpc.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        httpExecutor.shutdownNow();
        grpcExecutor.shutdownNow();
    }

    // ------------------------------------------------------------------ REST

    private HttpServer startRest(int port) throws IOException {
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
        HttpServer server;
        if (tls != null) {
            HttpsServer https = HttpsServer.create(address, 64);
            https.setHttpsConfigurator(new HttpsConfigurator(tls));
            server = https;
        } else {
            server = HttpServer.create(address, 64);
        }
        server.createContext("/", this::handleRest);
        server.setExecutor(httpExecutor);
        server.start();
        return server;
    }

    private void handleRest(HttpExchange ex) throws IOException {
        try {
            byte[] body = ex.getRequestBody().readAllBytes();
            String path = ex.getRequestURI().getPath();
            if (path.equals("/v2")) {
                ObjectNode meta = JSON.createObjectNode().put("name", "nearline-kserve-test").put("version", "0");
                ArrayNode ext = meta.putArray("extensions");
                if (!faults.noBinaryExtension) {
                    ext.add("binary_tensor_data");
                }
                if (!faults.plainKServe) {
                    ext.add("model_configuration");
                }
                json(ex, 200, meta);
                return;
            }
            if (path.equals("/v2/health/live") || path.equals("/v2/health/ready")) {
                send(ex, 200, new byte[0], null);
                return;
            }
            if (!path.startsWith("/v2/models/")) {
                error(ex, 404, "unknown path " + path);
                return;
            }
            String[] parts = path.substring("/v2/models/".length()).split("/");
            OrtBackend model = models.get(parts[0]);
            int next = 1;
            if (parts.length > 2 && parts[1].equals("versions")) {
                if (!parts[2].equals("1")) {
                    error(ex, 404, "Request for unknown model: '" + parts[0] + "' version " + parts[2] + " is not found");
                    return;
                }
                next = 3;
            }
            if (model == null) {
                error(ex, 404, "Request for unknown model: '" + parts[0] + "' is not found");
                return;
            }
            String action = parts.length > next ? parts[next] : "";
            switch (action) {
                case "":
                    json(ex, 200, metadata(model));
                    return;
                case "ready":
                    send(ex, 200, new byte[0], null);
                    return;
                case "config": {
                    Integer n = faults.plainKServe ? null : maxBatchSizes.get(model.name());
                    if (n == null) {
                        error(ex, 404, "no model configuration for '" + model.name() + "'");
                    } else {
                        json(ex, 200, JSON.createObjectNode().put("name", model.name())
                                .put("platform", "onnxruntime_onnx").put("max_batch_size", n));
                    }
                    return;
                }
                case "infer":
                    infer(ex, model, body);
                    return;
                default:
                    error(ex, 404, "unknown path " + path);
            }
        } catch (DropConnection e) {
            throw new IOException("dropping the connection (fault)");
        } finally {
            ex.close();
        }
    }

    private static ObjectNode metadata(OrtBackend model) {
        ObjectNode m = JSON.createObjectNode().put("name", model.name()).put("platform", "onnxruntime_onnx");
        m.putArray("versions").add("1");
        ArrayNode in = m.putArray("inputs");
        for (OrtBackend.Meta t : model.inputs()) {
            ObjectNode n = in.addObject().put("name", t.name()).put("datatype", t.datatype());
            ArrayNode s = n.putArray("shape");
            for (long d : t.shape()) {
                s.add(d);
            }
        }
        ArrayNode out = m.putArray("outputs");
        for (OrtBackend.Meta t : model.outputs()) {
            ObjectNode n = out.addObject().put("name", t.name()).put("datatype", t.datatype());
            ArrayNode s = n.putArray("shape");
            for (long d : t.shape()) {
                s.add(d);
            }
        }
        return m;
    }

    private void infer(HttpExchange ex, OrtBackend model, byte[] body) throws IOException {
        inferCount.incrementAndGet();
        String headerLength = ex.getRequestHeaders().getFirst(HEADER_LENGTH);
        contentTypes.add(String.valueOf(ex.getRequestHeaders().getFirst("Content-Type")));
        clientPorts.add(ex.getRemoteAddress().getPort());
        Map<String, String> seen = new LinkedHashMap<>();
        for (String h : List.of("Authorization", "X-Api-Key")) {
            String v = ex.getRequestHeaders().getFirst(h);
            if (v != null) {
                seen.put(h.toLowerCase(), v);
            }
        }
        headers.add(seen);
        faults.arrive();
        if (faults.dropConnection) {
            throw new DropConnection();
        }
        int status = faults.takeStatus();
        if (status != 0) {
            error(ex, status, faults.statusMessage());
            return;
        }
        if (faults.malformedBody) {
            send(ex, 200, "{\"model_name\":\"x\",\"outputs\":[{\"name\":".getBytes(StandardCharsets.UTF_8), null);
            return;
        }
        long flood = faults.floodChunkedBytes;
        if (flood > 0) {
            flood(ex, flood);
            return;
        }
        if (headerLength != null && faults.noBinaryExtension) {
            error(ex, 400, "binary tensor data is not supported by this server");
            return;
        }
        int jsonLength = headerLength == null ? body.length : Integer.parseInt(headerLength);
        JsonNode request = JSON.readTree(new String(body, 0, jsonLength, StandardCharsets.UTF_8));
        List<WireTensor> inputs = new ArrayList<>();
        int pos = jsonLength;
        for (JsonNode in : request.get("inputs")) {
            String datatype = in.get("datatype").asText();
            long[] shape = longs(in.get("shape"));
            JsonNode size = in.path("parameters").get("binary_data_size");
            byte[] data;
            if (size != null) {
                data = Arrays.copyOfRange(body, pos, pos + size.asInt());
                pos += size.asInt();
            } else {
                try {
                    data = fromJson(datatype, in.get("data"));
                } catch (IllegalArgumentException e) {
                    error(ex, 400, e.getMessage());
                    return;
                }
            }
            inputs.add(new WireTensor(in.get("name").asText(), datatype, shape, data));
        }
        boolean allBinary = request.path("parameters").path("binary_data_output").asBoolean(false);
        List<String> wanted = new ArrayList<>();
        Map<String, Boolean> binaryOut = new LinkedHashMap<>();
        if (request.has("outputs")) {
            for (JsonNode o : request.get("outputs")) {
                wanted.add(o.get("name").asText());
                binaryOut.put(o.get("name").asText(), o.path("parameters").path("binary_data").asBoolean(allBinary));
            }
        }
        List<WireTensor> outputs;
        try {
            outputs = model.infer(inputs, wanted);
        } catch (Exception e) {
            error(ex, 400, "onnxruntime: " + e.getMessage());
            return;
        }
        outputs = applyOutputFaults(outputs);
        ObjectNode response = JSON.createObjectNode().put("model_name", model.name()).put("model_version", "1");
        if (request.has("id")) {
            response.put("id", faults.wrongId ? "not-" + request.get("id").asText() : request.get("id").asText());
        }
        ArrayNode outs = response.putArray("outputs");
        List<byte[]> blobs = new ArrayList<>();
        for (WireTensor t : outputs) {
            ObjectNode o = outs.addObject().put("name", t.name()).put("datatype", t.datatype());
            ArrayNode s = o.putArray("shape");
            for (long d : t.shape()) {
                s.add(d);
            }
            if (binaryOut.getOrDefault(t.name(), allBinary)) {
                o.putObject("parameters").put("binary_data_size", t.data().length);
                blobs.add(t.data());
            } else {
                o.set("data", toJson(t.datatype(), t.data()));
            }
        }
        byte[] header = JSON.writeValueAsBytes(response);
        if (blobs.isEmpty()) {
            send(ex, 200, header, null);
            return;
        }
        int total = header.length;
        for (byte[] b : blobs) {
            total += b.length;
        }
        ByteBuffer out = ByteBuffer.allocate(total).put(header);
        for (byte[] b : blobs) {
            out.put(b);
        }
        byte[] bytes = out.array();
        if (faults.truncateBinary) {
            bytes = Arrays.copyOf(bytes, bytes.length - 3);
        }
        send(ex, 200, bytes, header.length);
    }

    /** A chunked 200 answer of {@code total} bytes (a JSON string that never ends), until the client hangs up. */
    private void flood(HttpExchange ex, long total) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(200, 0);
        byte[] chunk = new byte[64 << 10];
        Arrays.fill(chunk, (byte) 'a');
        chunk[0] = '"';
        try (OutputStream os = ex.getResponseBody()) {
            for (long sent = 0; sent < total; sent += chunk.length) {
                os.write(chunk);
                bytesStreamed.addAndGet(chunk.length);
                chunk[0] = 'a';
            }
        }
    }

    private List<WireTensor> applyOutputFaults(List<WireTensor> outputs) {
        if (outputs.isEmpty()) {
            return outputs;
        }
        List<WireTensor> out = new ArrayList<>(outputs);
        WireTensor first = out.get(0);
        if (faults.wrongShape) {
            long[] shape = first.shape().clone();
            shape[shape.length - 1] += 1;
            first = new WireTensor(first.name(), first.datatype(), shape, first.data());
        }
        if (faults.wrongDatatype) {
            first = new WireTensor(first.name(), sameWidthOther(first.datatype()), first.shape(), first.data());
        }
        if (faults.wrongOutputName) {
            first = new WireTensor(first.name() + "_renamed", first.datatype(), first.shape(), first.data());
        }
        if (faults.extraRows && first.shape().length > 0 && first.shape()[0] > 0) {
            long[] shape = first.shape().clone();
            int rowBytes = (int) (first.data().length / shape[0]);
            byte[] row = Arrays.copyOf(first.data(), rowBytes);
            if (first.datatype().equals("FP32")) {
                ByteBuffer b = ByteBuffer.wrap(row).order(ByteOrder.LITTLE_ENDIAN);
                while (b.hasRemaining()) {
                    b.putFloat(999f);
                }
            }
            byte[] data = new byte[first.data().length + rowBytes];
            System.arraycopy(row, 0, data, 0, rowBytes);
            System.arraycopy(first.data(), 0, data, rowBytes, first.data().length);
            shape[0] += 1;
            first = new WireTensor(first.name(), first.datatype(), shape, data);
        }
        out.set(0, first);
        return out;
    }

    private static String sameWidthOther(String datatype) {
        switch (datatype) {
            case "FP32":
                return "INT32";
            case "FP64":
                return "INT64";
            case "INT64":
                return "FP64";
            case "INT32":
                return "FP32";
            case "FP16":
                return "BF16";
            case "BF16":
                return "FP16";
            case "INT16":
                return "FP16";
            case "UINT8":
                return "INT8";
            default:
                return "UINT8";
        }
    }

    private void json(HttpExchange ex, int status, JsonNode body) throws IOException {
        send(ex, status, JSON.writeValueAsBytes(body), null);
    }

    private void error(HttpExchange ex, int status, String message) throws IOException {
        json(ex, status, JSON.createObjectNode().put("error", message));
    }

    private void send(HttpExchange ex, int status, byte[] body, @Nullable Integer headerLength) throws IOException {
        if (headerLength != null) {
            ex.getResponseHeaders().set(HEADER_LENGTH, Integer.toString(headerLength));
            ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
        } else {
            ex.getResponseHeaders().set("Content-Type", "application/json");
        }
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream os = ex.getResponseBody()) {
                int stallAfter = status == 200 ? faults.stallBodyAfterBytes : 0;
                if (stallAfter > 0 && stallAfter < body.length) {
                    os.write(body, 0, stallAfter);
                    os.flush();
                    faults.stallBody();
                    throw new IOException("stalled answer abandoned (fault)");
                }
                os.write(body);
            }
        }
    }

    private static long[] longs(JsonNode array) {
        long[] a = new long[array.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = array.get(i).asLong();
        }
        return a;
    }

    /** JSON elements (flat or nested) to the v2 binary layout. */
    static byte[] fromJson(String datatype, JsonNode data) {
        List<JsonNode> flat = new ArrayList<>();
        flattenJson(data, flat);
        if (datatype.equals("BYTES")) {
            List<byte[]> strings = new ArrayList<>();
            int size = 0;
            for (JsonNode n : flat) {
                byte[] b = n.asText().getBytes(StandardCharsets.UTF_8);
                strings.add(b);
                size += 4 + b.length;
            }
            ByteBuffer out = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
            for (byte[] b : strings) {
                out.putInt(b.length).put(b);
            }
            return out.array();
        }
        int width;
        switch (datatype) {
            case "BOOL":
            case "UINT8":
            case "INT8":
                width = 1;
                break;
            case "INT16":
                width = 2;
                break;
            case "INT32":
            case "FP32":
                width = 4;
                break;
            case "INT64":
            case "FP64":
                width = 8;
                break;
            default:
                throw new IllegalArgumentException(datatype + " has no JSON representation");
        }
        ByteBuffer out = ByteBuffer.allocate(flat.size() * width).order(ByteOrder.LITTLE_ENDIAN);
        for (JsonNode n : flat) {
            switch (datatype) {
                case "BOOL":
                    out.put(n.asBoolean() ? (byte) 1 : 0);
                    break;
                case "UINT8":
                case "INT8":
                    out.put((byte) n.asInt());
                    break;
                case "INT16":
                    out.putShort((short) n.asInt());
                    break;
                case "INT32":
                    out.putInt(n.asInt());
                    break;
                case "INT64":
                    out.putLong(n.asLong());
                    break;
                case "FP32":
                    out.putFloat((float) n.asDouble());
                    break;
                default:
                    out.putDouble(n.asDouble());
            }
        }
        return out.array();
    }

    private static void flattenJson(JsonNode n, List<JsonNode> out) {
        if (n.isArray()) {
            for (JsonNode c : n) {
                flattenJson(c, out);
            }
        } else {
            out.add(n);
        }
    }

    /** The v2 binary layout to a flat JSON array. */
    static ArrayNode toJson(String datatype, byte[] data) {
        ArrayNode a = JSON.createArrayNode();
        ByteBuffer in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        while (in.hasRemaining()) {
            switch (datatype) {
                case "BOOL":
                    a.add(in.get() != 0);
                    break;
                case "UINT8":
                    a.add(in.get() & 0xFF);
                    break;
                case "INT8":
                    a.add(in.get());
                    break;
                case "INT16":
                    a.add(in.getShort());
                    break;
                case "INT32":
                    a.add(in.getInt());
                    break;
                case "INT64":
                    a.add(in.getLong());
                    break;
                case "FP32":
                    a.add(in.getFloat());
                    break;
                case "FP64":
                    a.add(in.getDouble());
                    break;
                case "BYTES": {
                    byte[] s = new byte[in.getInt()];
                    in.get(s);
                    a.add(new String(s, StandardCharsets.UTF_8));
                    break;
                }
                default:
                    throw new IllegalArgumentException(datatype + " has no JSON representation");
            }
        }
        return a;
    }

    /** Thrown inside the REST handler to close the connection without an answer. */
    private static final class DropConnection extends RuntimeException {
        private static final long serialVersionUID = 1L;
    }

    // ------------------------------------------------------------------ gRPC

    private Server startGrpc(int port) throws IOException {
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
        NettyServerBuilder b;
        if (keyManagers != null) {
            ServerCredentials creds = TlsServerCredentials.newBuilder().keyManager(keyManagers).build();
            b = NettyServerBuilder.forAddress(address, creds);
        } else {
            b = NettyServerBuilder.forAddress(address);
        }
        ServerInterceptor recordHeaders = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata md,
                    ServerCallHandler<Q, R> next) {
                if (call.getMethodDescriptor().equals(GrpcInferenceService.MODEL_INFER)) {
                    Map<String, String> seen = new LinkedHashMap<>();
                    for (String h : List.of("authorization", "x-api-key")) {
                        String v = md.get(Metadata.Key.of(h, Metadata.ASCII_STRING_MARSHALLER));
                        if (v != null) {
                            seen.put(h, v);
                        }
                    }
                    headers.add(seen);
                }
                return next.startCall(call, md);
            }
        };
        // Its own named threads, so that tests can tell server threads from the client's grpc-default-executor.
        return b.executor(grpcExecutor).addService(ServerInterceptors.intercept(grpcService(), recordHeaders))
                .maxInboundMessageSize(64 << 20).build().start();
    }

    private ServerServiceDefinition grpcService() {
        return ServerServiceDefinition.builder(GrpcInferenceService.SERVICE)
                .addMethod(GrpcInferenceService.SERVER_LIVE, ServerCalls.asyncUnaryCall(
                        (req, obs) -> reply(obs, ServerLiveResponse.newBuilder().setLive(true).build())))
                .addMethod(GrpcInferenceService.SERVER_READY, ServerCalls.asyncUnaryCall(
                        (req, obs) -> reply(obs, ServerReadyResponse.newBuilder().setReady(true).build())))
                .addMethod(GrpcInferenceService.MODEL_READY, ServerCalls.asyncUnaryCall(
                        (req, obs) -> reply(obs, ModelReadyResponse.newBuilder()
                                .setReady(models.containsKey(req.getName())).build())))
                .addMethod(GrpcInferenceService.SERVER_METADATA, ServerCalls.asyncUnaryCall((req, obs) -> {
                    ServerMetadataResponse.Builder r = ServerMetadataResponse.newBuilder()
                            .setName("nearline-kserve-test").setVersion("0");
                    if (!faults.noBinaryExtension) {
                        r.addExtensions("binary_tensor_data");
                    }
                    if (!faults.plainKServe) {
                        r.addExtensions("model_configuration");
                    }
                    reply(obs, r.build());
                }))
                .addMethod(GrpcInferenceService.MODEL_METADATA, ServerCalls.asyncUnaryCall((req, obs) -> {
                    OrtBackend model = models.get(req.getName());
                    if (model == null) {
                        obs.onError(Status.NOT_FOUND.withDescription("Request for unknown model: '" + req.getName()
                                + "' is not found").asRuntimeException());
                        return;
                    }
                    ModelMetadataResponse.Builder r = ModelMetadataResponse.newBuilder().setName(model.name())
                            .addVersions("1").setPlatform("onnxruntime_onnx");
                    for (OrtBackend.Meta t : model.inputs()) {
                        r.addInputsBuilder().setName(t.name()).setDatatype(t.datatype())
                                .addAllShape(boxed(t.shape()));
                    }
                    for (OrtBackend.Meta t : model.outputs()) {
                        r.addOutputsBuilder().setName(t.name()).setDatatype(t.datatype())
                                .addAllShape(boxed(t.shape()));
                    }
                    reply(obs, r.build());
                }))
                .addMethod(GrpcInferenceService.MODEL_INFER, ServerCalls.asyncUnaryCall(this::grpcInfer))
                .addMethod(GrpcInferenceService.MODEL_CONFIG, ServerCalls.asyncUnaryCall((req, obs) -> {
                    Integer n = maxBatchSizes.get(req.getName());
                    if (faults.plainKServe) {
                        obs.onError(Status.UNIMPLEMENTED.withDescription("Method not found: ModelConfig")
                                .asRuntimeException());
                    } else if (n == null || !models.containsKey(req.getName())) {
                        obs.onError(Status.NOT_FOUND.withDescription("no model configuration for '" + req.getName()
                                + "'").asRuntimeException());
                    } else {
                        reply(obs, ModelConfigResponse.newBuilder().setConfig(ModelConfig.newBuilder()
                                .setName(req.getName()).setPlatform("onnxruntime_onnx").setMaxBatchSize(n)).build());
                    }
                }))
                .build();
    }

    private void grpcInfer(ModelInferRequest req, StreamObserver<ModelInferResponse> obs) {
        inferCount.incrementAndGet();
        faults.arrive();
        int status = faults.takeStatus();
        if (status != 0) {
            Status.Code code = faults.grpcStatus;
            Status s = code != null ? Status.fromCode(code) : status == 503 ? Status.UNAVAILABLE
                    : status == 429 ? Status.RESOURCE_EXHAUSTED : status >= 500 ? Status.INTERNAL : Status.INVALID_ARGUMENT;
            obs.onError(s.withDescription(faults.statusMessage()).asRuntimeException());
            return;
        }
        OrtBackend model = models.get(req.getModelName());
        if (model == null) {
            obs.onError(Status.NOT_FOUND.withDescription("unknown model " + req.getModelName()).asRuntimeException());
            return;
        }
        if (req.getRawInputContentsCount() != req.getInputsCount()) {
            obs.onError(Status.INVALID_ARGUMENT.withDescription("expected raw_input_contents for every input")
                    .asRuntimeException());
            return;
        }
        List<WireTensor> inputs = new ArrayList<>();
        for (int i = 0; i < req.getInputsCount(); i++) {
            ModelInferRequest.InferInputTensor in = req.getInputs(i);
            long[] shape = new long[in.getShapeCount()];
            for (int d = 0; d < shape.length; d++) {
                shape[d] = in.getShape(d);
            }
            inputs.add(new WireTensor(in.getName(), in.getDatatype(), shape, req.getRawInputContents(i).toByteArray()));
        }
        List<String> wanted = new ArrayList<>();
        for (ModelInferRequest.InferRequestedOutputTensor o : req.getOutputsList()) {
            wanted.add(o.getName());
        }
        List<WireTensor> outputs;
        try {
            outputs = applyOutputFaults(model.infer(inputs, wanted));
        } catch (Exception e) {
            obs.onError(Status.INVALID_ARGUMENT.withDescription("onnxruntime: " + e.getMessage()).asRuntimeException());
            return;
        }
        ModelInferResponse.Builder r = ModelInferResponse.newBuilder().setModelName(model.name()).setModelVersion("1")
                .setId(faults.wrongId ? "not-" + req.getId() : req.getId());
        for (int i = 0; i < outputs.size(); i++) {
            WireTensor t = outputs.get(i);
            ModelInferResponse.InferOutputTensor.Builder o = r.addOutputsBuilder().setName(t.name())
                    .setDatatype(t.datatype()).addAllShape(boxed(t.shape()));
            if (faults.typedGrpcOutputs) {
                o.setContents(typed(t));
            } else {
                byte[] data = t.data();
                if (faults.truncateBinary && i == 0) {
                    data = Arrays.copyOf(data, data.length - 3);
                }
                r.addRawOutputContents(ByteString.copyFrom(data));
            }
        }
        reply(obs, r.build());
    }

    private static InferTensorContents typed(WireTensor t) {
        InferTensorContents.Builder c = InferTensorContents.newBuilder();
        ByteBuffer in = ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN);
        while (in.hasRemaining()) {
            switch (t.datatype()) {
                case "BOOL":
                    c.addBoolContents(in.get() != 0);
                    break;
                case "UINT8":
                    c.addUintContents(in.get() & 0xFF);
                    break;
                case "INT8":
                    c.addIntContents(in.get());
                    break;
                case "INT16":
                    c.addIntContents(in.getShort());
                    break;
                case "INT32":
                    c.addIntContents(in.getInt());
                    break;
                case "INT64":
                    c.addInt64Contents(in.getLong());
                    break;
                case "FP32":
                    c.addFp32Contents(in.getFloat());
                    break;
                case "FP64":
                    c.addFp64Contents(in.getDouble());
                    break;
                case "BYTES": {
                    byte[] s = new byte[in.getInt()];
                    in.get(s);
                    c.addBytesContents(ByteString.copyFrom(s));
                    break;
                }
                default:
                    throw new IllegalArgumentException(t.datatype() + " has no typed contents");
            }
        }
        return c.build();
    }

    private static <T> void reply(StreamObserver<T> obs, T value) {
        obs.onNext(value);
        obs.onCompleted();
    }

    private static List<Long> boxed(long[] a) {
        List<Long> l = new ArrayList<>(a.length);
        for (long x : a) {
            l.add(x);
        }
        return l;
    }
}
