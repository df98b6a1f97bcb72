package dev.nearline.onnx.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtException.OrtErrorCode;
import dev.nearline.api.ScoringException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ONNX Runtime failures map to the kind a host acts on, with one-line messages naming the model. The messages
 * are ONNX Runtime 1.29.0's own, captured from real runs of small graphs with inputs of mismatched shapes.
 */
class OrtErrorsTest {
    private static final long GIB = 1L << 30;

    private static ScoringException map(OrtErrorCode code, String message) {
        return OrtErrors.runFailure("m.onnx", new OrtException(code, message), 16 * GIB);
    }

    @Test
    void runFailure_invalidDimensions_isInvalidInputOnOneLine() {
        OrtException e = new OrtException(OrtErrorCode.ORT_INVALID_ARGUMENT,
                "[ErrorCode:InvalidArgument] Got invalid dimensions for input: Input3 for the following indices\n"
                        + " index: 0 Got: 2 Expected: 1\n Please fix either the inputs/outputs or the model.");

        ScoringException s = OrtErrors.runFailure("mnist.onnx", e);

        assertThat(s.kind()).isEqualTo(ScoringException.Kind.INVALID_INPUT);
        assertThat(s.getMessage()).isEqualTo("model 'mnist.onnx' rejected the input: [ErrorCode:InvalidArgument] Got "
                + "invalid dimensions for input: Input3 for the following indices index: 0 Got: 2 Expected: 1 Please "
                + "fix either the inputs/outputs or the model.");
        assertThat(s.getCause()).isSameAs(e);
    }

    @Test
    void runFailure_invalidArgumentCode_isInvalidInputWhateverTheText() {
        assertThat(map(OrtErrorCode.ORT_INVALID_ARGUMENT, "Non-zero status code returned while running Tile node. "
                + "Name:'tile_0' Status Message: 'repeat' input tensor must have the same length as the 'input' tensor")
                .kind()).isEqualTo(ScoringException.Kind.INVALID_INPUT);
        assertThat(map(OrtErrorCode.ORT_INVALID_ARGUMENT, "something new").kind())
                .isEqualTo(ScoringException.Kind.INVALID_INPUT);
    }

    /** Node failures about shapes that ONNX Runtime reports with the generic code ORT_FAIL. */
    @ParameterizedTest
    @ValueSource(strings = {
        "Non-zero status code returned while running Concat node. Name:'concat_0' Status Message: concatbase.h:133 "
                + "PrepareForComputeImpl Non concat axis dimensions must match: Axis 0 has mismatched dimensions of 3 and 2",
        "Non-zero status code returned while running Add node. Name:'add_0' Status Message: /onnxruntime_src/"
                + "onnxruntime/core/providers/cpu/math/element_wise_ops.h:583 void onnxruntime::BroadcastIterator::"
                + "Append(ptrdiff_t, ptrdiff_t) axis == 1 || axis == largest was false. Attempting to broadcast an axis "
                + "by a dimension other than 1. 2 by 3",
        "Non-zero status code returned while running MatMul node. Name:'matmul_0' Status Message: matmul_helper.h:59 "
                + "Compute MatMul dimension mismatch",
        "Non-zero status code returned while running MatMul node. Name:'matmul_0' Status Message: matmul_helper.h:142 "
                + "Compute left operand cannot broadcast on dim 0",
        "Non-zero status code returned while running Reshape node. Name:'reshape_0' Status Message: reshape_helper.h:91 "
                + "input_shape_size == requested_shape_size was false. The input tensor cannot be reshaped to the "
                + "requested shape. Input shape:{2,3}, requested shape:{4,1}",
        "Non-zero status code returned while running Squeeze node. Name:'squeeze_0' Status Message: squeeze.h:53 "
                + "input_shape[i] == 1 was false. Dimension of input 1 must be 1 instead of 3. shape={2,3}",
        "Non-zero status code returned while running Pad node. Name:'pad_0' Status Message: padbase.h:122 "
                + "pads_data.size() == 2 * data_rank was false. Pads tensor size should be equal to twice the input "
                + "dimension count",
        "Non-zero status code returned while running Conv node. Name:'conv_0' Status Message: Input channels C is not "
                + "equal to kernel channels * group. C: 3 kernel channels: 2 group: 1",
        "Non-zero status code returned while running GatherElements node. Name:'gatherelements_0' Status Message: "
                + "gather_elements.cc:150 GatherElements op: Out of range value in index tensor",
    })
    void runFailure_shapeErrorInsideNodeWithGenericCode_isInvalidInput(String message) {
        ScoringException s = map(OrtErrorCode.ORT_FAIL, message);

        assertThat(s.kind()).isEqualTo(ScoringException.Kind.INVALID_INPUT);
        assertThat(s.isRetryable()).isFalse();
        assertThat(s.getMessage()).startsWith("model 'm.onnx' rejected the input: Non-zero status code returned while running");
        assertThat(map(OrtErrorCode.ORT_RUNTIME_EXCEPTION, message).kind()).isEqualTo(ScoringException.Kind.INVALID_INPUT);
    }

    @Test
    void runFailure_shapeWordsOutsideANode_areInternal() {
        // no "while running <Op> node": not a kernel rejecting the record's shapes
        assertThat(map(OrtErrorCode.ORT_FAIL, "Failed to create the session: shape inference failed").kind())
                .isEqualTo(ScoringException.Kind.INTERNAL);
    }

    @Test
    void runFailure_otherCodesWithShapeWords_areInternal() {
        String inNode = "Non-zero status code returned while running Conv node. Status Message: dimension mismatch";

        assertThat(map(OrtErrorCode.ORT_EP_FAIL, inNode).kind()).isEqualTo(ScoringException.Kind.INTERNAL);
        assertThat(map(OrtErrorCode.ORT_ENGINE_ERROR, inNode).kind()).isEqualTo(ScoringException.Kind.INTERNAL);
        assertThat(map(OrtErrorCode.ORT_NOT_IMPLEMENTED, inNode).kind()).isEqualTo(ScoringException.Kind.INTERNAL);
    }

    @Test
    void runFailure_indicesOutOfBoundsWithGenericCode_isInvalidInput() {
        OrtException e = new OrtException(OrtErrorCode.ORT_RUNTIME_EXCEPTION,
                "Non-zero status code returned while running Gather node. indices element out of data bounds, idx=7");

        assertThat(OrtErrors.runFailure("bert.onnx", e).kind()).isEqualTo(ScoringException.Kind.INVALID_INPUT);
    }

    @Test
    void runFailure_messageQuotingAnIndexValue_hidesTheValue() {
        ScoringException s = map(OrtErrorCode.ORT_INVALID_ARGUMENT, "Non-zero status code returned while running Gather "
                + "node. Name:'gather_0' Status Message: indices element out of data bounds, idx=-77 must be within the "
                + "inclusive range [-2,1]");
        ScoringException nd = map(OrtErrorCode.ORT_FAIL, "Non-zero status code returned while running GatherND node. "
                + "Status Message: invalid indice found, indice = 12345");

        assertThat(s.getMessage()).contains("idx=? must be within the inclusive range [-2,1]").doesNotContain("77");
        assertThat(nd.getMessage()).endsWith("indice = ?").doesNotContain("12345");
    }

    @Test
    void runFailure_allocationFailure_isRetryableInternal() {
        ScoringException s = map(OrtErrorCode.ORT_FAIL, "Non-zero status code returned while running Add node. "
                + "Name:'add_0' Status Message: bfc_arena.cc:359 void* onnxruntime::BFCArena::AllocateRawInternal(size_t,"
                + " bool, onnxruntime::Stream*) Failed to allocate memory for requested buffer of size 4294967296");

        assertThat(s.kind()).isEqualTo(ScoringException.Kind.INTERNAL);
        assertThat(s.isRetryable()).isTrue();
        assertThat(s.getMessage()).startsWith("model 'm.onnx' ran out of memory in ONNX Runtime: ");
    }

    @Test
    void runFailure_allocationBeyondPhysicalMemory_isInvalidInput() {
        ScoringException s = map(OrtErrorCode.ORT_FAIL, "Non-zero status code returned while running Add node. "
                + "Name:'add_0' Status Message: bfc_arena.cc:359 Failed to allocate memory for requested buffer of size "
                + "4398046511104");

        assertThat(s.kind()).isEqualTo(ScoringException.Kind.INVALID_INPUT);
        assertThat(s.getMessage()).startsWith("model 'm.onnx' rejected the input: it needs a buffer of 4398046511104 "
                + "bytes, more than the 17179869184 bytes of memory of this machine: ");
    }

    @Test
    void runFailure_otherFailures_areInternal() {
        OrtException e = new OrtException(OrtErrorCode.ORT_RUNTIME_EXCEPTION, "CUDA failure 2: out of memory");

        ScoringException s = OrtErrors.runFailure("big.onnx", e);

        assertThat(s.kind()).isEqualTo(ScoringException.Kind.INTERNAL);
        assertThat(s.getMessage()).isEqualTo("model 'big.onnx' ran out of memory in ONNX Runtime: CUDA failure 2: out of memory");
        assertThat(map(OrtErrorCode.ORT_FAIL, "Non-zero status code returned while running Foo node. Status Message: "
                + "thread pool could not start").kind()).isEqualTo(ScoringException.Kind.INTERNAL);
    }

    @Test
    void outOfMemory_isRetryableInternalNamingTheModel() {
        ScoringException s = OrtErrors.outOfMemory("m.onnx", new OutOfMemoryError("Cannot reserve 8 bytes of direct buffer memory"));

        assertThat(s.kind()).isEqualTo(ScoringException.Kind.INTERNAL);
        assertThat(s.getMessage()).startsWith("model 'm.onnx' ran out of memory while scoring (Cannot reserve 8 bytes");
    }
}
