package dev.nearline.core.internal;

import static dev.nearline.core.internal.JsonFixtures.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClassesPostprocessorTest {
    private static final Tensor PROBS = Tensor.ofFloats(new float[] {0.25f, 0.5f, 0.125f, 0.125f}, 1, 4);

    private static ClassesPostprocessor create(String json) {
        JsonSettings s = settings("$.postprocessor", json);
        ClassesPostprocessor p = (ClassesPostprocessor) new ClassesPostprocessor.Provider().create(s);
        s.markRead("type");
        s.checkAllRead();
        return p;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> classes(ClassesPostprocessor p, Tensors outputs) {
        return (Map<String, Object>) p.postprocess(outputs);
    }

    private static List<Object> keys(Object map) {
        return new java.util.ArrayList<>(((Map<?, ?>) map).keySet());
    }

    @Test
    void postprocess_noLabels_namesClassesByIndex() {
        Map<String, Object> r = classes(create("{}"), Tensors.of("probabilities", PROBS));

        assertThat(r.keySet()).containsExactly("label", "probability", "probabilities");
        assertThat(r.get("label")).isEqualTo("1");
        assertThat(r.get("probability")).isEqualTo(0.5);
        assertThat(r.get("probabilities")).isEqualTo(Map.of("0", 0.25, "1", 0.5, "2", 0.125, "3", 0.125));
        assertThat(keys(r.get("probabilities"))).containsExactly("0", "1", "2", "3");
    }

    @Test
    void postprocess_configuredLabels_nameClasses() {
        Map<String, Object> r = classes(create("{\"labels\": [\"a\", \"b\", \"c\", \"d\"]}"),
                Tensors.of("p", Tensor.ofDoubles(new double[] {0.1, 0.2, 0.3, 0.4}, 4)));

        assertThat(r.get("label")).isEqualTo("d");
        assertThat(keys(r.get("probabilities"))).containsExactly("a", "b", "c", "d");
    }

    @Test
    void postprocess_stringKeysTensor_labelsInKeysOrder() {
        Tensors outputs = Tensors.of("label", Tensor.ofStrings(new String[] {"b"}, 1),
                        "probabilities", PROBS)
                .with("probabilities.keys", Tensor.ofStrings(new String[] {"z", "b", "a", "c"}, 4));

        Map<String, Object> r = classes(create("{}"), outputs);

        assertThat(r.get("label")).isEqualTo("b");
        assertThat(keys(r.get("probabilities"))).containsExactly("z", "b", "a", "c");
    }

    @Test
    void postprocess_int64KeysTensor_labelsAreKeys() {
        Tensors outputs = Tensors.of("probabilities", PROBS,
                "probabilities.keys", Tensor.ofLongs(new long[] {7, 3, 11, 5}, 4));

        Map<String, Object> r = classes(create("{}"), outputs);

        assertThat(r.get("label")).isEqualTo("3");
        assertThat(keys(r.get("probabilities"))).containsExactly("7", "3", "11", "5");
    }

    @Test
    void postprocess_keysOfWrongLength_failsNamingBothCounts() {
        Tensors outputs = Tensors.of("probabilities", PROBS, "probabilities.keys", Tensor.ofLongs(new long[] {7}, 1));

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> classes(create("{}"), outputs))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("has 4 classes but 'probabilities.keys' has 1 keys");
    }

    @Test
    void postprocess_topK_bestFirstTiesInModelOrder() {
        Map<String, Object> r = classes(create("{\"topK\": 3, \"labels\": [\"a\", \"b\", \"c\", \"d\"]}"),
                Tensors.of("p", PROBS));

        assertThat(r.keySet()).containsExactly("label", "probability", "top", "probabilities");
        assertThat(r.get("top")).isEqualTo(List.of(
                Map.of("label", "b", "probability", 0.5),
                Map.of("label", "a", "probability", 0.25),
                Map.of("label", "c", "probability", 0.125)));
    }

    @Test
    void postprocess_topKAboveClassCount_listsAllClasses() {
        Map<String, Object> r = classes(create("{\"topK\": 10, \"probabilities\": false}"), Tensors.of("p", PROBS));

        assertThat((List<?>) r.get("top")).hasSize(4);
        assertThat(r).doesNotContainKey("probabilities");
    }

    @Test
    void postprocess_tie_firstClassWins() {
        Map<String, Object> r = classes(create("{}"), Tensors.of("p", Tensor.ofFloats(new float[] {0.5f, 0.5f}, 2)));

        assertThat(r.get("label")).isEqualTo("0");
    }

    @Test
    void postprocess_noOutputName_usesFirstFloatingPointOutput() {
        Tensors outputs = Tensors.of("label", Tensor.ofLongs(new long[] {1}, 1), "probabilities", PROBS);

        assertThat(classes(create("{}"), outputs).get("probability")).isEqualTo(0.5);
        assertThat(classes(create("{\"output\": \"probabilities\"}"), outputs).get("label")).isEqualTo("1");
    }

    @Test
    void postprocess_noFloatingPointOutput_failsAskingForOutput() {
        assertThatThrownBy(() -> create("{}").postprocess(Tensors.of("label", Tensor.ofLongs(new long[] {1}, 1))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("set 'output'");
    }

    @Test
    void postprocess_batchOfRecords_failsNamingShape() {
        assertThatThrownBy(() -> create("{}").postprocess(Tensors.of("p", Tensor.ofFloats(new float[4], 2, 2))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'p'")
                .hasMessageContaining("FP32[2, 2]");
    }

    @Test
    void postprocess_labelCountDiffers_fails() {
        assertThatThrownBy(() -> create("{\"labels\": [\"a\"]}").postprocess(Tensors.of("p", PROBS)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1 labels")
                .hasMessageContaining("4 classes");
    }

    @Test
    void create_negativeTopK_fails() {
        assertThatThrownBy(() -> create("{\"topK\": -1}")).hasMessageContaining("$.postprocessor.topK");
    }
}
