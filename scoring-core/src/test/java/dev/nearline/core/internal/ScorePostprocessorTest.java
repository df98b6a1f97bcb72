package dev.nearline.core.internal;

import static dev.nearline.core.internal.JsonFixtures.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ScorePostprocessorTest {

    private static ScorePostprocessor create(String json) {
        JsonSettings s = settings("$.postprocessor", json);
        ScorePostprocessor p = (ScorePostprocessor) new ScorePostprocessor.Provider().create(s);
        s.markRead("type");
        s.checkAllRead();
        return p;
    }

    private static Object score(ScorePostprocessor p, Tensor t) {
        return p.postprocess(Tensors.of("out", t));
    }

    private static List<Object> keys(Object map) {
        return new java.util.ArrayList<>(((Map<?, ?>) map).keySet());
    }

    @Test
    void postprocess_oneByOneOutput_returnsScoreOnly() {
        Object r = score(create("{}"), Tensor.ofFloats(new float[] {0.25f}, 1, 1));

        assertThat(r).isEqualTo(Map.of("score", 0.25));
    }

    @Test
    void postprocess_twoClassOutput_takesLastElement() {
        ScorePostprocessor p = create("{}");

        assertThat(score(p, Tensor.ofFloats(new float[] {0.75f, 0.25f}, 1, 2))).isEqualTo(Map.of("score", 0.25));
        assertThat(score(p, Tensor.ofDoubles(new double[] {0.1, 0.9}, 2))).isEqualTo(Map.of("score", 0.9));
        assertThat(score(p, Tensor.ofFloats(new float[] {0.5f}))).isEqualTo(Map.of("score", 0.5));
        assertThat(score(p, Tensor.ofLongs(new long[] {3}, 1))).isEqualTo(Map.of("score", 3.0));
    }

    @Test
    void postprocess_index_picksThatElement() {
        assertThat(score(create("{\"index\": 0}"), Tensor.ofFloats(new float[] {0.75f, 0.25f}, 1, 2)))
                .isEqualTo(Map.of("score", 0.75));
    }

    @Test
    void postprocess_thresholdAndLabels_decideAtOrAbove() {
        ScorePostprocessor p = create("{\"threshold\": 0.5, \"labels\": [\"legit\", \"fraud\"]}");

        Map<?, ?> at = (Map<?, ?>) score(p, Tensor.ofFloats(new float[] {0.5f}, 1, 1));
        Map<?, ?> below = (Map<?, ?>) score(p, Tensor.ofFloats(new float[] {0.25f}, 1, 1));

        assertThat(keys(at)).containsExactly("score", "decision", "label");
        assertThat(at.get("decision")).isEqualTo(true);
        assertThat(at.get("label")).isEqualTo("fraud");
        assertThat(below.get("decision")).isEqualTo(false);
        assertThat(below.get("label")).isEqualTo("legit");
    }

    @Test
    void postprocess_thresholdWithoutLabels_decidesOnly() {
        assertThat(score(create("{\"threshold\": 0.1}"), Tensor.ofFloats(new float[] {0.25f}, 1, 1)))
                .isEqualTo(Map.of("score", 0.25, "decision", true));
    }

    @Test
    void postprocess_namedOutput_readsIt() {
        ScorePostprocessor p = create("{\"output\": \"probabilities\"}");
        Tensors outputs = Tensors.of("label", Tensor.ofLongs(new long[] {1}, 1),
                "probabilities", Tensor.ofFloats(new float[] {0.25f, 0.75f}, 1, 2));

        assertThat(p.postprocess(outputs)).isEqualTo(Map.of("score", 0.75));
        assertThatThrownBy(() -> p.postprocess(Tensors.of("x", Tensor.ofFloats(new float[] {1}, 1))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'probabilities'");
    }

    @Test
    void postprocess_indexOutsideOutput_failsNamingIt() {
        assertThatThrownBy(() -> score(create("{\"index\": 2}"), Tensor.ofFloats(new float[] {1, 2}, 1, 2)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("index 2")
                .hasMessageContaining("FP32[1, 2]");
    }

    @Test
    void postprocess_emptyOutput_fails() {
        assertThatThrownBy(() -> score(create("{}"), Tensor.ofFloats(new float[0], 1, 0)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("empty");
    }

    @Test
    void create_labelsWithoutThreshold_fails() {
        assertThatThrownBy(() -> create("{\"labels\": [\"a\", \"b\"]}"))
                .hasMessage("$.postprocessor.labels: labels need a threshold");
    }

    @Test
    void create_wrongLabelCount_fails() {
        assertThatThrownBy(() -> create("{\"threshold\": 0.5, \"labels\": [\"a\", \"b\", \"c\"]}"))
                .hasMessageContaining("$.postprocessor.labels: expected two labels");
    }

    @Test
    void create_negativeIndex_fails() {
        assertThatThrownBy(() -> create("{\"index\": -2}")).hasMessageContaining("$.postprocessor.index");
    }

    @Test
    void create_unknownKey_reported() {
        assertThatThrownBy(() -> create("{\"treshold\": 0.5}")).hasMessageContaining("$.postprocessor.treshold: unknown key");
    }
}
