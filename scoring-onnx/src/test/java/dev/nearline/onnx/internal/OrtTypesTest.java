package dev.nearline.onnx.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import dev.nearline.api.DataType;
import dev.nearline.api.Tensor;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

/** Tensor creation: direct native-order buffers reach ONNX Runtime without a copy. */
class OrtTypesTest {
    private final OrtEnvironment env = OrtRuntime.environment();

    @Test
    void toOnnx_directNativeBuffer_isWrappedWithoutCopy() throws Exception {
        FloatBuffer direct = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder()).asFloatBuffer();
        direct.put(new float[] {1, 2, 3, 4}).flip();

        try (OnnxTensor t = OrtTypes.toOnnx(env, Tensor.of(DataType.FP32, direct, 2, 2))) {
            assertThat(t.ownsBuffer()).as("ONNX Runtime copied the buffer").isFalse();
            assertThat(t.getFloatBuffer().array()).containsExactly(1, 2, 3, 4);
        }
    }

    @Test
    void toOnnx_heapOrSwappedBuffer_isCopiedWithRightValues() throws Exception {
        ByteOrder other = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        FloatBuffer swapped = ByteBuffer.allocateDirect(8).order(other).asFloatBuffer();
        swapped.put(new float[] {1.5f, -2.5f}).flip();

        try (OnnxTensor heap = OrtTypes.toOnnx(env, Tensor.ofFloats(new float[] {1, 2}, 2));
                OnnxTensor reordered = OrtTypes.toOnnx(env, Tensor.of(DataType.FP32, swapped, 2))) {
            assertThat(heap.getFloatBuffer().array()).containsExactly(1, 2);
            assertThat(reordered.getFloatBuffer().array()).containsExactly(1.5f, -2.5f);
        }
    }

    @Test
    void allocateDirect_everyFixedWidthType_isDirectNativeOrder() {
        for (DataType type : DataType.values()) {
            if (type == DataType.BYTES) {
                continue;
            }
            Buffer b = OrtTypes.allocateDirect(type, 3);
            assertThat(b.isDirect()).isTrue();
            assertThat(b.capacity()).isEqualTo(3);
            assertThat(Tensor.bufferType(type)).isNotNull();
            assertThat(Tensor.bufferType(type).isInstance(b)).as(type.toString()).isTrue();
            assertThat(OrtTypes.isNativeOrder(b)).isTrue();
        }
    }
}
