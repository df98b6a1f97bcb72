package dev.nearline.core.internal;

import dev.nearline.api.Model;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.api.Transform;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One step of a pipeline: a model with its input bindings, or a transform. Immutable; the model is
 * owned by the engine.
 */
public final class Step {
    private final String name;
    private final @Nullable Model model;
    private final @Nullable Transform transform;
    private final TensorSpec[] specs;
    /** For each model input, the name of the pipeline tensor that feeds it. */
    private final String[] sources;
    private final boolean identityBinding;
    private final Map<String, String> bindings;

    private Step(String name, @Nullable Model model, @Nullable Transform transform, Map<String, String> bindings) {
        this.name = name;
        this.model = model;
        this.transform = transform;
        this.bindings = bindings;
        if (model != null) {
            List<TensorSpec> inputs = model.signature().inputs();
            this.specs = inputs.toArray(new TensorSpec[0]);
            this.sources = new String[specs.length];
            boolean identity = true;
            for (int i = 0; i < specs.length; i++) {
                sources[i] = bindings.getOrDefault(specs[i].name(), specs[i].name());
                identity &= sources[i].equals(specs[i].name());
            }
            for (String bound : bindings.keySet()) {
                if (model.signature().input(bound) == null) {
                    throw new IllegalArgumentException("step '" + name + "' binds input '" + bound
                            + "', but the model's inputs are " + model.signature().inputNames());
                }
            }
            this.identityBinding = identity;
        } else {
            this.specs = new TensorSpec[0];
            this.sources = new String[0];
            this.identityBinding = true;
        }
    }

    /** A model step; {@code bindings} maps model input names to pipeline tensor names. */
    public static Step model(String name, Model model, Map<String, String> bindings) {
        return new Step(Objects.requireNonNull(name, "name"), Objects.requireNonNull(model, "model"), null,
                Map.copyOf(bindings));
    }

    /** A transform step. */
    public static Step transform(String name, Transform transform) {
        return new Step(Objects.requireNonNull(name, "name"), null, Objects.requireNonNull(transform, "transform"),
                Map.of());
    }

    /** The same step running {@code replacement} (hot swap); bindings are checked against its signature. */
    public Step withModel(Model replacement) {
        if (model == null) {
            throw new IllegalArgumentException("step '" + name + "' is a transform, not a model step");
        }
        return new Step(name, Objects.requireNonNull(replacement, "model"), null, bindings);
    }

    /**
     * Runs the model on bound inputs, reporting anything but a {@link ScoringException} as INTERNAL.
     *
     * @throws ScoringException from the model, or INTERNAL naming this step
     */
    public Tensors predict(Tensors inputs) {
        return predict(inputs, -1);
    }

    /**
     * As {@link #predict(Tensors)}, passing the model {@code timeoutNanos} (the time left before the
     * record's deadline) when it is not negative.
     */
    public Tensors predict(Tensors inputs, long timeoutNanos) {
        Model m = Objects.requireNonNull(model, "model step");
        Tensors out;
        try {
            out = timeoutNanos < 0 ? m.predict(inputs) : m.predict(inputs, java.time.Duration.ofNanos(timeoutNanos));
        } catch (ScoringException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new ScoringException(ScoringException.Kind.INTERNAL, "step '" + name + "' failed: " + e, e);
        }
        if (out == null) {
            throw new ScoringException(ScoringException.Kind.INTERNAL, "step '" + name + "' returned null");
        }
        return out;
    }

    /** Whether this is a model step. */
    public boolean isModel() {
        return model != null;
    }

    /** The step's name, used in messages and metrics. */
    public String name() {
        return name;
    }

    /** The model, or {@code null} for a transform. */
    public @Nullable Model model() {
        return model;
    }

    /** The transform, or {@code null} for a model step. */
    public @Nullable Transform transform() {
        return transform;
    }

    /**
     * Selects this model step's inputs from the tensors produced so far and checks them against the
     * model's signature. Allocation-free when the pipeline tensors are exactly the model's inputs.
     *
     * @throws ScoringException INVALID_INPUT naming the step, tensor and expected vs actual
     */
    public Tensors bind(Tensors available) {
        Tensors inputs;
        if (identityBinding && sameNames(available)) {
            inputs = available;
        } else if (specs.length == 1 && available.size() == 1 && !available.contains(sources[0])) {
            // A lone tensor feeds a lone input whatever its name: the common single-model case.
            inputs = Tensors.of(specs[0].name(), available.get(0));
        } else {
            Tensors.Builder b = Tensors.builder();
            for (int i = 0; i < specs.length; i++) {
                Tensor t = available.get(sources[i]);
                if (t == null) {
                    throw ScoringException.invalidInput("step '" + name + "' needs tensor '" + sources[i]
                            + "' for input '" + specs[i].name() + "', but the pipeline has only "
                            + available.names());
                }
                b.add(specs[i].name(), t);
            }
            inputs = b.build();
        }
        for (int i = 0; i < specs.length; i++) {
            String mismatch = specs[i].mismatch(inputs.get(i));
            if (mismatch != null) {
                throw ScoringException.invalidInput("step '" + name + "' input " + mismatch);
            }
        }
        return inputs;
    }

    private boolean sameNames(Tensors available) {
        if (available.size() != specs.length) {
            return false;
        }
        for (int i = 0; i < specs.length; i++) {
            if (!available.name(i).equals(specs[i].name())) {
                return false;
            }
        }
        return true;
    }
}
