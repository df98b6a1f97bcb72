package dev.nearline.core.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import dev.nearline.api.Model;
import dev.nearline.api.Postprocessor;
import dev.nearline.api.Preprocessor;
import dev.nearline.api.ScoringListener;
import dev.nearline.api.Transform;
import dev.nearline.core.Challenger;
import dev.nearline.core.ManagedScorer;
import dev.nearline.core.QualityMonitor;
import dev.nearline.core.internal.quality.RecordIds;
import dev.nearline.api.spi.Settings;
import dev.nearline.core.Pipeline;
import dev.nearline.core.PluginRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a JSON pipeline file and builds its scorer.
 *
 * <pre>{@code
 * {
 *   "name": "fraud",
 *   "preprocessor": {"type": "json-features", "fields": [{"name": "amount"}, ...]},
 *   "steps": [{"name": "fraud", "type": "onnx", "path": "fraud.onnx"}],
 *   "postprocessor": {"type": "score", "threshold": 0.5},
 *   "timeout": "50ms"
 * }
 * }</pre>
 */
public final class PipelineLoader {
    private static final Logger log = LoggerFactory.getLogger(PipelineLoader.class);
    /** Streaming only: the tree is built by {@link JsonTrees}, so loading a pipeline builds no ObjectMapper. */
    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private PipelineLoader() {
    }

    /** Loads {@code file}; see {@link Pipeline#load(Path)}. */
    public static ManagedScorer<Object, Object> load(Path file, PluginRegistry registry, ScoringListener listener) {
        return load(file, registry, listener, System::getenv);
    }

    /** Loads {@code file}, resolving {@code ${env:NAME}} references with {@code environment}. */
    public static ManagedScorer<Object, Object> load(Path file, PluginRegistry registry, ScoringListener listener,
                                                     Function<String, @Nullable String> environment) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("pipeline file " + file.toAbsolutePath() + " does not exist");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read pipeline file " + file.toAbsolutePath() + ": " + e, e);
        }
        Path dir = file.toAbsolutePath().getParent();
        return fromJson(text, file.toString(), dir == null ? Path.of("") : dir, registry, listener, environment);
    }

    /**
     * Builds a scorer from JSON text; {@code source} names the text in messages. {@code ${env:NAME}} references
     * read the process environment.
     */
    public static ManagedScorer<Object, Object> fromJson(String json, String source, Path baseDirectory,
                                                         PluginRegistry registry, ScoringListener listener) {
        return fromJson(json, source, baseDirectory, registry, listener, System::getenv);
    }

    /**
     * Builds a scorer from JSON text, resolving {@code ${env:NAME}} references with {@code environment} (tests pass
     * a map's {@code get}) and {@code ${file:PATH}} references against {@code baseDirectory}; see
     * {@link Substitutions}.
     */
    public static ManagedScorer<Object, Object> fromJson(String json, String source, Path baseDirectory,
                                                         PluginRegistry registry, ScoringListener listener,
                                                         Function<String, @Nullable String> environment) {
        JsonSettings top;
        try {
            JsonNode root = parse(json);
            Substitutions.Resolved substituted = new Substitutions(environment, baseDirectory).resolve(root);
            top = JsonSettings.of(root, "$", baseDirectory, substituted);
        } catch (ConfigException e) {
            throw e.in(source);
        }
        List<Model> created = new ArrayList<>();
        try {
            ManagedScorer<Object, Object> scorer = build(top, registry, created, listener);
            log.info("loaded pipeline '{}' from {}", top.string("name", "pipeline"), source);
            return scorer;
        } catch (RuntimeException e) {
            for (Model m : created) {
                try {
                    m.close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            if (e instanceof ConfigException) {
                throw ((ConfigException) e).in(source);
            }
            if (e instanceof IllegalArgumentException) {
                // Rejected by the engine while building: a problem of the pipeline as a whole.
                ConfigException c = new ConfigException("$", String.valueOf(e.getMessage()), e);
                for (Throwable s : e.getSuppressed()) {
                    c.addSuppressed(s);
                }
                throw c.in(source);
            }
            throw e;
        }
    }

    /** The one JSON value of a pipeline file; nothing may follow it. */
    private static JsonNode parse(String json) {
        JsonParser p = null;
        try {
            p = JSON.createParser(json);
            if (p.nextToken() == null) {
                throw new ConfigException("$", "the pipeline file is empty; expected a JSON object");
            }
            JsonNode root = JsonTrees.read(p);
            JsonLocation after;
            try {
                if (p.nextToken() == null) {
                    return root;
                }
                after = p.currentTokenLocation();
            } catch (JsonProcessingException e) {
                after = e.getLocation() == null ? p.currentLocation() : e.getLocation();
            }
            throw new ConfigException("$", "unexpected content after the pipeline's JSON object at line "
                    + after.getLineNr() + ", column " + after.getColumnNr());
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String path = RecordLimits.jsonPath(p == null ? null : p.getParsingContext());
            throw ConfigException.malformed(path, "malformed JSON" + (at == null ? "" : " at line " + at.getLineNr()
                    + ", column " + at.getColumnNr()) + " (in " + path + "): " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ConfigException("$", "cannot read the pipeline: " + e.getMessage(), e);
        } finally {
            if (p != null) {
                try {
                    p.close();
                } catch (IOException ignored) {
                    // Nothing to release for a String source.
                }
            }
        }
    }

    private static ManagedScorer<Object, Object> build(JsonSettings top, PluginRegistry registry, List<Model> created,
                                                       ScoringListener listener) {
        String name = top.string("name", "pipeline");
        Settings errors = top.optionalObject("errors");
        boolean includeValues = errors != null && errors.bool("includeValues", false);
        Settings preSettings = top.object("preprocessor");
        Preprocessor<Object> pre = createStage(preSettings, s -> registry.preprocessorProvider(type(s)).create(s));
        Pipeline.Builder<Object> builder = Pipeline.builder(pre).name(name);
        if (includeValues) {
            builder.includeValuesInErrors(true);
        }

        steps(top, registry, created, builder::model, builder::transform,
                "needs at least one model step; transforms run between models");
        Settings postSettings = top.object("postprocessor");
        Postprocessor<Object> post = createStage(postSettings, s -> registry.postprocessorProvider(type(s)).create(s));

        Duration timeout = Ranges.duration(top, "timeout", null, Duration.ZERO, true, Ranges.MAX_TIMEOUT);
        if (timeout != null) {
            option(top, "timeout", () -> builder.timeout(timeout));
        }
        if (listener != ScoringListener.NONE) {
            builder.listener(listener);
        }
        // Read only when present, but known all the same (unknown-key messages list them).
        top.markRead("maxInFlight", "warmup");
        if (top.has("maxInFlight")) {
            int limit = Ranges.integer(top, "maxInFlight", 0, 1, Ranges.MAX_IN_FLIGHT);
            option(top, "maxInFlight", () -> builder.maxInFlight(limit));
        }
        if (top.has("warmup")) {
            int records = Ranges.integer(top, "warmup", 0, 0, Ranges.MAX_WARMUP);
            option(top, "warmup", () -> builder.warmup(records));
        }
        Settings batching = top.optionalObject("batching");
        if (batching != null) {
            int maxBatchSize = Ranges.integer(batching, "maxBatchSize", 32, 1, Ranges.MAX_BATCH_SIZE);
            Duration delay = Ranges.duration(batching, "maxQueueDelay", Duration.ofMillis(1), Duration.ZERO, false,
                    Ranges.MAX_QUEUE_DELAY);
            String sync = batching.choice("sync", "auto", "auto", "always", "never");
            option(top, "batching", () -> builder.batching(maxBatchSize, delay == null ? Duration.ofMillis(1) : delay,
                    Pipeline.BatchMode.valueOf(sync.toUpperCase(java.util.Locale.ROOT))));
            ((JsonSettings) batching).markRead("threads");
            if (batching.has("threads")) {
                int threads = Ranges.integer(batching, "threads", 1, 1, Ranges.MAX_BATCHING_THREADS);
                option(batching, "threads", () -> builder.batchingThreads(threads));
            }
        }
        Duration grace = Ranges.duration(top, "closeGracePeriod", null, Duration.ZERO, false,
                Ranges.MAX_CLOSE_GRACE_PERIOD);
        if (grace != null) {
            option(top, "closeGracePeriod", () -> builder.closeGracePeriod(grace));
        }
        Settings async = top.optionalObject("async");
        if (async != null) {
            if (async.has("threads")) {
                int threads = Ranges.integer(async, "threads", 1, 1, Ranges.MAX_ASYNC_THREADS);
                option(async, "threads", () -> builder.asyncThreads(threads));
            }
            if (async.has("queueCapacity")) {
                int capacity = Ranges.integer(async, "queueCapacity", 1, 1, Ranges.MAX_ASYNC_QUEUE_CAPACITY);
                option(async, "queueCapacity", () -> builder.asyncQueueCapacity(capacity));
            }
            ((JsonSettings) async).markRead("threads", "queueCapacity");
        }
        Settings monitoring = top.optionalObject("monitoring");
        if (monitoring != null) {
            builder.monitor(dev.nearline.core.DriftMonitor.fromSettings(monitoring));
        }
        Settings quality = top.optionalObject("quality");
        if (quality != null) {
            String idField = quality.string("id");
            builder.quality(QualityMonitor.fromSettings(quality, postSettings), RecordIds.field(idField));
        }
        Settings challenger = top.optionalObject("challenger");
        if (challenger != null) {
            if (quality == null) {
                throw top.error("challenger", "needs a \"quality\" object: the challenger is compared with the "
                        + "champion on the same identified records");
            }
            builder.challenger(challenger(challenger, registry, created));
        }
        top.checkAllRead();
        return builder.build(post);
    }

    /**
     * The {@code "challenger"} object: {@code steps} (as the pipeline's, fed with its preprocessed tensors), and
     * optional {@code sample}, {@code threads}, {@code queueCapacity}, {@code output}, {@code index} and
     * {@code timeout} (see {@link Challenger.Builder}).
     */
    private static Challenger challenger(Settings c, PluginRegistry registry, List<Model> created) {
        Challenger.Builder cb = Challenger.builder();
        steps(c, registry, created, cb::model, cb::transform, "needs at least one model step");
        if (c.has("sample")) {
            double sample = c.number("sample");
            option(c, "sample", () -> cb.sample(sample));
        }
        if (c.has("threads")) {
            int threads = c.integer("threads");
            option(c, "threads", () -> cb.threads(threads));
        }
        if (c.has("queueCapacity")) {
            int capacity = c.integer("queueCapacity");
            option(c, "queueCapacity", () -> cb.queueCapacity(capacity));
        }
        String output = c.string("output", null);
        if (output != null) {
            cb.output(output);
        }
        if (c.has("index")) {
            int index = c.integer("index");
            option(c, "index", () -> cb.index(index));
        }
        Duration timeout = Ranges.duration(c, "timeout", null, Duration.ZERO, true, Ranges.MAX_TIMEOUT);
        if (timeout != null) {
            cb.timeout(timeout);
        }
        return cb.build();
    }

    /** Where the model steps of a {@code "steps"} array go: the pipeline's builder, or the challenger's. */
    @FunctionalInterface
    private interface ModelSink {
        void add(String stepName, Model model, Map<String, String> bindings);
    }

    /**
     * Creates the models and transforms of {@code parent}'s {@code "steps"} array, in order, into {@code models}
     * and {@code transforms};
     * every model created is added to {@code created} (closed if loading fails later).
     */
    private static void steps(Settings parent, PluginRegistry registry, List<Model> created, ModelSink models,
                              java.util.function.BiConsumer<String, Transform> transforms, String noModel) {
        List<Settings> steps = parent.objects("steps");
        if (steps.isEmpty()) {
            throw parent.error("steps", "needs at least one step");
        }
        boolean anyModel = false;
        for (int i = 0; i < steps.size(); i++) {
            JsonSettings step = (JsonSettings) steps.get(i);
            String type = type(step);
            String stepName = step.string("name", type + "-" + (i + 1));
            boolean isModel = registry.hasModelType(type);
            if (isModel && registry.hasTransformType(type)) {
                throw step.error("type", "'" + type + "' names both a model and a transform plugin");
            }
            if (isModel || !registry.hasTransformType(type)) {
                Map<String, String> bindings = step.stringMap("inputs");
                Model model = createStage(step, s -> registry.modelProvider(type).create(s));
                created.add(model);
                option(step, "inputs", () -> models.add(stepName, model, bindings));
                anyModel = true;
            } else {
                Transform transform = createStage(step, s -> registry.transformProvider(type).create(s));
                option(step, "name", () -> transforms.accept(stepName, transform));
            }
        }
        if (!anyModel) {
            throw parent.error("steps", noModel);
        }
    }

    /** Sets a builder option read from {@code key}; a value the builder rejects is reported at the key's path. */
    private static void option(Settings s, String key, Runnable set) {
        try {
            set.run();
        } catch (ConfigException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new ConfigException(s.path() + "." + key, String.valueOf(e.getMessage()), e);
        }
    }

    private static String type(Settings s) {
        return s.string("type");
    }

    /** Creates one stage, then insists every key of its settings was read, and prefixes errors with the path. */
    private static <T> T createStage(Settings settings, java.util.function.Function<Settings, T> factory) {
        JsonSettings js = (JsonSettings) settings;
        js.markRead("type", "name", "inputs");
        T stage;
        try {
            stage = factory.apply(settings);
        } catch (ConfigException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new ConfigException(settings.path(), String.valueOf(e.getMessage()), e);
        }
        try {
            js.checkAllRead();
        } catch (IllegalArgumentException e) {
            if (stage instanceof AutoCloseable) {
                try {
                    ((AutoCloseable) stage).close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
        return stage;
    }
}
