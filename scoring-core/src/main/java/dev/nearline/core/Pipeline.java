package dev.nearline.core;

import dev.nearline.api.Model;
import dev.nearline.api.Postprocessor;
import dev.nearline.api.Preprocessor;
import dev.nearline.api.Scorer;
import dev.nearline.api.ScoringListener;
import dev.nearline.api.Ticker;
import dev.nearline.api.Transform;
import dev.nearline.api.internal.SetOnce;
import dev.nearline.core.internal.BatchPolicy;
import dev.nearline.core.internal.EchoesValues;
import dev.nearline.core.internal.Engine;
import dev.nearline.core.internal.EngineOptions;
import dev.nearline.core.internal.PipelineLoader;
import dev.nearline.core.internal.Ranges;
import dev.nearline.core.internal.RecordObserver;
import dev.nearline.core.internal.Step;
import dev.nearline.core.internal.quality.ChallengerRunner;
import dev.nearline.core.internal.quality.PredictionReader;
import dev.nearline.core.internal.quality.QualityBinding;
import dev.nearline.core.internal.quality.QualityConfig;
import dev.nearline.core.internal.quality.QualityScorer;
import dev.nearline.core.internal.quality.Tracker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Entry point for building {@link Scorer}s: in code with {@link #builder(Preprocessor)}, or from a
 * JSON pipeline file with {@link #load(Path)}.
 *
 * <pre>{@code
 * Scorer<float[], Float> scorer = Pipeline.builder((float[] r) -> Tensors.of("input", Tensor.ofFloats(r, 1, r.length)))
 *     .model(OnnxModel.builder(Path.of("fraud.onnx")).build())
 *     .build(out -> out.get(0).floatAt(0));
 * }</pre>
 */
public final class Pipeline {
    private Pipeline() {
    }

    /**
     * A builder for a pipeline whose records are turned into tensors by {@code preprocessor}.
     *
     * @param <I> record type
     */
    public static <I> Builder<I> builder(Preprocessor<I> preprocessor) {
        return new Builder<>(preprocessor);
    }

    /**
     * Builds a scorer from a JSON pipeline file, creating its stages with the plugins on the class path.
     * Relative model paths are resolved against the file's folder. Records are what the preprocessor
     * accepts (for the built-in ones: Jackson {@code JsonNode}, {@code Map<String, ?>} or a JSON string);
     * results are what the postprocessor returns (for the built-in ones: maps ready to write as JSON).
     *
     * @throws IllegalArgumentException when the file is missing or malformed, or names an unknown plugin
     *     type or key; the message gives the JSON path, such as {@code $.steps[0].device}
     */
    public static ManagedScorer<Object, Object> load(Path file) {
        return load(file, PluginRegistry.discover(), ScoringListener.NONE);
    }

    /** As {@link #load(Path)}, with plugins from {@code registry}. */
    public static ManagedScorer<Object, Object> load(Path file, PluginRegistry registry) {
        return load(file, registry, ScoringListener.NONE);
    }

    /** As {@link #load(Path)}, sending timing and outcome events to {@code listener}. */
    public static ManagedScorer<Object, Object> load(Path file, ScoringListener listener) {
        return load(file, PluginRegistry.discover(), listener);
    }

    /** As {@link #load(Path)}, with plugins from {@code registry} and events to {@code listener}. */
    public static ManagedScorer<Object, Object> load(Path file, PluginRegistry registry, ScoringListener listener) {
        return PipelineLoader.load(file, registry, listener);
    }

    /**
     * Builds a scorer from JSON text; relative paths are resolved against {@code baseDirectory}.
     *
     * @throws IllegalArgumentException as {@link #load(Path)}
     */
    public static ManagedScorer<Object, Object> fromJson(String json, Path baseDirectory, PluginRegistry registry) {
        return PipelineLoader.fromJson(json, "<json>", baseDirectory, registry, ScoringListener.NONE);
    }

    /** When synchronous {@code score} calls join micro-batches. */
    public enum BatchMode {
        /**
         * Decide by measuring: a call joins a batch when more records are in flight than there are processors
         * and the throughput estimated from measured inline and batched model times, with a hand-off of 7 us
         * of CPU per batched record, is at least 25% higher batched. A model whose call costs about a
         * hand-off always runs inline, and so do the first calls (about 16,000), while the JIT compiler works.
         */
        AUTO,
        /** Always join a batch. */
        ALWAYS,
        /** Never: only {@code scoreAsync} records are batched. */
        NEVER
    }

    /**
     * Builds a code-defined pipeline: required stages in the factory and {@link #build}, model and
     * transform steps in order, options set at most once each. A numeric option outside its documented range
     * fails with an {@link IllegalArgumentException} naming the option and the range. Not thread-safe; use once.
     *
     * @param <I> record type
     */
    public static final class Builder<I> {
        private static final int DEFAULT_BATCHING_THREADS = Math.min(2, Runtime.getRuntime().availableProcessors());
        private final Preprocessor<I> preprocessor;
        private final List<Step> steps = new ArrayList<>();
        private final Set<String> stepNames = new HashSet<>();
        private @Nullable String name;
        private @Nullable Ticker ticker;
        private @Nullable Duration timeout;
        private @Nullable Duration closeGracePeriod;
        private int asyncThreads = -1;
        private int asyncQueueCapacity = -1;
        private int maxInFlight = -1;
        private int warmup = -1;
        private @Nullable ScoringListener listener;
        private EngineOptions.@Nullable Batching batching;
        private int batchingThreads = -1;
        private @Nullable DriftMonitor monitor;
        private @Nullable QualityMonitor quality;
        private @Nullable Function<Object, @Nullable String> idOf;
        private @Nullable Challenger challenger;
        private @Nullable Boolean includeValuesInErrors;
        private boolean built;

        private Builder(Preprocessor<I> preprocessor) {
            this.preprocessor = Objects.requireNonNull(preprocessor, "preprocessor");
        }

        /** Adds a model step named after its position ({@code model-1}, ...). */
        public Builder<I> model(Model model) {
            return model("model-" + (steps.size() + 1), model, Map.of());
        }

        /** Adds a named model step whose inputs are the pipeline tensors of the same names. */
        public Builder<I> model(String stepName, Model model) {
            return model(stepName, model, Map.of());
        }

        /**
         * Adds a named model step; {@code inputBindings} maps model input names to the names of tensors
         * produced earlier (by the preprocessor or earlier steps). Inputs not mentioned read the tensor of
         * the same name. The scorer owns the model and closes it.
         */
        public Builder<I> model(String stepName, Model model, Map<String, String> inputBindings) {
            SetOnce.checkNotBuilt(built);
            addStep(Step.model(stepName, model, inputBindings));
            return this;
        }

        /** Adds a transform between model steps; its outputs join the pipeline tensors by name. */
        public Builder<I> transform(String stepName, Transform transform) {
            SetOnce.checkNotBuilt(built);
            addStep(Step.transform(stepName, transform));
            return this;
        }

        /** The pipeline's name, used in messages, logs and thread names. Default {@code pipeline}. */
        public Builder<I> name(String name) {
            this.name = SetOnce.check(this.name, Objects.requireNonNull(name, "name"), "name");
            return this;
        }

        /**
         * The deadline for every record unless the call gives one: more than zero and at most 1 hour.
         * Default: none.
         */
        public Builder<I> timeout(Duration timeout) {
            Ranges.check("timeout", Objects.requireNonNull(timeout, "timeout"), Duration.ZERO, true, Ranges.MAX_TIMEOUT);
            this.timeout = SetOnce.check(this.timeout, timeout, "timeout");
            return this;
        }

        /** How long {@link Scorer#close()} waits for records in flight: 0 to 1 hour. Default 5 s. */
        public Builder<I> closeGracePeriod(Duration gracePeriod) {
            Ranges.check("closeGracePeriod", Objects.requireNonNull(gracePeriod, "gracePeriod"), Duration.ZERO, false,
                    Ranges.MAX_CLOSE_GRACE_PERIOD);
            this.closeGracePeriod = SetOnce.check(this.closeGracePeriod, gracePeriod, "closeGracePeriod");
            return this;
        }

        /** Threads that run {@link Scorer#scoreAsync} records: 1 to 256. Default: the number of processors. */
        public Builder<I> asyncThreads(int threads) {
            Ranges.check("asyncThreads", threads, 1, Ranges.MAX_ASYNC_THREADS);
            this.asyncThreads = SetOnce.check(asyncThreads, -1, threads, "asyncThreads");
            return this;
        }

        /**
         * Records {@link Scorer#scoreAsync} may queue before it fails fast with {@code OVERLOADED}: 1 to
         * 1,000,000. Default 1024.
         */
        public Builder<I> asyncQueueCapacity(int capacity) {
            Ranges.check("asyncQueueCapacity", capacity, 1, Ranges.MAX_ASYNC_QUEUE_CAPACITY);
            this.asyncQueueCapacity = SetOnce.check(asyncQueueCapacity, -1, capacity, "asyncQueueCapacity");
            return this;
        }

        /**
         * Records in flight at most (being scored or queued, sync and async together); beyond it calls fail
         * fast with {@code OVERLOADED} instead of growing a queue: 1 to 1,000,000. Default: no bound besides the
         * async queue.
         */
        public Builder<I> maxInFlight(int limit) {
            Ranges.check("maxInFlight", limit, 1, Ranges.MAX_IN_FLIGHT);
            this.maxInFlight = SetOnce.check(maxInFlight, -1, limit, "maxInFlight");
            return this;
        }

        /**
         * Turns on dynamic micro-batching at the first model step: concurrent records are merged into one
         * {@link Model#predictBatch} call of at most {@code maxBatchSize} records, the first waiting at most
         * {@code maxQueueDelay} for company. {@code scoreAsync} always goes through the batcher; a synchronous
         * {@code score} joins a batch only when that pays ({@link BatchMode#AUTO}), see {@link #batching(int,
         * Duration, BatchMode)}. {@code maxBatchSize} is 1 to 4096 and {@code maxQueueDelay} 0 to 1 second. Off
         * by default.
         */
        public Builder<I> batching(int maxBatchSize, Duration maxQueueDelay) {
            return batching(maxBatchSize, maxQueueDelay, BatchMode.AUTO);
        }

        /** As {@link #batching(int, Duration)}, choosing when synchronous calls batch. */
        public Builder<I> batching(int maxBatchSize, Duration maxQueueDelay, BatchMode syncMode) {
            Ranges.check("maxBatchSize", maxBatchSize, 1, Ranges.MAX_BATCH_SIZE);
            Ranges.check("maxQueueDelay", Objects.requireNonNull(maxQueueDelay, "maxQueueDelay"), Duration.ZERO, false,
                    Ranges.MAX_QUEUE_DELAY);
            this.batching = SetOnce.check(batching, new EngineOptions.Batching(maxBatchSize, maxQueueDelay, 1,
                    Objects.requireNonNull(syncMode, "syncMode")), "batching");
            return this;
        }

        /**
         * How many dispatcher threads run micro-batches, that is how many batched model calls may run at once.
         * Default: 2 (1 on a single processor), which keeps two CPU cores busy with a model whose session uses
         * one thread per call. Use 1 for a GPU or for a session whose intra-op threads already use every
         * core. 1 to 256. Needs {@link #batching(int, Duration)}.
         */
        public Builder<I> batchingThreads(int threads) {
            Ranges.check("batchingThreads", threads, 1, Ranges.MAX_BATCHING_THREADS);
            this.batchingThreads = SetOnce.check(batchingThreads, -1, threads, "batchingThreads");
            return this;
        }

        /** Receives timing and outcome events, for example a {@link MetricsRecorder}. Default: none. */
        public Builder<I> listener(ScoringListener listener) {
            this.listener = SetOnce.check(this.listener, Objects.requireNonNull(listener, "listener"), "listener");
            return this;
        }

        /**
         * Runs each model {@code records} times on synthetic inputs built from its signature (zeros, dynamic
         * dimensions 1) while building, so the first real record is not the slow one: 0 to 10,000. Default 0.
         */
        public Builder<I> warmup(int records) {
            Ranges.check("warmup", records, 0, Ranges.MAX_WARMUP);
            this.warmup = SetOnce.check(warmup, -1, records, "warmup");
            return this;
        }

        /** Watches model inputs and outputs for drift (see {@link DriftMonitor}). Default: none. */
        public Builder<I> monitor(DriftMonitor monitor) {
            this.monitor = SetOnce.check(this.monitor, Objects.requireNonNull(monitor, "monitor"), "monitor");
            return this;
        }

        /**
         * Watches the model's quality from labels given later (see {@link QualityMonitor}): each scored record's
         * prediction is kept under the id {@code idOf} reads from the record (a record whose id is null is scored
         * but not kept). {@code idOf} runs on the scoring thread after each successful record: keep it cheap and
         * never let it block. Default: none.
         *
         * @throws IllegalStateException if {@code monitor} already watches another scorer (at {@link #build})
         */
        @SuppressWarnings("unchecked")
        public Builder<I> quality(QualityMonitor monitor, Function<? super I, String> idOf) {
            Objects.requireNonNull(idOf, "idOf");
            this.quality = SetOnce.check(this.quality, Objects.requireNonNull(monitor, "monitor"), "quality");
            this.idOf = record -> idOf.apply((I) record);
            return this;
        }

        /**
         * Scores a sample of the records with {@code challenger} as well, off the caller's path, and compares it with
         * the champion in the {@link QualityMonitor} (which {@link #quality} must set). The scorer owns the
         * challenger's models and closes them. Default: none.
         */
        public Builder<I> challenger(Challenger challenger) {
            this.challenger = SetOnce.check(this.challenger, Objects.requireNonNull(challenger, "challenger"),
                    "challenger");
            return this;
        }

        /**
         * Whether {@code INVALID_INPUT} messages of the built-in preprocessors ({@code json-features},
         * {@code tensors}) quote the offending record value. Default {@code false}: a message names the field and
         * what was expected and the JSON type it got ({@code field 'amount' expects a number, got a string of 6
         * characters}), never the value, because messages reach logs, dead-letter descriptions and replies, and
         * record values may be personal data. Turn it on for development only ({@code field 'amount' expects a
         * number, got string "twelve"}; values clipped to 40 characters). A preprocessor of your own decides for
         * itself what its messages show. In a pipeline file: {@code "errors": {"includeValues": true}}.
         */
        public Builder<I> includeValuesInErrors(boolean include) {
            this.includeValuesInErrors = SetOnce.check(this.includeValuesInErrors, include, "includeValuesInErrors");
            return this;
        }

        /** The time source for deadlines (tests pass a fake). Default {@link Ticker#system()}. */
        public Builder<I> ticker(Ticker ticker) {
            this.ticker = SetOnce.check(this.ticker, Objects.requireNonNull(ticker, "ticker"), "ticker");
            return this;
        }

        /**
         * Builds the scorer.
         *
         * @param <O> result type
         * @throws IllegalStateException if no model step was added or the builder was used before
         */
        public <O> ManagedScorer<I, O> build(Postprocessor<O> postprocessor) {
            Objects.requireNonNull(postprocessor, "postprocessor");
            SetOnce.checkNotBuilt(built);
            if (!hasModel()) {
                throw new IllegalStateException("a pipeline needs at least one model step");
            }
            if (batchingThreads != -1 && batching == null) {
                throw new IllegalStateException("batchingThreads is set but batching is off; call batching(...) too");
            }
            if (challenger != null && quality == null) {
                throw new IllegalStateException("a challenger needs a quality monitor to compare with; call "
                        + "quality(...) too");
            }
            EngineOptions.Batching b = batching == null ? null : new EngineOptions.Batching(batching.maxBatchSize(),
                    batching.maxQueueDelay(), batchingThreads == -1 ? DEFAULT_BATCHING_THREADS : batchingThreads,
                    batching.sync());
            built = true;
            String pipelineName = name == null ? "pipeline" : name;
            Ticker time = ticker == null ? Ticker.system() : ticker;
            Duration grace = closeGracePeriod == null ? Duration.ofSeconds(5) : closeGracePeriod;
            int warmupRecords = warmup == -1 ? 0 : warmup;
            RecordObserver observer = RecordObserver.NONE;
            if (monitor != null) {
                DriftMonitor m = monitor;
                observer = (record, inputs, outputs, result) -> m.observe(inputs, outputs);
            }
            QualityMonitor q = quality;
            if (q != null) {
                observer = observer.andThen(q.tracker().attach(pipelineName, time, Objects.requireNonNull(idOf)));
            }
            ScoringListener events = listener == null ? ScoringListener.NONE : listener;
            EngineOptions options = new EngineOptions(pipelineName, time, timeout, grace,
                    asyncThreads == -1 ? Runtime.getRuntime().availableProcessors() : asyncThreads,
                    asyncQueueCapacity == -1 ? 1024 : asyncQueueCapacity, maxInFlight == -1 ? 0 : maxInFlight,
                    events, b, warmupRecords, observer, monitor);
            Preprocessor<I> pre = preprocessor;
            if (Boolean.TRUE.equals(includeValuesInErrors) && pre instanceof EchoesValues) {
                @SuppressWarnings("unchecked")
                Preprocessor<I> quoting = ((EchoesValues<I>) pre).quotingValues();
                pre = quoting;
            }
            Engine<I, O> engine = new Engine<>(pre, steps, postprocessor, options);
            if (q == null) {
                return engine;
            }
            QualityScorer<I, O> scorer;
            try {
                Tracker tracker = q.tracker();
                Challenger c = challenger;
                if (c != null) {
                    QualityConfig config = q.config();
                    ManagedScorer<dev.nearline.api.Tensors, dev.nearline.api.Tensors> challengerScorer =
                            c.scorer(pipelineName, time, warmupRecords);
                    PredictionReader reader = new PredictionReader(config.task(),
                            c.output() != null ? c.output() : config.output(),
                            c.index() != -1 ? c.index() : config.index());
                    try {
                        tracker.challenger(new ChallengerRunner(pipelineName, tracker, challengerScorer, reader,
                                c.sample(), c.threads(), c.queueCapacity()));
                    } catch (RuntimeException | Error e) {
                        challengerScorer.close();
                        throw e;
                    }
                }
                Map<String, Model> models = new LinkedHashMap<>();
                for (Step s : steps) {
                    if (s.model() != null) {
                        models.put(s.name(), s.model());
                    }
                }
                scorer = new QualityScorer<>(engine, q, tracker, models, grace);
                if (events instanceof QualityBinding) {
                    ((QualityBinding) events).bindQuality(q);
                }
            } catch (RuntimeException | Error e) {
                engine.close();
                throw e;
            }
            return scorer;
        }

        private boolean hasModel() {
            for (Step s : steps) { // a loop, not a stream: streams cost several ms of class loading at start-up
                if (s.model() != null) {
                    return true;
                }
            }
            return false;
        }

        private void addStep(Step step) {
            if (!stepNames.add(step.name())) {
                throw new IllegalArgumentException("duplicate step name '" + step.name() + "'");
            }
            steps.add(step);
        }
    }
}
