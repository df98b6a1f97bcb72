package dev.nearline.api;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * An ordered set of uniquely named {@link Tensor}s: the inputs or outputs of a pipeline stage.
 * Immutable and thread-safe; the {@code with} methods return new instances.
 */
public final class Tensors {
    private static final Tensors EMPTY = new Tensors(new String[0], new Tensor[0]);

    // One tensor (the common case on the per-record path) is held in fields, without arrays.
    private final @Nullable String name0;
    private final @Nullable Tensor tensor0;
    private final String @Nullable [] array0;
    private final Tensor @Nullable [] tensorArray0;

    private Tensors(String[] names, Tensor[] tensors) {
        if (names.length == 1) {
            this.name0 = names[0];
            this.tensor0 = tensors[0];
            this.array0 = null;
            this.tensorArray0 = null;
        } else {
            this.name0 = null;
            this.tensor0 = null;
            this.array0 = names;
            this.tensorArray0 = tensors;
        }
    }

    private Tensors(String name, Tensor tensor) {
        this.name0 = name;
        this.tensor0 = tensor;
        this.array0 = null;
        this.tensorArray0 = null;
    }

    private String[] nameArray() {
        return array0 != null ? array0 : new String[] {Objects.requireNonNull(name0)};
    }

    private Tensor[] tensorArray() {
        return tensorArray0 != null ? tensorArray0 : new Tensor[] {Objects.requireNonNull(tensor0)};
    }

    /** No tensors. */
    public static Tensors empty() {
        return EMPTY;
    }

    /** One named tensor. */
    public static Tensors of(String name, Tensor tensor) {
        return new Tensors(Objects.requireNonNull(name, "name"), Objects.requireNonNull(tensor, "tensor"));
    }

    /** Two named tensors, in this order. */
    public static Tensors of(String name1, Tensor tensor1, String name2, Tensor tensor2) {
        return builder().add(name1, tensor1).add(name2, tensor2).build();
    }

    /** The entries of {@code map} in its iteration order. */
    public static Tensors of(Map<String, Tensor> map) {
        Builder b = builder();
        map.forEach(b::add);
        return b.build();
    }

    /** A builder that keeps insertion order and rejects duplicate names. */
    public static Builder builder() {
        return new Builder();
    }

    /** The number of tensors. */
    public int size() {
        return array0 == null ? 1 : array0.length;
    }

    /** Whether there are no tensors. */
    public boolean isEmpty() {
        return size() == 0;
    }

    /** The names, in order (an unmodifiable list). */
    public List<String> names() {
        return Collections.unmodifiableList(Arrays.asList(nameArray()));
    }

    /** The name at position {@code index}. */
    public String name(int index) {
        if (array0 == null) {
            Objects.checkIndex(index, 1);
            return Objects.requireNonNull(name0);
        }
        return array0[index];
    }

    /** The tensor at position {@code index}. */
    public Tensor get(int index) {
        if (tensorArray0 == null) {
            Objects.checkIndex(index, 1);
            return Objects.requireNonNull(tensor0);
        }
        return tensorArray0[index];
    }

    /** The tensor named {@code name}, or {@code null} when there is none. */
    public @Nullable Tensor get(String name) {
        int i = indexOf(name);
        return i < 0 ? null : get(i);
    }

    /**
     * The tensor named {@code name}.
     *
     * @throws IllegalArgumentException naming the tensors present when there is none
     */
    public Tensor require(String name) {
        int i = indexOf(name);
        if (i < 0) {
            throw new IllegalArgumentException("no tensor named '" + name + "' (have " + Arrays.toString(nameArray()) + ")");
        }
        return get(i);
    }

    /** Whether a tensor named {@code name} is present. */
    public boolean contains(String name) {
        return indexOf(name) >= 0;
    }

    /** The position of {@code name}, or -1. */
    public int indexOf(String name) {
        if (array0 == null) {
            return Objects.requireNonNull(name0).equals(name) ? 0 : -1;
        }
        for (int i = 0; i < array0.length; i++) {
            if (array0[i].equals(name)) {
                return i;
            }
        }
        return -1;
    }

    /** A copy with {@code tensor} added under {@code name}, replacing a tensor of that name in place. */
    public Tensors with(String name, Tensor tensor) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(tensor, "tensor");
        int i = indexOf(name);
        String[] names = nameArray();
        Tensor[] tensors = tensorArray();
        if (i >= 0) {
            Tensor[] t = tensors.clone();
            t[i] = tensor;
            return new Tensors(names, t);
        }
        String[] n = Arrays.copyOf(names, names.length + 1);
        Tensor[] t = Arrays.copyOf(tensors, tensors.length + 1);
        n[names.length] = name;
        t[tensors.length] = tensor;
        return new Tensors(n, t);
    }

    /** A copy with every tensor of {@code other} added (replacing same-named ones). */
    public Tensors withAll(Tensors other) {
        if (isEmpty()) {
            return other;
        }
        Tensors result = this;
        for (int i = 0; i < other.size(); i++) {
            result = result.with(other.name(i), other.get(i));
        }
        return result;
    }

    /** The tensors as an insertion-ordered, unmodifiable map. */
    public Map<String, Tensor> toMap() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (int i = 0; i < size(); i++) {
            m.put(name(i), get(i));
        }
        return Collections.unmodifiableMap(m);
    }

    /** Equal when names, order and tensors are equal. */
    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof Tensors && Arrays.equals(nameArray(), ((Tensors) o).nameArray())
                && Arrays.equals(tensorArray(), ((Tensors) o).tensorArray());
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(nameArray()) * 31 + Arrays.hashCode(tensorArray());
    }

    /** Names with types and shapes, such as {@code {input=FP32[1, 30]}}; never values. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(name(i)).append('=').append(get(i));
        }
        return sb.append('}').toString();
    }

    /** Builds a {@link Tensors}; not thread-safe, use once. */
    public static final class Builder {
        private final Map<String, Tensor> map = new LinkedHashMap<>();

        private Builder() {
        }

        /**
         * Adds a tensor.
         *
         * @throws IllegalArgumentException if {@code name} was already added
         */
        public Builder add(String name, Tensor tensor) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(tensor, "tensor");
            if (map.putIfAbsent(name, tensor) != null) {
                throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
            }
            return this;
        }

        /** The tensors added so far, in order. */
        public Tensors build() {
            return new Tensors(map.keySet().toArray(new String[0]), map.values().toArray(new Tensor[0]));
        }
    }
}
