package dev.nearline.core.internal;

import dev.nearline.api.Preprocessor;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Checks a pipeline's input bindings when it is built: a step may read only tensors produced before it. A
 * binding to a tensor that a later step produces (a forward or circular reference), or to a tensor that no
 * stage produces at all, is refused with a message naming the step, the input and the tensors available
 * there. What a stage produces is known from model signatures and from built-in preprocessors
 * ({@link DeclaresOutputs}); after a stage whose outputs are not known (a code-defined preprocessor, a
 * transform) a binding to an unknown name can only be checked when the record is scored.
 */
final class Bindings {
    private Bindings() {
    }

    /** The outputs of a built-in stage, known before any record is scored. */
    interface DeclaresOutputs {
        /** The names of the tensors the stage produces, for every record. */
        List<String> outputNames();
    }

    /**
     * @throws IllegalArgumentException naming the step, input and tensor of the first binding that cannot be
     *     satisfied
     */
    static void check(String pipeline, Preprocessor<?> preprocessor, Step[] steps) {
        Set<String> produced = new LinkedHashSet<>();
        boolean complete = preprocessor instanceof DeclaresOutputs;
        if (complete) {
            produced.addAll(((DeclaresOutputs) preprocessor).outputNames());
        }
        for (int i = 0; i < steps.length; i++) {
            Step step = steps[i];
            for (Map.Entry<String, String> binding : step.bindings().entrySet()) {
                String tensor = binding.getValue();
                if (produced.contains(tensor)) {
                    continue;
                }
                String later = producer(steps, i, tensor);
                if (later != null) {
                    throw new IllegalArgumentException("pipeline '" + pipeline + "': step '" + step.name() + "' binds input '"
                            + binding.getKey() + "' to tensor '" + tensor + "', which "
                            + (later.equals(step.name()) ? "the step itself" : "the later step '" + later + "'")
                            + " produces; a step can read only tensors produced before it"
                            + (complete ? ", here " + produced : ""));
                }
                if (complete) {
                    throw new IllegalArgumentException("pipeline '" + pipeline + "': step '" + step.name() + "' binds input '"
                            + binding.getKey() + "' to tensor '" + tensor + "', which no earlier stage produces; the "
                            + "tensors before this step are " + produced);
                }
            }
            if (step.isModel()) {
                produced.addAll(Objects.requireNonNull(step.model()).signature().outputNames());
            } else {
                complete = false; // a transform's outputs are known only when it runs
            }
        }
    }

    /** The name of the step at or after {@code from} whose model declares output {@code tensor}, or null. */
    private static @Nullable String producer(Step[] steps, int from, String tensor) {
        for (int j = from; j < steps.length; j++) {
            if (steps[j].isModel() && Objects.requireNonNull(steps[j].model()).signature().output(tensor) != null) {
                return steps[j].name();
            }
        }
        return null;
    }
}
