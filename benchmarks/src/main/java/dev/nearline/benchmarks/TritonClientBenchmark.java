package dev.nearline.benchmarks;

import com.google.protobuf.ByteString;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.onnx.OnnxModel;
import dev.nearline.triton.TritonModel;
import dev.nearline.triton.internal.GrpcCodec;
import dev.nearline.triton.internal.RestCodec;
import dev.nearline.triton.internal.proto.ModelInferResponse;
import dev.nearline.triton.server.KServeTestServer;
import dev.nearline.triton.server.OrtBackend;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * What the Triton (KServe v2) client costs per record, on the {@code mlp} model ({@code input} FP32
 * [1, 256] → {@code probabilities} FP32 [1, 10]; see {@link BenchModel}), one caller thread.
 *
 * <ul>
 *   <li>{@code codecRestJson}, {@code codecRestBinary}, {@code codecGrpc}: the client's own work on the
 *       wire format, no I/O. Encode the record into the bytes that would be sent (for gRPC including
 *       the protobuf serialization grpc-java's marshaller does), and decode a response prepared in
 *       setup from those bytes (for gRPC including the protobuf parse) into the output tensors.</li>
 *   <li>{@code loopbackRestBinary}, {@code loopbackRestJson}, {@code loopbackGrpc}:
 *       {@link TritonModel#predict} end to end over 127.0.0.1 against the KServe v2 test server of
 *       scoring-triton-client's test jar, running in this JVM and serving the same {@code .onnx} file
 *       through ONNX Runtime with the same session settings ({@link Settings}).</li>
 *   <li>{@code inProcessOnnx}: {@link OnnxModel#predict} on that file, the in-process alternative.</li>
 * </ul>
 *
 * <p>Why: switching a pipeline step from {@code onnx} to {@code triton} is one line; this says what
 * the network hop and the wire format cost on top of the model, and which format to pick. The trial
 * fails at setup unless the four end-to-end contenders return identical outputs. Server and client
 * share the JVM and its cores, so {@code -prof gc}'s bytes per operation for the loopback methods
 * include the server's allocation; the codec methods' are the client's alone. The end-to-end methods
 * warm up for 20 s instead of 5: the JDK's HTTP client and server reach their steady state only after
 * about 20 s of calls, Netty after about 6 (measured, average time per 2 s iteration: REST binary 4.0,
 * 1.9, 1.4, ... 0.9 ms, then 0.7-0.8; gRPC 2.0, 0.5, then 0.4-0.48 ms).
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar TritonClientBenchmark -f 1 -wi 3 -i 5 -prof gc -rf json
 * </pre>
 */
@BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 2)
public class TritonClientBenchmark {
    private static final String MODEL = "mlp";
    private static final String REQUEST_ID = "1";

    /** The record, the signature and the codecs, with response bodies for the record's outputs. */
    @State(Scope.Benchmark)
    public static class Codecs {
        ModelSignature signature;
        Tensors record;
        RestCodec json;
        RestCodec binary;
        GrpcCodec grpc;
        byte[] jsonResponse;
        byte[] binaryResponse;
        String binaryHeaderLength;
        byte[] grpcResponse;

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            Path dir = TempFiles.tempDir("nearline-triton-codecs-");
            Tensor output;
            try (OnnxModel onnx = NearlinePipeline.onnxModel(BenchModel.MLP.write(dir))) {
                signature = onnx.signature();
                record = Tensors.of(BenchModel.INPUT, Tensor.ofFloats(BenchModel.MLP.record(), BenchModel.MLP.recordShape()));
                output = onnx.predict(record).require(BenchModel.MLP.output);
            } finally {
                TempFiles.deleteTree(dir);
            }
            json = new RestCodec(false);
            binary = new RestCodec(true);
            grpc = new GrpcCodec(MODEL, "");
            respond(output);
            // What each contender decodes must be the real output, or the comparison means nothing.
            for (Tensors decoded : new Tensors[] {decodeJson(this), decodeBinary(this), decodeGrpc(this)}) {
                if (!decoded.require(BenchModel.MLP.output).equals(output)) {
                    throw new IllegalStateException("a prepared response does not decode to the model's output");
                }
            }
        }

        /** Response bodies as a KServe v2 server writes them for {@code output}. */
        private void respond(Tensor output) {
            String name = BenchModel.MLP.output;
            String head = "{\"id\":\"" + REQUEST_ID + "\",\"model_name\":\"" + MODEL + "\",\"model_version\":\"1\","
                    + "\"outputs\":[{\"name\":\"" + name + "\",\"datatype\":\"FP32\",\"shape\":[1," + output.size() + "],";
            StringBuilder data = new StringBuilder("\"data\":[");
            for (int i = 0; i < output.size(); i++) {
                data.append(i == 0 ? "" : ",").append(output.floatAt(i));
            }
            jsonResponse = (head + data + "]}]}").getBytes(StandardCharsets.UTF_8);

            ByteBuffer le = ByteBuffer.allocate((int) output.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
            output.writeLittleEndian(le);
            byte[] header = (head + "\"parameters\":{\"binary_data_size\":" + le.capacity() + "}}]}")
                    .getBytes(StandardCharsets.UTF_8);
            binaryResponse = ByteBuffer.allocate(header.length + le.capacity()).put(header).put(le.array()).array();
            binaryHeaderLength = Integer.toString(header.length);

            ModelInferResponse.Builder r = ModelInferResponse.newBuilder().setModelName(MODEL).setModelVersion("1")
                    .setId(REQUEST_ID);
            r.addOutputsBuilder().setName(name).setDatatype("FP32").addShape(1).addShape(output.size());
            r.addRawOutputContents(ByteString.copyFrom(le.array()));
            grpcResponse = r.build().toByteArray();
        }
    }

    @Benchmark
    public Tensors codecRestJson(Codecs c, Blackhole bh) {
        bh.consume(c.json.encode(REQUEST_ID, c.signature, c.record).body());
        return decodeJson(c);
    }

    @Benchmark
    public Tensors codecRestBinary(Codecs c, Blackhole bh) {
        bh.consume(c.binary.encode(REQUEST_ID, c.signature, c.record).body());
        return decodeBinary(c);
    }

    @Benchmark
    public Tensors codecGrpc(Codecs c, Blackhole bh) throws IOException {
        bh.consume(c.grpc.encode(REQUEST_ID, c.signature, c.record).toByteArray());
        return decodeGrpc(c);
    }

    static Tensors decodeJson(Codecs c) {
        return c.json.decode(c.jsonResponse, null, c.signature, c.record);
    }

    static Tensors decodeBinary(Codecs c) {
        return c.binary.decode(c.binaryResponse, c.binaryHeaderLength, c.signature, c.record);
    }

    static Tensors decodeGrpc(Codecs c) throws IOException {
        return c.grpc.decode(ModelInferResponse.parseFrom(c.grpcResponse), c.signature, c.record);
    }

    /** The test server serving {@code mlp}, a client per wire format, and the same model in-process. */
    @State(Scope.Benchmark)
    public static class Loopback {
        Path dir;
        OrtBackend backend;
        KServeTestServer server;
        TritonModel restBinary;
        TritonModel restJson;
        TritonModel grpc;
        OnnxModel onnx;
        Tensors record;

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            dir = TempFiles.tempDir("nearline-triton-loopback-");
            Path file = BenchModel.MLP.write(dir);
            backend = new OrtBackend(MODEL, file, Settings.INTRA_OP_THREADS);
            server = KServeTestServer.start(Map.of(MODEL, backend));
            Duration timeout = Duration.ofSeconds(10);
            restBinary = TritonModel.builder(URI.create(server.restUrl()), MODEL).requestTimeout(timeout).build();
            restJson = TritonModel.builder(URI.create(server.restUrl()), MODEL).binaryData(false)
                    .requestTimeout(timeout).build();
            grpc = TritonModel.builder(URI.create(server.grpcUrl()), MODEL).protocol(TritonModel.Protocol.GRPC)
                    .requestTimeout(timeout).build();
            onnx = NearlinePipeline.onnxModel(file);
            record = Tensors.of(BenchModel.INPUT, Tensor.ofFloats(BenchModel.MLP.record(), BenchModel.MLP.recordShape()));
            checkSameOutputs();
        }

        /** Fails the trial unless every contender returns what ONNX Runtime in-process returns. */
        private void checkSameOutputs() {
            Tensors expected = onnx.predict(record);
            Map<String, Tensors> remote = Map.of("restBinary", restBinary.predict(record),
                    "restJson", restJson.predict(record), "grpc", grpc.predict(record));
            for (Map.Entry<String, Tensors> e : remote.entrySet()) {
                if (!e.getValue().equals(expected)) {
                    throw new IllegalStateException("loopback " + e.getKey() + " disagrees with in-process ONNX Runtime: "
                            + e.getValue() + " vs " + expected);
                }
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            try {
                TempFiles.closeAll(restBinary, restJson, grpc, onnx, server, backend);
            } finally {
                TempFiles.deleteTree(dir);
            }
        }
    }

    @Benchmark
    @Warmup(iterations = 10, time = 2)
    public Tensors loopbackRestBinary(Loopback l) {
        return l.restBinary.predict(l.record);
    }

    @Benchmark
    @Warmup(iterations = 10, time = 2)
    public Tensors loopbackRestJson(Loopback l) {
        return l.restJson.predict(l.record);
    }

    @Benchmark
    @Warmup(iterations = 10, time = 2)
    public Tensors loopbackGrpc(Loopback l) {
        return l.grpc.predict(l.record);
    }

    @Benchmark
    @Warmup(iterations = 10, time = 2)
    public Tensors inProcessOnnx(Loopback l) {
        return l.onnx.predict(l.record);
    }
}
