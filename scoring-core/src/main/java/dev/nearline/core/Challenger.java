package dev.nearline.core;

import dev.nearline.api.Model;
import dev.nearline.api.Tensors;
import dev.nearline.api.Ticker;
import dev.nearline.api.Transform;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A challenger for a pipeline's model: its own model steps (one model, or a chain of models and transforms),
 * fed with the champion's preprocessed tensors and read like the champion's outputs, that score a sample of the
 * live records off the caller's path so that a {@link QualityMonitor} can compare the two on the same traffic.
 *
 * <pre>{@code
 * ManagedScorer<Transaction, Float> scorer = Pipeline.builder(pre)
 *     .model("fraud", champion)
 *     .quality(quality, Transaction::id)
 *     .challenger(Challenger.builder().model("fraud", candidate).sample(0.10).build())
 *     .build(post);
 * }</pre>
 *
 * <p>The champion never waits for the challenger and is never failed by it: a scoring thread only offers a
 * sampled record to a bounded queue and goes on (a full queue drops the record, counted); the challenger runs on
 * its own daemon threads, and whatever it throws or however long it blocks is counted there. The sample is
 * chosen by a hash of the record's id, so the same id is always in or out. The scorer owns the challenger's
 * models and closes them when it closes. Promoting the challenger is a hot swap of the champion:
 * {@link ManagedScorer#swapModel} with a new instance of the challenger's model. Immutable once built; give
 * each challenger to one pipeline.
 */
public final class Challenger {
    static final int MAX_THREADS = 64;
    static final int MAX_QUEUE = 1_000_000;
    private final List<StepSpec> steps;
    private final double sample;
    private final int threads;
    private final int queueCapacity;
    private final @Nullable String output;
    private final int index;
    private final @Nullable Duration timeout;

    private Challenger(Builder b) {
        this.steps = List.copyOf(b.steps);
        this.sample = Double.isNaN(b.sample) ? 0.10 : b.sample;
        this.threads = b.threads == -1 ? 1 : b.threads;
        this.queueCapacity = b.queueCapacity == -1 ? 1024 : b.queueCapacity;
        this.output = b.output;
        this.index = b.index;
        this.timeout = b.timeout;
    }

    /** A builder with the defaults: 10% of the records, one thread, a queue of 1,024. */
    public static Builder builder() {
        return new Builder();
    }

    double sample() {
        return sample;
    }

    int threads() {
        return threads;
    }

    int queueCapacity() {
        return queueCapacity;
    }

    @Nullable String output() {
        return output;
    }

    int index() {
        return index;
    }

    /** The challenger's models, to close them when the pipeline cannot be built. */
    List<Model> models() {
        List<Model> models = new ArrayList<>();
        for (StepSpec s : steps) {
            if (s.model != null) {
                models.add(s.model);
            }
        }
        return models;
    }

    /** A scorer of the challenger's steps, from the champion's preprocessed tensors to the last step's outputs. */
    ManagedScorer<Tensors, Tensors> scorer(String pipeline, Ticker ticker, int warmup) {
        Pipeline.Builder<Tensors> b = Pipeline.builder((Tensors t) -> t).name(pipeline + "-challenger").ticker(ticker)
                .closeGracePeriod(Duration.ofSeconds(1)).asyncThreads(1).asyncQueueCapacity(1).warmup(warmup);
        if (timeout != null) {
            b.timeout(timeout);
        }
        for (StepSpec s : steps) {
            if (s.model != null) {
                b.model(s.name, s.model, s.bindings);
            } else {
                b.transform(s.name, Objects.requireNonNull(s.transform));
            }
        }
        return b.build(t -> t);
    }

    @Override
    public String toString() {
        return "Challenger[steps=" + steps.stream().map(s -> s.name).toList() + ", sample=" + sample + "]";
    }

    private record StepSpec(String name, @Nullable Model model, @Nullable Transform transform,
                            Map<String, String> bindings) {
    }

    /**
     * Configures a {@link Challenger}: steps in order as in {@link Pipeline.Builder}, options at most once each. Not
     * thread-safe; use once.
     */
    public static final class Builder {
        private final List<StepSpec> steps = new ArrayList<>();
        private final Set<String> names = new HashSet<>();
        private double sample = Double.NaN;
        private int threads = -1;
        private int queueCapacity = -1;
        private @Nullable String output;
        private int index = -1;
        private @Nullable Duration timeout;
        private boolean built;

        private Builder() {
        }

        /** Adds a model step named after its position ({@code model-1}, ...). */
        public Builder model(Model model) {
            return model("model-" + (steps.size() + 1), model, Map.of());
        }

        /** Adds a named model step whose inputs are the pipeline tensors of the same names. */
        public Builder model(String stepName, Model model) {
            return model(stepName, model, Map.of());
        }

        /**
         * Adds a named model step; {@code inputBindings} maps model input names to tensors produced earlier (by the
         * champion's preprocessor or earlier challenger steps).
         */
        public Builder model(String stepName, Model model, Map<String, String> inputBindings) {
            add(new StepSpec(Objects.requireNonNull(stepName, "stepName"), Objects.requireNonNull(model, "model"),
                    null, Map.copyOf(Objects.requireNonNull(inputBindings, "inputBindings"))));
            return this;
        }

        /** Adds a transform between model steps. */
        public Builder transform(String stepName, Transform transform) {
            add(new StepSpec(Objects.requireNonNull(stepName, "stepName"), null,
                    Objects.requireNonNull(transform, "transform"), Map.of()));
            return this;
        }

        /**
         * The share of records the challenger scores, more than 0 and at most 1, chosen by a hash of the id.
         * Default 0.10.
         */
        public Builder sample(double fraction) {
            if (!(fraction > 0 && fraction <= 1)) {
                throw new IllegalArgumentException("sample must be more than 0 and at most 1, got " + fraction);
            }
            if (!Double.isNaN(sample)) {
                throw new IllegalStateException("sample was already set to " + sample);
            }
            this.sample = fraction;
            return this;
        }

        /** Threads that run the challenger: 1 to 64. Default 1. */
        public Builder threads(int threads) {
            this.threads = onceInt(this.threads, threads, 1, MAX_THREADS, "threads");
            return this;
        }

        /**
         * Sampled records that may wait for a challenger thread: 1 to 1,000,000; more are dropped (counted).
         * Default 1,024.
         */
        public Builder queueCapacity(int records) {
            this.queueCapacity = onceInt(this.queueCapacity, records, 1, MAX_QUEUE, "queueCapacity");
            return this;
        }

        /** The challenger's output that holds the prediction, when it differs from the champion's. */
        public Builder output(String name) {
            if (output != null) {
                throw new IllegalStateException("output was already set to " + output);
            }
            this.output = Objects.requireNonNull(name, "name");
            return this;
        }

        /** The element of the challenger's output that holds the prediction, when it differs from the champion's. */
        public Builder index(int index) {
            this.index = onceInt(this.index, index, 0, Integer.MAX_VALUE, "index");
            return this;
        }

        /** The deadline of each challenger record, so a slow challenger gives up. Default: none. */
        public Builder timeout(Duration timeout) {
            Objects.requireNonNull(timeout, "timeout");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout must be positive, got " + timeout);
            }
            if (this.timeout != null) {
                throw new IllegalStateException("timeout was already set to " + this.timeout);
            }
            this.timeout = timeout;
            return this;
        }

        /**
         * Builds the challenger.
         *
         * @throws IllegalStateException if no model step was added or the builder was used before
         */
        public Challenger build() {
            if (built) {
                throw new IllegalStateException("build() was already called on this builder");
            }
            if (steps.stream().allMatch(s -> s.model == null)) {
                throw new IllegalStateException("a challenger needs at least one model step");
            }
            built = true;
            return new Challenger(this);
        }

        private void add(StepSpec spec) {
            if (built) {
                throw new IllegalStateException("build() was already called on this builder");
            }
            if (!names.add(spec.name)) {
                throw new IllegalArgumentException("duplicate step name '" + spec.name + "'");
            }
            steps.add(spec);
        }

        private static int onceInt(int current, int value, int min, int max, String property) {
            if (value < min || value > max) {
                throw new IllegalArgumentException(property + " must be between " + min + " and " + max + ", got "
                        + value);
            }
            if (current != -1) {
                throw new IllegalStateException(property + " was already set to " + current);
            }
            return value;
        }
    }
}
