package dev.nearline.core;

import static dev.nearline.core.Fixtures.ROW;
import static dev.nearline.core.Fixtures.SCORE;
import static dev.nearline.core.Fixtures.linear;
import static dev.nearline.core.Fixtures.row;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nearline.api.DataType;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.Scorer;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.core.testing.FakeTicker;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(ModelLeakChecker.class)
class PipelineBuilderTest {

    @Test
    void build_oneModel_scoresWithTheModel() {
        FakeLinearModel model = linear();
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(model).build(SCORE)) {
            assertThat(scorer.score(row(1, 2, 3))).isEqualTo(model.expected(row(1, 2, 3)));
            assertThat(scorer.score(row(-4, 0.5f, 8))).isEqualTo(0.5f * -4 - 1.25f * 0.5f + 2 * 8 + 0.125f);
            assertThat(model.predictCalls).hasValue(2);
        }
        assertThat(model.isClosed()).isTrue();
    }

    @Test
    void build_lambdaStages_scoreWithoutPlugins() {
        RecordingModel model = new RecordingModel(
                new ModelSignature(List.of(TensorSpec.of("x", DataType.INT64, 1)), List.of(TensorSpec.of("y", DataType.INT64, 1))),
                in -> Tensors.of("y", Tensor.ofLongs(new long[] {in.require("x").longAt(0) * 2}, 1)));
        try (Scorer<Long, Long> scorer = Pipeline.<Long>builder(v -> Tensors.of("x", Tensor.ofLongs(new long[] {v}, 1)))
                .model(model)
                .build(out -> out.require("y").longAt(0))) {
            assertThat(scorer.score(21L)).isEqualTo(42L);
        }
    }

    /**
     * pre -> model 1 (input -> score1) -> transform (score1 -> sq) -> model 2 reading score1 by name and sq
     * through a binding -> post.
     */
    @Test
    void build_chainWithTransform_laterStepsReadEarlierOutputsByName() {
        FakeLinearModel first = new FakeLinearModel("input", "score1", new float[] {1, 2, 3}, 0.5f);
        RecordingModel second = new RecordingModel(
                new ModelSignature(List.of(TensorSpec.of("score1", DataType.FP32, -1, 1), TensorSpec.of("features", DataType.FP32, -1, 1)),
                        List.of(TensorSpec.of("final", DataType.FP32, -1, 1))),
                in -> Tensors.of("final", Tensor.ofFloats(
                        new float[] {in.require("score1").floatAt(0) + in.require("features").floatAt(0)}, 1, 1)));
        Queue<Tensors> postInputs = new ConcurrentLinkedQueue<>();
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW)
                .model("first", first)
                .transform("square", t -> {
                    float s = t.require("score1").floatAt(0);
                    return Tensors.of("sq", Tensor.ofFloats(new float[] {s * s}, 1, 1));
                })
                .model("second", second, Map.of("features", "sq"))
                .build(out -> {
                    postInputs.add(out);
                    return out.require("final").floatAt(0);
                })) {

            float result = scorer.score(row(1, 1, 1));

            float s = 1 + 2 + 3 + 0.5f;
            assertThat(result).isEqualTo(s + s * s);
            Tensors seen = second.calls().get(0);
            assertThat(seen.names()).containsExactly("score1", "features");
            assertThat(seen.require("features").floatAt(0)).isEqualTo(s * s);
            assertThat(postInputs.peek().names()).as("the postprocessor sees the last step's outputs").containsExactly("final");
            assertThat(scorer.toString()).contains("first", "square", "second");
        }
    }

    @Test
    void build_inputBindings_feedModelInputFromNamedTensor() {
        FakeLinearModel model = new FakeLinearModel("features", "score", new float[] {1, 1}, 0);
        try (Scorer<float[], Float> scorer = Pipeline.<float[]>builder(r -> Tensors.of(
                        "noise", Tensor.ofFloats(new float[] {100, 100}, 1, 2),
                        "row", Tensor.ofFloats(r, 1, r.length)))
                .model("m", model, Map.of("features", "row"))
                .build(SCORE)) {
            assertThat(scorer.score(row(2, 3))).isEqualTo(5f);
        }
    }

    @Test
    void model_bindingForUnknownInput_failsListingInputs() {
        FakeLinearModel model = linear();
        try {
            assertThatThrownBy(() -> Pipeline.builder(ROW).model("m", model, Map.of("nope", "input")))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'nope'")
                    .hasMessageContaining("[input]");
        } finally {
            model.close();
        }
    }

    @Test
    void build_unnamedModels_namedByPosition() {
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(linear())
                .transform("t", t -> Tensors.empty()).model(linear()).build(SCORE)) {
            assertThat(scorer.toString()).isEqualTo("Scorer[pipeline, steps=[model-1, t, model-3]]");
        }
    }

    @Test
    void options_setTwice_failWithIllegalState() {
        Pipeline.Builder<float[]> b = Pipeline.builder(ROW)
                .name("a").timeout(Duration.ofSeconds(1)).closeGracePeriod(Duration.ZERO)
                .asyncThreads(1).asyncQueueCapacity(1).ticker(new FakeTicker(0));

        assertThatThrownBy(() -> b.name("b")).isInstanceOf(IllegalStateException.class).hasMessageContaining("name");
        assertThatThrownBy(() -> b.timeout(Duration.ofSeconds(2))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("timeout");
        assertThatThrownBy(() -> b.closeGracePeriod(Duration.ZERO)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> b.asyncThreads(2)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> b.asyncQueueCapacity(2)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> b.ticker(new FakeTicker(0))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void options_outOfRange_failWithIllegalArgument() {
        Pipeline.Builder<float[]> b = Pipeline.builder(ROW);

        assertThatThrownBy(() -> b.timeout(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.timeout(Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.closeGracePeriod(Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.asyncThreads(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.asyncQueueCapacity(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.batchingThreads(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Pipeline.builder(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void batchingThreads_withoutBatching_failsAtBuild() {
        FakeLinearModel model = linear();
        try {
            Pipeline.Builder<float[]> b = Pipeline.builder(ROW).model(model).batchingThreads(2);

            assertThatThrownBy(() -> b.batchingThreads(3)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("batchingThreads");
            assertThatThrownBy(() -> b.build(SCORE)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("batching is off");
        } finally {
            model.close();
        }
    }

    @Test
    void build_noModelStep_failsWithIllegalState() {
        assertThatThrownBy(() -> Pipeline.builder(ROW).build(SCORE))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("model step");
        assertThatThrownBy(() -> Pipeline.builder(ROW).transform("t", t -> t).build(SCORE))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void addStep_duplicateName_failsWithIllegalArgument() {
        FakeLinearModel a = linear();
        FakeLinearModel b = linear();
        try {
            Pipeline.Builder<float[]> builder = Pipeline.builder(ROW).model("m", a);

            assertThatThrownBy(() -> builder.model("m", b))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("duplicate step name 'm'");
            assertThatThrownBy(() -> builder.transform("m", t -> t)).isInstanceOf(IllegalArgumentException.class);
        } finally {
            a.close();
            b.close();
        }
    }

    @Test
    void build_calledTwice_failsWithIllegalState() {
        Pipeline.Builder<float[]> builder = Pipeline.builder(ROW).model(linear());
        try (Scorer<float[], Float> scorer = builder.build(SCORE)) {
            assertThat(scorer).isNotNull();
            assertThatThrownBy(() -> builder.build(SCORE)).isInstanceOf(IllegalStateException.class);
            FakeLinearModel late = linear();
            try {
                assertThatThrownBy(() -> builder.model(late)).isInstanceOf(IllegalStateException.class);
            } finally {
                late.close();
            }
        }
    }
}
