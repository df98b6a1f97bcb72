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

    private final String[] names;
    private final Tensor[] tensors;

    private Tensors(String[] names, Tensor[] tensors) {
        this.names = names;
        this.tensors = tensors;
    }

    /** No tensors. */
    public static Tensors empty() {
        return EMPTY;
    }

    /** One named tensor. */
    public static Tensors of(String name, Tensor tensor) {
        return new Tensors(new String[] {Objects.requireNonNull(name, "name")},
                new Tensor[] {Objects.requireNonNull(tensor, "tensor")});
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
        return names.length;
    }

    /** Whether there are no tensors. */
    public boolean isEmpty() {
        return names.length == 0;
    }

    /** The names, in order (an unmodifiable list). */
    public List<String> names() {
        return Collections.unmodifiableList(Arrays.asList(names));
    }

    /** The name at position {@code index}. */
    public String name(int index) {
        return names[index];
    }

    /** The tensor at position {@code index}. */
    public Tensor get(int index) {
        return tensors[index];
    }

    /** The tensor named {@code name}, or {@code null} when there is none. */
    public @Nullable Tensor get(String name) {
        int i = indexOf(name);
        return i < 0 ? null : tensors[i];
    }

    /**
     * The tensor named {@code name}.
     *
     * @throws IllegalArgumentException naming the tensors present when there is none
     */
    public Tensor require(String name) {
        int i = indexOf(name);
        if (i < 0) {
            throw new IllegalArgumentException("no tensor named '" + name + "' (have " + Arrays.toString(names) + ")");
        }
        return tensors[i];
    }

    /** Whether a tensor named {@code name} is present. */
    public boolean contains(String name) {
        return indexOf(name) >= 0;
    }

    /** The position of {@code name}, or -1. */
    public int indexOf(String name) {
        for (int i = 0; i < names.length; i++) {
            if (names[i].equals(name)) {
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
            result = result.with(other.names[i], other.tensors[i]);
        }
        return result;
    }

    /** The tensors as an insertion-ordered, unmodifiable map. */
    public Map<String, Tensor> toMap() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (int i = 0; i < names.length; i++) {
            m.put(names[i], tensors[i]);
        }
        return Collections.unmodifiableMap(m);
    }

    /** Equal when names, order and tensors are equal. */
    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof Tensors && Arrays.equals(names, ((Tensors) o).names)
                && Arrays.equals(tensors, ((Tensors) o).tensors);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(names) * 31 + Arrays.hashCode(tensors);
    }

    /** Names with types and shapes, such as {@code {input=FP32[1, 30]}}; never values. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < names.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(names[i]).append('=').append(tensors[i]);
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
