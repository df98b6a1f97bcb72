package dev.nearline.core;

import static dev.nearline.core.Fixtures.ROW;
import static dev.nearline.core.Fixtures.row;
import static dev.nearline.core.Fixtures.scoringFailure;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A step's input bindings name tensors that exist before it; nothing is rebound silently. */
class BindingsTest {

    @Test
    void score_bindingToATensorNothingProduces_failsNamingItInsteadOfUsingTheLoneTensor() {
        FakeLinearModel model = Fixtures.linear();
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(ROW).model("m", model, Map.of("input", "ghost"))
                .build(Fixtures.SCORE)) {
            ScoringException e = scoringFailure(() -> scorer.score(row(1, 2, 3)));

            assertThat(e.kind()).isEqualTo(Kind.INVALID_INPUT);
            assertThat(e.getMessage()).contains("'ghost'", "step 'm'");
            assertThat(model.predictCalls).hasValue(0);
        }
    }

    @Test
    void build_circularBindings_refusedNamingBothSteps() {
        FakeLinearModel a = new FakeLinearModel("input", "a_out", new float[] {1}, 0);
        FakeLinearModel b = new FakeLinearModel("input", "b_out", new float[] {1}, 0);
        assertThatThrownBy(() -> Pipeline.builder(ROW).model("a", a, Map.of("input", "b_out"))
                .model("b", b, Map.of("input", "a_out")).build(out -> 0f))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("step 'a'", "'b_out'", "later step 'b'");
        a.close();
        b.close();
    }

    @Test
    void build_bindingToTheStepsOwnOutput_refused() {
        FakeLinearModel a = new FakeLinearModel("input", "a_out", new float[] {1}, 0);
        assertThatThrownBy(() -> Pipeline.builder(ROW).model("a", a, Map.of("input", "a_out")).build(out -> 0f))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("the step itself");
        a.close();
    }

    @Test
    void load_bindingToAGhostTensorAfterJsonFeatures_refusedAtLoadWithItsPath() {
        String json = """
                {"preprocessor": {"type": "json-features", "fields": [{"name": "a"}, {"name": "b"}, {"name": "c"}]},
                 "steps": [{"name": "m", "type": "fake-linear", "weights": [1, 2, 3], "bias": 0,
                            "inputs": {"input": "ghost"}}],
                 "postprocessor": {"type": "score"}}
                """;
        assertThatThrownBy(() -> Pipeline.fromJson(json, java.nio.file.Path.of("."), PipelineLoaderTest.PLUGINS))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'ghost'", "no earlier stage produces", "[input]");
    }
}
