package dev.nearline.triton.internal;

import static dev.nearline.triton.internal.Golden.body;
import static dev.nearline.triton.internal.Golden.length;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.nearline.api.DataType;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.triton.internal.proto.ModelInferResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Feeds the response parsers random and mutated bodies (seeded, so a failure replays) and checks
 * that they only ever return well-formed tensors or throw ScoringException: never another
 * exception, never a hang, never an allocation sized by an untrusted shape.
 */
class CodecFuzzTest {
    private static final long SEED = 0x5EED_2026L;
    private static final int ITERATIONS = 4000;

    private static final ModelSignature SIGNATURE = new ModelSignature(
            List.of(TensorSpec.of("x", DataType.FP32, -1, 2)),
            List.of(TensorSpec.of("p", DataType.FP32, -1, 2), TensorSpec.of("label", DataType.BYTES, -1),
                    TensorSpec.of("flag", DataType.BOOL, -1)));
    private static final RequestLayout BATCH = RequestLayout.batch(SIGNATURE, List.of(
            Tensors.of("x", Tensor.ofFloats(new float[] {1, 2}, 1, 2)),
            Tensors.of("x", Tensor.ofFloats(new float[] {3, 4}, 1, 2))));

    private static final String BINARY_HEADER = "{\"model_name\":\"m\",\"id\":\"7\",\"outputs\":["
            + "{\"name\":\"p\",\"datatype\":\"FP32\",\"shape\":[2,2],\"parameters\":{\"binary_data_size\":16}},"
            + "{\"name\":\"label\",\"datatype\":\"BYTES\",\"shape\":[2],\"parameters\":{\"binary_data_size\":11}},"
            + "{\"name\":\"flag\",\"datatype\":\"BOOL\",\"shape\":[2],\"parameters\":{\"binary_data_size\":2}}]}";
    private static final String BINARY_DATA = "00 00 80 3f 00 00 20 c0 00 00 00 00 00 00 80 3f "
            + "01 00 00 00 61 02 00 00 00 62 63 01 00";
    private static final String JSON_BODY = "{\"model_name\":\"m\",\"id\":\"7\",\"outputs\":["
            + "{\"name\":\"p\",\"datatype\":\"FP32\",\"shape\":[2,2],\"data\":[[1.0,-2.5],[0,1e0]]},"
            + "{\"name\":\"label\",\"datatype\":\"BYTES\",\"shape\":[2],\"data\":[\"a\",\"bc\"]},"
            + "{\"name\":\"flag\",\"datatype\":\"BOOL\",\"shape\":[2],\"data\":[true,false]}]}";
    private static final String[] NASTY_TOKENS = {"-1", "0", "4294967296", "9223372036854775807",
            "99999999999999999999999", "1e400", "NaN", "-0.0", "null", "\"\"", "[]", "{}", "true", "[[[[[[[[1]]]]]]]]",
            "\"FP16\"", "\"UINT16\"", "\"BYTES\"", "2147483647", "\"\\u0000\""};

    private final RestCodec codec = new RestCodec(true);

    @Test
    void restDecode_mutatedBodies_onlyThrowScoringException() {
        byte[] binary = body(BINARY_HEADER, BINARY_DATA);
        byte[] json = JSON_BODY.getBytes(StandardCharsets.UTF_8);
        // The seeds themselves are valid.
        assertThat(decodeRest(binary, Integer.toString(length(BINARY_HEADER)))).hasSize(2);
        assertThat(decodeRest(json, null)).hasSize(2);

        Random random = new Random(SEED);
        int[] outcomes = new int[2];
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int i = 0; i < ITERATIONS; i++) {
                boolean useBinary = random.nextBoolean();
                byte[] body = mutate(random, useBinary ? binary : json);
                String headerLength = useBinary ? Integer.toString(length(BINARY_HEADER)) : null;
                if (random.nextInt(8) == 0) {
                    headerLength = randomHeaderLength(random, body.length);
                }
                try {
                    List<Tensors> out = decodeRest(body, headerLength);
                    checkWellFormed(out);
                    outcomes[0]++;
                } catch (ScoringException e) {
                    assertThat(e.getMessage()).isNotBlank();
                    outcomes[1]++;
                } catch (Throwable t) {
                    fail("iteration " + i + " threw " + t + " for body " + HexFormat.of().formatHex(body)
                            + " header length " + headerLength, t);
                }
            }
        });
        assertThat(outcomes[0]).as("mutations still decoded").isPositive();
        assertThat(outcomes[1]).as("mutations rejected").isPositive();
    }

    @Test
    void restDecode_randomBytes_onlyThrowScoringException() {
        Random random = new Random(SEED + 1);
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            for (int i = 0; i < ITERATIONS / 4; i++) {
                byte[] body = new byte[random.nextInt(200)];
                random.nextBytes(body);
                String headerLength = random.nextBoolean() ? null : randomHeaderLength(random, body.length);
                try {
                    checkWellFormed(decodeRest(body, headerLength));
                } catch (ScoringException e) {
                    // expected
                } catch (Throwable t) {
                    fail("iteration " + i + " threw " + t, t);
                }
            }
        });
    }

    @Test
    void metadataParsers_mutatedBodies_onlyThrowTheirFailureTypes() {
        String meta = "{\"name\":\"m\",\"versions\":[\"1\"],\"platform\":\"onnxruntime_onnx\","
                + "\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[-1,2]}],"
                + "\"outputs\":[{\"name\":\"y\",\"datatype\":\"FP32\",\"shape\":[-1,1]}]}";
        Random random = new Random(SEED + 2);
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            for (int i = 0; i < ITERATIONS / 4; i++) {
                byte[] body = mutate(random, meta.getBytes(StandardCharsets.UTF_8));
                try {
                    RestCodec.modelMetadata(body);
                    RestCodec.serverMetadata(body);
                    RestCodec.errorMessage(body);
                } catch (RemoteFailure | ScoringException e) {
                    // expected
                } catch (Throwable t) {
                    fail("iteration " + i + " threw " + t + " for " + new String(body, StandardCharsets.UTF_8), t);
                }
            }
        });
    }

    @Test
    void grpcDecode_mutatedMessages_onlyThrowScoringException() {
        ModelInferResponse valid = ModelInferResponse.newBuilder().setModelName("m").setId("7")
                .addOutputs(output("p", "FP32", 2, 2)).addOutputs(output("label", "BYTES", 2))
                .addOutputs(output("flag", "BOOL", 2))
                .addRawOutputContents(ByteString.copyFrom(Golden.hex("00 00 80 3f 00 00 20 c0 00 00 00 00 00 00 80 3f")))
                .addRawOutputContents(ByteString.copyFrom(Golden.hex("01 00 00 00 61 02 00 00 00 62 63")))
                .addRawOutputContents(ByteString.copyFrom(Golden.hex("01 00")))
                .build();
        GrpcCodec grpc = new GrpcCodec("m", "");
        assertThat(grpc.decode(valid, BATCH, "7")).hasSize(2);
        byte[] wire = valid.toByteArray();
        Random random = new Random(SEED + 3);
        int[] parsed = new int[1];
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int i = 0; i < ITERATIONS; i++) {
                byte[] bytes = mutate(random, wire);
                ModelInferResponse response;
                try {
                    response = ModelInferResponse.parseFrom(bytes);
                } catch (InvalidProtocolBufferException e) {
                    continue; // grpc-java rejects it before the codec sees it
                }
                parsed[0]++;
                try {
                    checkWellFormed(grpc.decode(response, BATCH, "7"));
                } catch (ScoringException e) {
                    // expected
                } catch (Throwable t) {
                    fail("iteration " + i + " threw " + t + " for " + HexFormat.of().formatHex(bytes), t);
                }
            }
        });
        assertThat(parsed[0]).isPositive();
    }

    private static ModelInferResponse.InferOutputTensor output(String name, String datatype, long... shape) {
        ModelInferResponse.InferOutputTensor.Builder b = ModelInferResponse.InferOutputTensor.newBuilder()
                .setName(name).setDatatype(datatype);
        for (long d : shape) {
            b.addShape(d);
        }
        return b.build();
    }

    private List<Tensors> decodeRest(byte[] body, String headerLength) {
        return codec.decode(body, headerLength, BATCH, "7");
    }

    /** A decoded result must be two records with the declared outputs, types, and one row each. */
    private static void checkWellFormed(List<Tensors> out) {
        assertThat(out).hasSize(2);
        for (Tensors record : out) {
            assertThat(record.names()).containsExactly("p", "label", "flag");
            for (TensorSpec spec : SIGNATURE.outputs()) {
                Tensor t = record.require(spec.name());
                assertThat(t.type()).isEqualTo(spec.type());
                assertThat(spec.mismatch(t)).isNull();
                assertThat(t.dim(0)).isEqualTo(1);
            }
        }
    }

    private static String randomHeaderLength(Random random, int bodyLength) {
        switch (random.nextInt(5)) {
            case 0:
                return Integer.toString(-random.nextInt(1000) - 1);
            case 1:
                return Integer.toString(bodyLength + random.nextInt(1000) + 1);
            case 2:
                return "12ab";
            case 3:
                return "99999999999999999999";
            default:
                return Integer.toString(random.nextInt(bodyLength + 1));
        }
    }

    private static byte[] mutate(Random random, byte[] seed) {
        byte[] b = seed.clone();
        int rounds = 1 + random.nextInt(3);
        for (int r = 0; r < rounds && b.length > 0; r++) {
            switch (random.nextInt(7)) {
                case 0: { // flip bytes
                    int n = 1 + random.nextInt(4);
                    for (int k = 0; k < n; k++) {
                        b[random.nextInt(b.length)] = (byte) random.nextInt(256);
                    }
                    break;
                }
                case 1: // truncate
                    b = Arrays.copyOf(b, random.nextInt(b.length));
                    break;
                case 2: { // insert random bytes
                    int at = random.nextInt(b.length + 1);
                    byte[] ins = new byte[1 + random.nextInt(8)];
                    random.nextBytes(ins);
                    b = splice(b, at, at, ins);
                    break;
                }
                case 3: { // duplicate a segment
                    int from = random.nextInt(b.length);
                    int to = Math.min(b.length, from + 1 + random.nextInt(20));
                    b = splice(b, to, to, Arrays.copyOfRange(b, from, to));
                    break;
                }
                case 4: { // replace a digit with another
                    int at = random.nextInt(b.length);
                    for (int k = 0; k < b.length; k++) {
                        int p = (at + k) % b.length;
                        if (b[p] >= '0' && b[p] <= '9') {
                            b[p] = (byte) ('0' + random.nextInt(10));
                            break;
                        }
                    }
                    break;
                }
                case 5: { // replace a run of digits (a JSON number) with a nasty token
                    int at = random.nextInt(b.length);
                    for (int k = 0; k < b.length; k++) {
                        int p = (at + k) % b.length;
                        if (b[p] >= '0' && b[p] <= '9') {
                            int end = p;
                            while (end < b.length && b[end] >= '0' && b[end] <= '9') {
                                end++;
                            }
                            byte[] token = NASTY_TOKENS[random.nextInt(NASTY_TOKENS.length)]
                                    .getBytes(StandardCharsets.UTF_8);
                            b = splice(b, p, end, token);
                            break;
                        }
                    }
                    break;
                }
                default: { // delete a segment
                    int from = random.nextInt(b.length);
                    int to = Math.min(b.length, from + 1 + random.nextInt(10));
                    b = splice(b, from, to, new byte[0]);
                }
            }
        }
        return b;
    }

    private static byte[] splice(byte[] b, int from, int to, byte[] insert) {
        byte[] out = new byte[b.length - (to - from) + insert.length];
        System.arraycopy(b, 0, out, 0, from);
        System.arraycopy(insert, 0, out, from, insert.length);
        System.arraycopy(b, to, out, from + insert.length, b.length - to);
        return out;
    }
}
