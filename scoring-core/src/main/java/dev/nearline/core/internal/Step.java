package dev.nearline.core.internal;

import dev.nearline.api.Batching;
import dev.nearline.api.Model;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.api.Transform;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * One step of a pipeline: a model with its input bindings, or a transform. Immutable but for the batching
 * probe's verdict (see {@link BatchCall}); the model is owned by the engine. A hot swap makes a new step,
 * so a verdict never outlives the model it was measured on.
 */
public final class Step {
    /** The model declared no batch axis and no probe has decided yet. */
    static final int BATCH_UNPROVEN = 0;
    /** Records may share a model call: declared, or proven by the probe. */
    static final int BATCH_SAFE = 1;
    /** Records must not share a model call: declared {@code none}, or the probe found a difference. */
    static final int BATCH_OFF = 2;

    private final String name;
    private final @Nullable Model model;
    private final @Nullable Transform transform;
    private final TensorSpec[] specs;
    /** For each model input, the name of the pipeline tensor that feeds it. */
    private final String[] sources;
    /** For each model input, whether {@link #sources} comes from an explicit binding. */
    private final boolean[] explicit;
    private final boolean identityBinding;
    private final Map<String, String> bindings;
    private final AtomicInteger batchState;
    /** Probes that could not decide (the batched call failed though single calls worked). */
    final AtomicInteger inconclusiveProbes = new AtomicInteger();

    private Step(String name, @Nullable Model model, @Nullable Transform transform, Map<String, String> bindings) {
        this.name = name;
        this.model = model;
        this.transform = transform;
        this.bindings = bindings;
        if (model != null) {
            List<TensorSpec> inputs = Objects.requireNonNull(model.signature(), "signature").inputs();
            this.specs = inputs.toArray(new TensorSpec[0]);
            this.sources = new String[specs.length];
            this.explicit = new boolean[specs.length];
            boolean identity = true;
            for (int i = 0; i < specs.length; i++) {
                String bound = bindings.get(specs[i].name());
                explicit[i] = bound != null;
                sources[i] = bound != null ? bound : specs[i].name();
                identity &= sources[i].equals(specs[i].name());
            }
            for (String bound : bindings.keySet()) {
                if (model.signature().input(bound) == null) {
                    throw new IllegalArgumentException("step '" + name + "' binds input '" + bound
                            + "', but the model's inputs are " + model.signature().inputNames());
                }
            }
            this.identityBinding = identity;
            Batching b = Objects.requireNonNull(model.batching(), "batching");
            this.batchState = new AtomicInteger(!b.isDeclared() ? BATCH_UNPROVEN : b.isBatchable() ? BATCH_SAFE : BATCH_OFF);
        } else {
            this.specs = new TensorSpec[0];
            this.sources = new String[0];
            this.explicit = new boolean[0];
            this.identityBinding = true;
            this.batchState = new AtomicInteger(BATCH_OFF);
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

    /** The pipeline tensors this model step reads, explicitly bound or by input name; empty for a transform. */
    public List<String> sources() {
        return List.of(sources);
    }

    /** The input bindings given for this step (model input name to pipeline tensor name). */
    public Map<String, String> bindings() {
        return bindings;
    }

    /** Whether records may share a model call of this step now: declared, or proven by the probe. */
    boolean batchSafe() {
        return batchState.get() == BATCH_SAFE;
    }

    /** The batching verdict: {@link #BATCH_UNPROVEN}, {@link #BATCH_SAFE} or {@link #BATCH_OFF}. */
    int batchState() {
        return batchState.get();
    }

    /** Records the probe's verdict; a difference ({@link #BATCH_OFF}) always wins over a proof. */
    boolean decideBatching(int verdict) {
        if (verdict == BATCH_OFF) {
            return batchState.getAndSet(BATCH_OFF) != BATCH_OFF;
        }
        return batchState.compareAndSet(BATCH_UNPROVEN, verdict);
    }

    /**
     * Runs this step on one record: a transform on the tensors produced so far, or the model on its bound
     * and checked inputs, passing the model {@code timeoutNanos} when it is not negative.
     *
     * @throws ScoringException INVALID_INPUT for inputs that do not fit, or what the stage reports; anything
     *     else a stage throws (an {@link Error} included) as INTERNAL naming this step
     */
    public Tensors run(Tensors available, long timeoutNanos) {
        return model != null ? predict(bind(available), timeoutNanos) : transform(available);
    }

    /**
     * Runs the model on bound inputs.
     *
     * @throws ScoringException from the model; anything else (an {@link Error} included) as INTERNAL naming
     *     this step
     */
    public Tensors predict(Tensors inputs, long timeoutNanos) {
        Model m = Objects.requireNonNull(model, "model step");
        Tensors out;
        try {
            out = timeoutNanos < 0 ? m.predict(inputs) : m.predict(inputs, Duration.ofNanos(timeoutNanos));
        } catch (ScoringException e) {
            throw e;
        } catch (Throwable e) { // NOPMD: a model's Error must fail this record, not the caller or a pool thread
            throw Failures.internal("step '" + name + "' failed", e);
        }
        if (out == null) {
            throw new ScoringException(Kind.INTERNAL, "step '" + name + "' returned null");
        }
        return out;
    }

    private Tensors transform(Tensors available) {
        Transform t = Objects.requireNonNull(transform, "transform step");
        Tensors out;
        try {
            out = t.transform(available);
        } catch (ScoringException e) {
            throw e;
        } catch (Throwable e) { // NOPMD: see predict
            throw Failures.internal("transform '" + name + "' failed", e);
        }
        if (out == null) {
            throw new ScoringException(Kind.INTERNAL, "transform '" + name + "' returned null");
        }
        return out;
    }

    /**
     * Selects this model step's inputs from the tensors produced so far and checks them against the
     * model's signature. Allocation-free when the pipeline tensors are exactly the model's inputs. A lone
     * pipeline tensor feeds a lone input whatever its name, unless the input is bound explicitly.
     *
     * @throws ScoringException INVALID_INPUT naming the step, tensor and expected vs actual
     */
    public Tensors bind(Tensors available) {
        Tensors inputs;
        if (identityBinding && sameNames(available)) {
            inputs = available;
        } else if (specs.length == 1 && available.size() == 1 && !explicit[0] && !available.contains(sources[0])) {
            // A lone tensor feeds a lone input whatever its name: the common single-model case.
            inputs = Tensors.of(specs[0].name(), available.get(0));
        } else {
            Tensors.Builder b = Tensors.builder();
            for (int i = 0; i < specs.length; i++) {
                Tensor t = available.get(sources[i]);
                if (t == null) {
                    throw ScoringException.invalidInput("step '" + name + "' needs tensor '" + sources[i]
                            + "' for input '" + specs[i].name() + "', but the pipeline has only "
                            + clippedNames(available));
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

    /** The tensor names for a message: at most 8, each clipped, since a record may name its own tensors. */
    private static String clippedNames(Tensors available) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < available.size() && i < 8; i++) {
            String n = available.name(i);
            b.append(i == 0 ? "" : ", ").append(n.length() > 40 ? n.substring(0, 40) + "..." : n);
        }
        return b.append(available.size() > 8 ? ", ... (" + available.size() + " tensors)]" : "]").toString();
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
