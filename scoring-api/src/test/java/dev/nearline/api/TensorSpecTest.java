package dev.nearline.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TensorSpecTest {
    private static final TensorSpec AMOUNT = TensorSpec.of("amount", DataType.FP32, -1, 30);

    @Test
    void mismatch_fittingTensor_isNull() {
        assertThat(AMOUNT.mismatch(Tensor.ofFloats(new float[30], 1, 30))).isNull();
        assertThat(AMOUNT.mismatch(Tensor.ofFloats(new float[90], 3, 30))).isNull();
    }

    @Test
    void mismatch_wrongTypeAndShape_describesExpectedAndActual() {
        String m = AMOUNT.mismatch(Tensor.ofDoubles(new double[29], 1, 29));

        assertThat(m).isEqualTo("'amount' expects FP32 [-1, 30], got FP64 [1, 29]");
    }

    @Test
    void mismatch_wrongTypeOnly_reported() {
        assertThat(AMOUNT.mismatch(Tensor.ofDoubles(new double[30], 1, 30)))
                .isEqualTo("'amount' expects FP32 [-1, 30], got FP64 [1, 30]");
    }

    @Test
    void mismatch_wrongRank_reported() {
        assertThat(AMOUNT.mismatch(Tensor.ofFloats(new float[30], 30)))
                .isEqualTo("'amount' expects FP32 [-1, 30], got FP32 [30]");
        assertThat(AMOUNT.mismatch(Tensor.ofFloats(new float[30], 1, 1, 30))).isNotNull();
    }

    @Test
    void mismatch_wrongFixedDimension_reported() {
        assertThat(AMOUNT.mismatch(Tensor.ofFloats(new float[31], 1, 31)))
                .isEqualTo("'amount' expects FP32 [-1, 30], got FP32 [1, 31]");
    }

    @Test
    void mismatch_dynamicDimensions_acceptAnyExtent() {
        TensorSpec spec = TensorSpec.of("x", DataType.INT64, -1, -1);

        assertThat(spec.mismatch(Tensor.ofLongs(new long[0], 0, 7))).isNull();
        assertThat(spec.mismatch(Tensor.ofLongs(new long[12], 4, 3))).isNull();
    }

    @Test
    void mismatch_nullShape_acceptsAnyShapeButChecksType() {
        TensorSpec spec = new TensorSpec("x", DataType.FP32, null);

        assertThat(spec.hasShape()).isFalse();
        assertThat(spec.shape()).isNull();
        assertThat(spec.mismatch(Tensor.ofFloats(new float[24], 2, 3, 4))).isNull();
        assertThat(spec.mismatch(Tensor.ofFloats(new float[] {1}))).isNull();
        assertThat(spec.mismatch(Tensor.ofInts(new int[] {1}, 1)))
                .isEqualTo("'x' expects FP32 [any shape], got INT32 [1]");
    }

    @Test
    void mismatch_scalarSpec_rejectsVector() {
        TensorSpec spec = TensorSpec.of("s", DataType.FP32);

        assertThat(spec.mismatch(Tensor.ofFloats(new float[] {1}))).isNull();
        assertThat(spec.mismatch(Tensor.ofFloats(new float[] {1}, 1))).isEqualTo("'s' expects FP32 [], got FP32 [1]");
    }

    @Test
    void constructor_dimensionBelowMinusOne_failsNamingTensor() {
        assertThatThrownBy(() -> TensorSpec.of("x", DataType.FP32, 1, -2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'x'")
                .hasMessageContaining("-2");
    }

    @Test
    void constructor_copiesShape() {
        long[] shape = {1, 2};
        TensorSpec spec = TensorSpec.of("x", DataType.FP32, shape);

        shape[0] = 5;
        spec.shape()[1] = 9;

        assertThat(spec.shape()).containsExactly(1, 2);
    }

    @Test
    void equals_comparesShapeContents() {
        assertThat(TensorSpec.of("x", DataType.FP32, -1, 3)).isEqualTo(TensorSpec.of("x", DataType.FP32, -1, 3))
                .hasSameHashCodeAs(TensorSpec.of("x", DataType.FP32, -1, 3));
        assertThat(TensorSpec.of("x", DataType.FP32, -1, 3)).isNotEqualTo(TensorSpec.of("x", DataType.FP32, -1, 4));
        assertThat(new TensorSpec("x", DataType.FP32, null)).isNotEqualTo(TensorSpec.of("x", DataType.FP32));
        assertThat(TensorSpec.of("x", DataType.FP32, 2).toString()).isEqualTo("x: FP32 [2]");
    }
}
