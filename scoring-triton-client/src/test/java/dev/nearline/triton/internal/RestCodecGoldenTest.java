package dev.nearline.triton.internal;

import static dev.nearline.triton.internal.Golden.body;
import static dev.nearline.triton.internal.Golden.hex;
import static dev.nearline.triton.internal.Golden.length;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nearline.api.DataType;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Request and response bodies written by hand from the KServe v2 REST protocol and Triton's binary
 * tensor data extension: the codec must produce the requests and read the responses byte for byte.
 */
class RestCodecGoldenTest {
    private final RestCodec binary = new RestCodec(true);
    private final RestCodec json = new RestCodec(false);

    static Stream<Golden.Case> cases() {
        return Golden.CASES.stream();
    }

    static Stream<Golden.Case> jsonCases() {
        return Golden.CASES.stream().filter(c -> c.json() != null);
    }

    static Stream<Golden.Case> halfPrecisionCases() {
        return Golden.CASES.stream().filter(c -> c.json() == null);
    }

    private static ModelSignature identity(DataType type) {
        return new ModelSignature(List.of(TensorSpec.of("x", type, -1)), List.of(TensorSpec.of("y", type, -1)));
    }

    private static String ascii(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void encode_binaryData_matchesHandWrittenBody(Golden.Case c) {
        String header = "{\"id\":\"42\",\"inputs\":[{\"name\":\"x\",\"shape\":[" + c.tensor().size() + "],\"datatype\":\""
                + c.type() + "\",\"parameters\":{\"binary_data_size\":" + hex(c.hex()).length + "}}],"
                + "\"outputs\":[{\"name\":\"y\",\"parameters\":{\"binary_data\":true}}]}";

        RestCodec.Encoded encoded = binary.encode("42", identity(c.type()), Tensors.of("x", c.tensor()));

        assertThat(encoded.body()).isEqualTo(body(header, c.hex()));
        assertThat(encoded.headerLength()).isEqualTo(length(header));
        assertThat(encoded.contentType()).isEqualTo("application/octet-stream");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("jsonCases")
    void encode_json_matchesHandWrittenBody(Golden.Case c) {
        String expected = "{\"id\":\"42\",\"inputs\":[{\"name\":\"x\",\"shape\":[" + c.tensor().size() + "],\"datatype\":\""
                + c.type() + "\",\"data\":" + c.json() + "}],\"outputs\":[{\"name\":\"y\"}]}";

        RestCodec.Encoded encoded = json.encode("42", identity(c.type()), Tensors.of("x", c.tensor()));

        assertThat(ascii(encoded.body())).isEqualTo(expected);
        assertThat(encoded.headerLength()).isEqualTo(-1);
        assertThat(encoded.contentType()).isEqualTo("application/json");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("halfPrecisionCases")
    void encode_jsonForHalfPrecision_failsInvalidInput(Golden.Case c) {
        assertThatThrownBy(() -> json.encode("42", identity(c.type()), Tensors.of("x", c.tensor())))
                .isInstanceOf(ScoringException.class).hasMessageContaining("'x' is " + c.type())
                .hasMessageContaining("JSON cannot carry");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void decode_binaryResponse_readsHandWrittenBody(Golden.Case c) {
        String header = "{\"model_name\":\"m\",\"model_version\":\"1\",\"id\":\"42\",\"outputs\":[{\"name\":\"y\","
                + "\"datatype\":\"" + c.type() + "\",\"shape\":[" + c.tensor().size() + "],"
                + "\"parameters\":{\"binary_data_size\":" + hex(c.hex()).length + "}}]}";
        ModelSignature sig = identity(c.type());
        RequestLayout layout = RequestLayout.single(sig, Tensors.of("x", c.tensor()));

        List<Tensors> out = binary.decode(body(header, c.hex()), Integer.toString(length(header)), layout, "42");

        assertThat(out).containsExactly(Tensors.of("y", c.tensor()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("jsonCases")
    void decode_jsonResponse_readsHandWrittenBody(Golden.Case c) {
        String body = "{\"model_name\":\"m\",\"outputs\":[{\"name\":\"y\",\"datatype\":\"" + c.type() + "\",\"shape\":["
                + c.tensor().size() + "],\"data\":" + c.json() + "}]}";

        Tensors out = json.decode(body.getBytes(StandardCharsets.UTF_8), null, identity(c.type()),
                Tensors.of("x", c.tensor()));

        assertThat(out).isEqualTo(Tensors.of("y", c.tensor()));
    }

    @Test
    void encode_twoInputsBinary_appendsBlobsInInputOrder() {
        ModelSignature sig = new ModelSignature(
                List.of(TensorSpec.of("a", DataType.FP32, -1, 2), TensorSpec.of("b", DataType.BYTES, -1)),
                List.of(TensorSpec.of("p", DataType.FP32, -1)));
        Tensors record = Tensors.of("b", Tensor.ofStrings(new String[] {"hi"}, 1),
                "a", Tensor.ofFloats(new float[] {1.0f, -2.5f}, 1, 2));
        String header = "{\"id\":\"7\",\"inputs\":["
                + "{\"name\":\"a\",\"shape\":[1,2],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":8}},"
                + "{\"name\":\"b\",\"shape\":[1],\"datatype\":\"BYTES\",\"parameters\":{\"binary_data_size\":6}}],"
                + "\"outputs\":[{\"name\":\"p\",\"parameters\":{\"binary_data\":true}}]}";

        RestCodec.Encoded encoded = binary.encode("7", sig, record);

        assertThat(encoded.body()).isEqualTo(body(header, "00 00 80 3f 00 00 20 c0 02 00 00 00 68 69"));
        assertThat(encoded.headerLength()).isEqualTo(length(header));
    }

    @Test
    void encode_batchOfTwoRecords_concatenatesAlongTheFirstAxis() {
        ModelSignature sig = new ModelSignature(List.of(TensorSpec.of("x", DataType.INT32, -1, 2)),
                List.of(TensorSpec.of("y", DataType.INT32, -1)));
        RequestLayout layout = RequestLayout.batch(sig, List.of(
                Tensors.of("x", Tensor.ofInts(new int[] {1, 2}, 1, 2)),
                Tensors.of("x", Tensor.ofInts(new int[] {3, 4, 5, 6}, 2, 2))));
        String header = "{\"id\":\"b\",\"inputs\":[{\"name\":\"x\",\"shape\":[3,2],\"datatype\":\"INT32\","
                + "\"parameters\":{\"binary_data_size\":24}}],"
                + "\"outputs\":[{\"name\":\"y\",\"parameters\":{\"binary_data\":true}}]}";

        RestCodec.Encoded encoded = binary.encode("b", layout);

        assertThat(encoded.body()).isEqualTo(body(header,
                "01 00 00 00 02 00 00 00 03 00 00 00 04 00 00 00 05 00 00 00 06 00 00 00"));
    }

    @Test
    void decode_batchResponse_splitsRowsPerRecord() {
        ModelSignature sig = new ModelSignature(List.of(TensorSpec.of("x", DataType.INT32, -1, 2)),
                List.of(TensorSpec.of("y", DataType.BYTES, -1)));
        RequestLayout layout = RequestLayout.batch(sig, List.of(
                Tensors.of("x", Tensor.ofInts(new int[] {1, 2, 3, 4}, 2, 2)),
                Tensors.of("x", Tensor.ofInts(new int[] {5, 6}, 1, 2))));
        String header = "{\"outputs\":[{\"name\":\"y\",\"datatype\":\"BYTES\",\"shape\":[3],"
                + "\"parameters\":{\"binary_data_size\":15}}]}";

        List<Tensors> out = binary.decode(body(header, "01 00 00 00 61 02 00 00 00 62 63 00 00 00 00"),
                Integer.toString(length(header)), layout, null);

        assertThat(out).containsExactly(Tensors.of("y", Tensor.ofStrings(new String[] {"a", "bc"}, 2)),
                Tensors.of("y", Tensor.ofStrings(new String[] {""}, 1)));
    }

    @Test
    void decode_mixedJsonAndBinaryOutputs_readsBothInOrder() {
        ModelSignature sig = new ModelSignature(List.of(TensorSpec.of("x", DataType.FP32, -1)),
                List.of(TensorSpec.of("label", DataType.INT64, -1), TensorSpec.of("prob", DataType.FP32, -1, 2)));
        String header = "{\"outputs\":["
                + "{\"name\":\"prob\",\"datatype\":\"FP32\",\"shape\":[1,2],\"parameters\":{\"binary_data_size\":8}},"
                + "{\"name\":\"label\",\"datatype\":\"INT64\",\"shape\":[1],\"data\":[3]}]}";

        Tensors out = binary.decode(body(header, "00 00 80 3f 00 00 20 c0"), Integer.toString(length(header)), sig,
                Tensors.of("x", Tensor.ofFloats(new float[] {0}, 1)));

        assertThat(out.names()).containsExactly("label", "prob");
        assertThat(out.require("label")).isEqualTo(Tensor.ofLongs(new long[] {3}, 1));
        assertThat(out.require("prob")).isEqualTo(Tensor.ofFloats(new float[] {1.0f, -2.5f}, 1, 2));
    }

    @Test
    void decode_nestedJsonData_isReadRowMajor() {
        ModelSignature sig = new ModelSignature(List.of(TensorSpec.of("x", DataType.FP32, -1)),
                List.of(TensorSpec.of("y", DataType.FP64, -1, 2)));
        String body = "{\"outputs\":[{\"name\":\"y\",\"datatype\":\"FP64\",\"shape\":[2,2],\"data\":[[1,2.5],[3e0,-4]]}]}";

        Tensors out = json.decode(body.getBytes(StandardCharsets.UTF_8), null, sig,
                Tensors.of("x", Tensor.ofFloats(new float[] {0, 0}, 2)));

        assertThat(out.require("y")).isEqualTo(Tensor.ofDoubles(new double[] {1, 2.5, 3, -4}, 2, 2));
    }

    @Test
    void decode_binarySizeWithoutHeaderLength_failsInternalAsTruncated() {
        String body = "{\"outputs\":[{\"name\":\"y\",\"datatype\":\"FP32\",\"shape\":[1],"
                + "\"parameters\":{\"binary_data_size\":4}}]}";

        assertThatThrownBy(() -> binary.decode(body.getBytes(StandardCharsets.UTF_8), null, identity(DataType.FP32),
                Tensors.of("x", Tensor.ofFloats(new float[] {0}, 1))))
                .isInstanceOf(ScoringException.class)
                .hasMessageContaining("output 'y' declares 4 bytes of binary data but only 0 remain");
    }

    @Test
    void decode_extraBytesAfterBinaryOutputs_failsInternal() {
        String header = "{\"outputs\":[{\"name\":\"y\",\"datatype\":\"FP32\",\"shape\":[1],"
                + "\"parameters\":{\"binary_data_size\":4}}]}";

        assertThatThrownBy(() -> binary.decode(body(header, "00 00 80 3f 00"), Integer.toString(length(header)),
                identity(DataType.FP32), Tensors.of("x", Tensor.ofFloats(new float[] {0}, 1))))
                .isInstanceOf(ScoringException.class).hasMessageContaining("1 bytes follow the last binary output");
    }

    @Test
    void decode_jsonValueOutOfRange_failsInternalNamingTheElement() {
        String body = "{\"outputs\":[{\"name\":\"y\",\"datatype\":\"UINT8\",\"shape\":[2],\"data\":[1,256]}]}";

        assertThatThrownBy(() -> json.decode(body.getBytes(StandardCharsets.UTF_8), null, identity(DataType.UINT8),
                Tensors.of("x", Tensor.ofUint8(new byte[] {0}, 1))))
                .isInstanceOf(ScoringException.class)
                .hasMessageContaining("output 'y' element 1 is not a UINT8 value: 256");
    }

    @Test
    void modelMetadata_tritonStyleBody_becomesSignatureWithDynamicAxes() {
        String body = "{\"name\":\"fraud\",\"versions\":[\"1\",\"2\"],\"platform\":\"onnxruntime_onnx\","
                + "\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[-1,30]}],"
                + "\"outputs\":[{\"name\":\"score\",\"datatype\":\"FP32\",\"shape\":[-1,1]}]}";

        ModelSignature sig = RestCodec.modelMetadata(body.getBytes(StandardCharsets.UTF_8));

        assertThat(sig.inputs()).containsExactly(TensorSpec.of("features", DataType.FP32, -1, 30));
        assertThat(sig.outputs()).containsExactly(TensorSpec.of("score", DataType.FP32, -1, 1));
    }

    @Test
    void serverMetadata_tritonStyleBody_listsExtensions() {
        String body = "{\"name\":\"triton\",\"version\":\"2.50.0\",\"extensions\":[\"classification\","
                + "\"sequence\",\"model_repository\",\"schedule_policy\",\"model_configuration\","
                + "\"system_shared_memory\",\"cuda_shared_memory\",\"binary_tensor_data\",\"statistics\"]}";

        ServerMetadata meta = RestCodec.serverMetadata(body.getBytes(StandardCharsets.UTF_8));

        assertThat(meta.name()).isEqualTo("triton");
        assertThat(meta.supports(RestCodec.BINARY_EXTENSION)).isTrue();
    }

    @Test
    void errorMessage_tritonErrorBody_isTheMessage() {
        assertThat(RestCodec.errorMessage("{\"error\":\"failed to parse the request JSON buffer\"}"
                .getBytes(StandardCharsets.UTF_8))).isEqualTo("failed to parse the request JSON buffer");
        assertThat(RestCodec.errorMessage("<html>bad\ngateway</html>".getBytes(StandardCharsets.UTF_8)))
                .isEqualTo("<html>bad gateway</html>");
    }
}
