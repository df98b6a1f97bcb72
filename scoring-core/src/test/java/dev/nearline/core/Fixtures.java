package dev.nearline.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.nearline.api.DataType;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.Postprocessor;
import dev.nearline.api.Preprocessor;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Stages and assertions shared by the scorer tests. */
final class Fixtures {
    static final float[] WEIGHTS = {0.5f, -1.25f, 2f};
    static final float BIAS = 0.125f;

    /** The signature of {@link #linear()}. */
    static final ModelSignature LINEAR_SIGNATURE = new ModelSignature(
            List.of(TensorSpec.of("input", DataType.FP32, -1, 3)), List.of(TensorSpec.of("score", DataType.FP32, -1, 1)));

    /** A {@code float[]} record as the FP32 {@code [1, n]} tensor "input". */
    static final Preprocessor<float[]> ROW = r -> Tensors.of("input", Tensor.ofFloats(r, 1, r.length));
    /** The first element of tensor "score". */
    static final Postprocessor<Float> SCORE = out -> out.require("score").floatAt(0);

    private Fixtures() {
    }

    static FakeLinearModel linear() {
        return new FakeLinearModel(WEIGHTS, BIAS);
    }

    static float[] row(float... v) {
        return v;
    }

    /** The ScoringException {@code call} throws. */
    static ScoringException scoringFailure(ThrowingCallable call) {
        ScoringException e = catchThrowableOfType(ScoringException.class, call);
        assertThat(e).as("expected a ScoringException").isNotNull();
        return e;
    }

    /** The ScoringException {@code future} failed with, waiting at most 10 s. */
    static ScoringException failureOf(CompletableFuture<?> future) {
        try {
            Object v = future.get(10, TimeUnit.SECONDS);
            throw new AssertionError("expected a failure, got " + v);
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(ScoringException.class);
            return (ScoringException) e.getCause();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** The value of {@code future}, waiting at most 10 s. */
    static <T> T valueOf(CompletableFuture<T> future) {
        try {
            return future.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("future failed: " + e, e);
        }
    }
}
