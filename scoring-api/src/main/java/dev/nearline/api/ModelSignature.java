package dev.nearline.api;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The inputs a model takes and the outputs it returns, in the model's order. The engine checks every
 * record's tensors against {@link #inputs()} before the model is called. Immutable.
 *
 * @param inputs  input specs, unique names
 * @param outputs output specs, unique names; a backend may return outputs it could not declare ahead
 *                (for example the parts of a sequence output)
 */
public record ModelSignature(List<TensorSpec> inputs, List<TensorSpec> outputs) {

    /** Copies the lists and rejects duplicate names. */
    public ModelSignature {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        checkUnique(inputs, "input");
        checkUnique(outputs, "output");
    }

    /** The input named {@code name}, or {@code null}. */
    public @Nullable TensorSpec input(String name) {
        return find(inputs, name);
    }

    /** The output named {@code name}, or {@code null}. */
    public @Nullable TensorSpec output(String name) {
        return find(outputs, name);
    }

    /** Input names in order. */
    public List<String> inputNames() {
        return names(inputs);
    }

    /** Output names in order. */
    public List<String> outputNames() {
        return names(outputs);
    }

    private static @Nullable TensorSpec find(List<TensorSpec> specs, String name) {
        for (TensorSpec s : specs) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        return null;
    }

    private static List<String> names(List<TensorSpec> specs) {
        List<String> n = new ArrayList<>(specs.size());
        for (TensorSpec s : specs) {
            n.add(s.name());
        }
        return List.copyOf(n);
    }

    private static void checkUnique(List<TensorSpec> specs, String what) {
        Set<String> seen = new HashSet<>();
        for (TensorSpec s : specs) {
            if (!seen.add(s.name())) {
                throw new IllegalArgumentException("duplicate " + what + " name '" + s.name() + "'");
            }
        }
    }
}
