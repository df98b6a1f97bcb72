package dev.nearline.onnx.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtException;
import dev.nearline.api.ScoringException;
import org.junit.jupiter.api.Test;

/** ONNX Runtime failures map to the kind a host acts on, with one-line messages naming the model. */
class OrtErrorsTest {
    @Test
    void runFailure_invalidDimensions_isInvalidInputOnOneLine() {
        OrtException e = new OrtException(OrtException.OrtErrorCode.ORT_INVALID_ARGUMENT,
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
    void runFailure_indicesOutOfBoundsWithGenericCode_isInvalidInput() {
        OrtException e = new OrtException(OrtException.OrtErrorCode.ORT_RUNTIME_EXCEPTION,
                "Non-zero status code returned while running Gather node. indices element out of data bounds, idx=7");

        assertThat(OrtErrors.runFailure("bert.onnx", e).kind()).isEqualTo(ScoringException.Kind.INVALID_INPUT);
    }

    @Test
    void runFailure_otherFailures_areInternal() {
        OrtException e = new OrtException(OrtException.OrtErrorCode.ORT_RUNTIME_EXCEPTION, "CUDA failure 2: out of memory");

        ScoringException s = OrtErrors.runFailure("big.onnx", e);

        assertThat(s.kind()).isEqualTo(ScoringException.Kind.INTERNAL);
        assertThat(s.getMessage()).isEqualTo("model 'big.onnx' failed in ONNX Runtime: CUDA failure 2: out of memory");
    }
}
