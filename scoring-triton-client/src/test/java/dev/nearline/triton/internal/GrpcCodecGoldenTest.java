package dev.nearline.triton.internal;

import static dev.nearline.triton.internal.Golden.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.nearline.api.DataType;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.triton.internal.proto.ModelInferRequest;
import dev.nearline.triton.internal.proto.ModelInferResponse;
import dev.nearline.triton.internal.proto.ModelMetadataResponse;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * gRPC messages written by hand, byte for byte, from the v2 protocol's field numbers and
 * protobuf's wire format: they pin the .proto to what Triton and other v2 servers send and expect.
 */
class GrpcCodecGoldenTest {
    private final GrpcCodec codec = new GrpcCodec("m", "1");

    static Stream<Golden.Case> cases() {
        return Golden.CASES.stream();
    }

    private static ModelSignature identity(DataType type) {
        return new ModelSignature(List.of(TensorSpec.of("x", type, -1)), List.of(TensorSpec.of("y", type, -1)));
    }

    @Test
    void methodDescriptors_v2Service_haveTritonFullNames() {
        assertThat(GrpcInferenceService.MODEL_INFER.getFullMethodName())
                .isEqualTo("inference.GRPCInferenceService/ModelInfer");
        assertThat(GrpcInferenceService.MODEL_METADATA.getFullMethodName())
                .isEqualTo("inference.GRPCInferenceService/ModelMetadata");
        assertThat(GrpcInferenceService.SERVER_LIVE.getFullMethodName())
                .isEqualTo("inference.GRPCInferenceService/ServerLive");
    }

    @Test
    void encode_boolRecord_serializesToHandWrittenBytes() {
        ModelInferRequest request = codec.encode("42", identity(DataType.BOOL),
                Tensors.of("x", Tensor.ofBooleans(new boolean[] {true, false, true}, 3)));

        // 1 model_name "m" | 2 model_version "1" | 3 id "42"
        // 5 inputs { 1 name "x" | 2 datatype "BOOL" | 3 shape [3] (packed) }
        // 6 outputs { 1 name "y" } | 7 raw_input_contents 01 00 01
        assertThat(request.toByteArray()).isEqualTo(hex(
                "0a 01 6d 12 01 31 1a 02 34 32 "
                + "2a 0c 0a 01 78 12 04 42 4f 4f 4c 1a 01 03 "
                + "32 03 0a 01 79 "
                + "3a 03 01 00 01"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void encode_everyDatatype_putsTheBinaryLayoutInRawInputContents(Golden.Case c) {
        ModelInferRequest request = codec.encode("42", identity(c.type()), Tensors.of("x", c.tensor()));

        assertThat(request.getInputs(0).getDatatype()).isEqualTo(c.type().name());
        assertThat(request.getInputs(0).getShapeList()).containsExactly((long) c.tensor().size());
        assertThat(request.getInputs(0).hasContents()).isFalse();
        assertThat(request.getRawInputContents(0).toByteArray()).isEqualTo(hex(c.hex()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void decode_everyDatatypeFromRawOutputContents_readsTheValues(Golden.Case c) {
        ModelInferResponse response = ModelInferResponse.newBuilder().setModelName("m").setId("42")
                .addOutputs(ModelInferResponse.InferOutputTensor.newBuilder().setName("y").setDatatype(c.type().name())
                        .addShape(c.tensor().size()))
                .addRawOutputContents(ByteString.copyFrom(hex(c.hex()))).build();

        Tensors out = codec.decode(response, identity(c.type()), Tensors.of("x", c.tensor()));

        assertThat(out).isEqualTo(Tensors.of("y", c.tensor()));
    }

    @Test
    void decode_handWrittenResponseBytes_rawContents() throws Exception {
        // 1 model_name "m" | 2 model_version "1" | 3 id "42"
        // 5 outputs { 1 name "y" | 2 datatype "FP32" | 3 shape [2] } | 6 raw_output_contents 1.0f, -2.5f
        byte[] wire = hex("0a 01 6d 12 01 31 1a 02 34 32 "
                + "2a 0c 0a 01 79 12 04 46 50 33 32 1a 01 02 "
                + "32 08 00 00 80 3f 00 00 20 c0");

        Tensors out = codec.decode(ModelInferResponse.parseFrom(wire), RequestLayout.single(identity(DataType.FP32),
                Tensors.of("x", Tensor.ofFloats(new float[2], 2))), "42").get(0);

        assertThat(out).isEqualTo(Tensors.of("y", Tensor.ofFloats(new float[] {1.0f, -2.5f}, 2)));
    }

    @Test
    void decode_handWrittenResponseBytes_typedContents() throws Exception {
        // 5 outputs { 1 name "y" | 2 datatype "FP32" | 3 shape [2] | 5 contents { 6 fp32_contents [1.0, -2.5] } }
        byte[] wire = hex("2a 18 0a 01 79 12 04 46 50 33 32 1a 01 02 2a 0a 32 08 00 00 80 3f 00 00 20 c0");

        Tensors out = codec.decode(ModelInferResponse.parseFrom(wire), identity(DataType.FP32),
                Tensors.of("x", Tensor.ofFloats(new float[2], 2)));

        assertThat(out).isEqualTo(Tensors.of("y", Tensor.ofFloats(new float[] {1.0f, -2.5f}, 2)));
    }

    @Test
    void decode_typedBytesContents_readsStrings() {
        ModelInferResponse response = ModelInferResponse.newBuilder()
                .addOutputs(ModelInferResponse.InferOutputTensor.newBuilder().setName("y").setDatatype("BYTES")
                        .addShape(2).setContents(dev.nearline.triton.internal.proto.InferTensorContents.newBuilder()
                                .addBytesContents(ByteString.copyFromUtf8("é"))
                                .addBytesContents(ByteString.EMPTY)))
                .build();

        Tensors out = codec.decode(response, identity(DataType.BYTES), Tensors.of("x", Tensor.ofStrings(new String[] {"", ""}, 2)));

        assertThat(out.require("y").toStringArray()).containsExactly("é", "");
    }

    @Test
    void decode_typedHalfPrecision_failsInternal() {
        ModelInferResponse response = ModelInferResponse.newBuilder()
                .addOutputs(ModelInferResponse.InferOutputTensor.newBuilder().setName("y").setDatatype("FP16").addShape(1))
                .build();

        assertThatThrownBy(() -> codec.decode(response, identity(DataType.FP16),
                Tensors.of("x", Tensor.ofFloat16(new short[1], 1))))
                .isInstanceOf(ScoringException.class).hasMessageContaining("raw_output_contents");
    }

    @Test
    void decode_rawCountDiffersFromOutputs_failsInternal() {
        ModelInferResponse response = ModelInferResponse.newBuilder()
                .addOutputs(ModelInferResponse.InferOutputTensor.newBuilder().setName("y").setDatatype("FP32").addShape(1))
                .addRawOutputContents(ByteString.copyFrom(hex("00 00 80 3f")))
                .addRawOutputContents(ByteString.copyFrom(hex("00 00 80 3f")))
                .build();

        assertThatThrownBy(() -> codec.decode(response, identity(DataType.FP32),
                Tensors.of("x", Tensor.ofFloats(new float[1], 1))))
                .isInstanceOf(ScoringException.class).hasMessageContaining("1 outputs but 2 raw_output_contents");
    }

    @Test
    void signature_handWrittenMetadataBytes_hasDynamicAxes() throws Exception {
        // 1 name "m" | 4 inputs { 1 "x" | 2 "FP32" | 3 shape [-1, 30] } | 5 outputs { 1 "y" | 2 "FP32" | 3 [-1, 1] }
        // -1 as a packed int64 varint: ff ff ff ff ff ff ff ff ff 01 (10 bytes)
        byte[] wire = hex("0a 01 6d "
                + "22 16 0a 01 78 12 04 46 50 33 32 1a 0b ff ff ff ff ff ff ff ff ff 01 1e "
                + "2a 16 0a 01 79 12 04 46 50 33 32 1a 0b ff ff ff ff ff ff ff ff ff 01 01");

        ModelSignature sig = GrpcCodec.signature(ModelMetadataResponse.parseFrom(wire));

        assertThat(sig.inputs()).containsExactly(TensorSpec.of("x", DataType.FP32, -1, 30));
        assertThat(sig.outputs()).containsExactly(TensorSpec.of("y", DataType.FP32, -1, 1));
    }
}
