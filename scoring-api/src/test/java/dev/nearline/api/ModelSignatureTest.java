package dev.nearline.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelSignatureTest {
    private static final TensorSpec X = TensorSpec.of("x", DataType.FP32, -1, 3);
    private static final TensorSpec Y = TensorSpec.of("y", DataType.INT64, -1);

    @Test
    void constructor_duplicateInputName_fails() {
        assertThatThrownBy(() -> new ModelSignature(List.of(X, TensorSpec.of("x", DataType.FP64, 1)), List.of(Y)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("duplicate input name 'x'");
    }

    @Test
    void constructor_duplicateOutputName_fails() {
        assertThatThrownBy(() -> new ModelSignature(List.of(X), List.of(Y, Y)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("duplicate output name 'y'");
    }

    @Test
    void constructor_sameNameAsInputAndOutput_allowed() {
        ModelSignature s = new ModelSignature(List.of(X), List.of(X));

        assertThat(s.inputNames()).containsExactly("x");
        assertThat(s.outputNames()).containsExactly("x");
    }

    @Test
    void lookups_findByName() {
        ModelSignature s = new ModelSignature(List.of(X, Y), List.of(TensorSpec.of("score", DataType.FP32, -1, 1)));

        assertThat(s.input("y")).isEqualTo(Y);
        assertThat(s.input("score")).isNull();
        assertThat(s.output("score")).isNotNull();
        assertThat(s.inputNames()).containsExactly("x", "y");
        assertThat(s.outputNames()).containsExactly("score");
    }

    @Test
    void constructor_copiesLists() {
        List<TensorSpec> inputs = new ArrayList<>(List.of(X));
        ModelSignature s = new ModelSignature(inputs, List.of());

        inputs.add(Y);

        assertThat(s.inputs()).containsExactly(X);
        assertThatThrownBy(() -> s.inputs().add(Y)).isInstanceOf(UnsupportedOperationException.class);
    }
}
