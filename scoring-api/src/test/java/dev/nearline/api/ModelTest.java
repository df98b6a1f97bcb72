package dev.nearline.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The default methods of {@link Model}. */
class ModelTest {

    /** Doubles its FP32 input "x"; fails on an empty input. */
    static final class FakeDoublingModel implements Model {
        final AtomicInteger predictCalls = new AtomicInteger();

        @Override
        public ModelSignature signature() {
            return new ModelSignature(List.of(TensorSpec.of("x", DataType.FP32, -1)),
                    List.of(TensorSpec.of("y", DataType.FP32, -1)));
        }

        @Override
        public Tensors predict(Tensors inputs) {
            predictCalls.incrementAndGet();
            float[] x = inputs.require("x").toFloatArray();
            if (x.length == 0) {
                throw new IllegalArgumentException("empty");
            }
            for (int i = 0; i < x.length; i++) {
                x[i] *= 2;
            }
            return Tensors.of("y", Tensor.ofFloats(x, x.length));
        }

        @Override
        public void close() {
        }
    }

    private static Tensors x(float... v) {
        return Tensors.of("x", Tensor.ofFloats(v, v.length));
    }

    @Test
    void predictBatch_default_callsPredictPerRecordInOrder() {
        FakeDoublingModel m = new FakeDoublingModel();

        List<Tensors> out = m.predictBatch(List.of(x(1), x(2, 3), x(4)));

        assertThat(m.predictCalls).hasValue(3);
        assertThat(out).extracting(t -> t.require("y").toFloatArray().length).containsExactly(1, 2, 1);
        assertThat(out.get(1).require("y").toFloatArray()).containsExactly(4f, 6f);
    }

    @Test
    void predictAsync_default_completesWithPredictResult() throws Exception {
        CompletableFuture<Tensors> f = new FakeDoublingModel().predictAsync(x(5));

        assertThat(f).isDone();
        assertThat(f.get().require("y").floatAt(0)).isEqualTo(10f);
    }

    @Test
    void predictAsync_predictThrows_returnsFailedFuture() {
        CompletableFuture<Tensors> f = new FakeDoublingModel().predictAsync(x());

        assertThat(f).isCompletedExceptionally();
    }
}
