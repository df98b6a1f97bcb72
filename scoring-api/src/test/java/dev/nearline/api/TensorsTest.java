package dev.nearline.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TensorsTest {
    private static final Tensor A = Tensor.ofFloats(new float[] {1}, 1);
    private static final Tensor B = Tensor.ofLongs(new long[] {2}, 1);
    private static final Tensor C = Tensor.ofStrings(new String[] {"c"}, 1);

    @Test
    void builder_keepsInsertionOrder() {
        Tensors t = Tensors.builder().add("z", A).add("a", B).add("m", C).build();

        assertThat(t.names()).containsExactly("z", "a", "m");
        assertThat(t.size()).isEqualTo(3);
        assertThat(t.name(1)).isEqualTo("a");
        assertThat(t.get(1)).isSameAs(B);
        assertThat(t.indexOf("m")).isEqualTo(2);
        assertThat(t.toMap().keySet()).containsExactly("z", "a", "m");
    }

    @Test
    void builder_duplicateName_failsNamingIt() {
        Tensors.Builder b = Tensors.builder().add("x", A);

        assertThatThrownBy(() -> b.add("x", B))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("duplicate tensor name 'x'");
    }

    @Test
    void ofTwo_duplicateName_fails() {
        assertThatThrownBy(() -> Tensors.of("x", A, "x", B)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void ofMap_keepsMapOrder() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("second", B);
        m.put("first", A);

        assertThat(Tensors.of(m).names()).containsExactly("second", "first");
    }

    @Test
    void get_missingName_returnsNull() {
        Tensors t = Tensors.of("x", A);

        assertThat(t.get("x")).isSameAs(A);
        assertThat(t.get("y")).isNull();
        assertThat(t.contains("x")).isTrue();
        assertThat(t.contains("y")).isFalse();
        assertThat(t.indexOf("y")).isEqualTo(-1);
    }

    @Test
    void require_missingName_failsListingPresentNames() {
        Tensors t = Tensors.of("x", A, "y", B);

        assertThat(t.require("y")).isSameAs(B);
        assertThatThrownBy(() -> t.require("z"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'z'")
                .hasMessageContaining("[x, y]");
    }

    @Test
    void with_newName_appendsWithoutChangingOriginal() {
        Tensors t = Tensors.of("x", A);

        Tensors t2 = t.with("y", B);

        assertThat(t2.names()).containsExactly("x", "y");
        assertThat(t.names()).containsExactly("x");
    }

    @Test
    void with_existingName_replacesInPlace() {
        Tensors t = Tensors.of("x", A, "y", B);

        Tensors t2 = t.with("x", C);

        assertThat(t2.names()).containsExactly("x", "y");
        assertThat(t2.get("x")).isSameAs(C);
        assertThat(t.get("x")).isSameAs(A);
    }

    @Test
    void withAll_mergesReplacingSameNames() {
        Tensors t = Tensors.of("x", A, "y", B);

        Tensors merged = t.withAll(Tensors.of("y", C, "z", A));

        assertThat(merged.names()).containsExactly("x", "y", "z");
        assertThat(merged.get("y")).isSameAs(C);
        assertThat(Tensors.empty().withAll(t)).isEqualTo(t);
        assertThat(t.withAll(Tensors.empty())).isEqualTo(t);
    }

    @Test
    void names_isUnmodifiable() {
        Tensors t = Tensors.of("x", A);

        assertThatThrownBy(() -> t.names().set(0, "y")).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> t.toMap().put("y", B)).isInstanceOf(UnsupportedOperationException.class);
        assertThat(t.names()).containsExactly("x");
    }

    @Test
    void empty_hasNoTensors() {
        assertThat(Tensors.empty().isEmpty()).isTrue();
        assertThat(Tensors.empty().size()).isZero();
        assertThat(Tensors.builder().build()).isEqualTo(Tensors.empty());
    }

    @Test
    void equals_sameNamesOrderAndTensors_equal() {
        Tensors a = Tensors.of("x", Tensor.ofFloats(new float[] {1}, 1), "y", B);
        Tensors b = Tensors.of("x", Tensor.ofFloats(new float[] {1}, 1), "y", B);

        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a).isNotEqualTo(Tensors.of("y", B, "x", A));
    }

    @Test
    void toString_namesTypesAndShapesOnly() {
        Tensors t = Tensors.of("amount", Tensor.ofFloats(new float[] {42.5f, 1f}, 1, 2));

        assertThat(t.toString()).isEqualTo("{amount=FP32[1, 2]}");
    }

    @Test
    void of_nullNameOrTensor_failsFast() {
        assertThatThrownBy(() -> Tensors.of(null, A)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> Tensors.of("x", null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> Tensors.empty().with("x", null)).isInstanceOf(NullPointerException.class);
    }
}
