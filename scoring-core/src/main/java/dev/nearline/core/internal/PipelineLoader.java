package dev.nearline.core.internal;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.nearline.api.Model;
import dev.nearline.api.Postprocessor;
import dev.nearline.api.Preprocessor;
import dev.nearline.api.ScoringListener;
import dev.nearline.core.ManagedScorer;
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
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    private PipelineLoader() {
    }

    /** Loads {@code file}; see {@link Pipeline#load(Path)}. */
    public static ManagedScorer<Object, Object> load(Path file, PluginRegistry registry, ScoringListener listener) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("pipeline file " + file.toAbsolutePath() + " does not exist");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read pipeline file " + file.toAbsolutePath() + ": " + e, e);
        }
        Path dir = file.toAbsolutePath().getParent();
        return fromJson(text, file.toString(), dir == null ? Path.of("") : dir, registry, listener);
    }

    /** Builds a scorer from JSON text; {@code source} names the text in messages. */
    public static ManagedScorer<Object, Object> fromJson(String json, String source, Path baseDirectory,
                                                         PluginRegistry registry, ScoringListener listener) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonParseException e) {
            throw new IllegalArgumentException(source + ": malformed JSON at line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage(), e);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(source + ": malformed JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || root.isMissingNode()) {
            throw new IllegalArgumentException(source + ": empty pipeline file");
        }
        JsonSettings top = JsonSettings.of(root, "$", baseDirectory);
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
            if (e instanceof IllegalArgumentException && !e.getMessage().startsWith(source)) {
                throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
            }
            throw e;
        }
    }

    private static ManagedScorer<Object, Object> build(JsonSettings top, PluginRegistry registry, List<Model> created,
                                                       ScoringListener listener) {
        String name = top.string("name", "pipeline");
        Settings preSettings = top.object("preprocessor");
        Preprocessor<Object> pre = createStage(preSettings, s -> registry.preprocessorProvider(type(s)).create(s));
        Pipeline.Builder<Object> builder = Pipeline.builder(pre).name(name);

        List<Settings> steps = top.objects("steps");
        if (steps.isEmpty()) {
            throw top.error("steps", "needs at least one step");
        }
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
                builder.model(stepName, model, bindings);
            } else {
                builder.transform(stepName, createStage(step, s -> registry.transformProvider(type).create(s)));
            }
        }
        Settings postSettings = top.object("postprocessor");
        Postprocessor<Object> post = createStage(postSettings, s -> registry.postprocessorProvider(type(s)).create(s));

        Duration timeout = top.duration("timeout", null);
        if (timeout != null) {
            option(top, "timeout", () -> builder.timeout(timeout));
        }
        if (listener != ScoringListener.NONE) {
            builder.listener(listener);
        }
        if (top.has("maxInFlight")) {
            option(top, "maxInFlight", () -> builder.maxInFlight(top.integer("maxInFlight")));
        }
        if (top.has("warmup")) {
            option(top, "warmup", () -> builder.warmup(top.integer("warmup")));
        }
        Settings batching = top.optionalObject("batching");
        if (batching != null) {
            int maxBatchSize = batching.integer("maxBatchSize", 32);
            Duration delay = batching.duration("maxQueueDelay", Duration.ofMillis(1));
            String sync = batching.choice("sync", "auto", "auto", "always", "never");
            option(top, "batching", () -> builder.batching(maxBatchSize, delay == null ? Duration.ofMillis(1) : delay,
                    Pipeline.BatchMode.valueOf(sync.toUpperCase(java.util.Locale.ROOT))));
            if (batching.has("threads")) {
                option(batching, "threads", () -> builder.batchingThreads(batching.integer("threads")));
            }
        }
        Duration grace = top.duration("closeGracePeriod", null);
        if (grace != null) {
            option(top, "closeGracePeriod", () -> builder.closeGracePeriod(grace));
        }
        Settings async = top.optionalObject("async");
        if (async != null) {
            if (async.has("threads")) {
                option(async, "threads", () -> builder.asyncThreads(async.integer("threads")));
            }
            if (async.has("queueCapacity")) {
                option(async, "queueCapacity", () -> builder.asyncQueueCapacity(async.integer("queueCapacity")));
            }
            ((JsonSettings) async).markRead("threads", "queueCapacity");
        }
        Settings monitoring = top.optionalObject("monitoring");
        if (monitoring != null) {
            builder.monitor(dev.nearline.core.DriftMonitor.fromSettings(monitoring));
        }
        top.checkAllRead();
        return builder.build(post);
    }

    /** Sets a builder option read from {@code key}; a value the builder rejects is reported at the key's path. */
    private static void option(Settings s, String key, Runnable set) {
        try {
            set.run();
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("$")) {
                throw e;
            }
            throw s.error(key, e.getMessage());
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
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("$")) {
                throw e;
            }
            throw new IllegalArgumentException(settings.path() + ": " + e.getMessage(), e);
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
