package dev.nearline.core;

import dev.nearline.api.spi.ModelProvider;
import dev.nearline.api.spi.PostprocessorProvider;
import dev.nearline.api.spi.PreprocessorProvider;
import dev.nearline.api.spi.TransformProvider;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeSet;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The plugins a pipeline file can name, found with {@link ServiceLoader}: model, preprocessor,
 * postprocessor and transform providers, each under its type name. Discovery only instantiates the
 * providers (cheap descriptors); nothing else runs. A provider that fails to load is skipped and
 * reported when its type is asked for. Immutable and thread-safe.
 */
public final class PluginRegistry {
    private static final Logger log = LoggerFactory.getLogger(PluginRegistry.class);

    /** Where the plugins we publish live, for the "not found" hint. */
    private static final Map<String, String> KNOWN_ARTIFACTS = Map.of(
            "onnx", "dev.nearline:scoring-onnx",
            "triton", "dev.nearline:scoring-triton-client");

    private final Kind<ModelProvider> models;
    private final Kind<PreprocessorProvider> preprocessors;
    private final Kind<PostprocessorProvider> postprocessors;
    private final Kind<TransformProvider> transforms;

    private PluginRegistry(Kind<ModelProvider> models, Kind<PreprocessorProvider> preprocessors,
                           Kind<PostprocessorProvider> postprocessors, Kind<TransformProvider> transforms) {
        this.models = models;
        this.preprocessors = preprocessors;
        this.postprocessors = postprocessors;
        this.transforms = transforms;
    }

    /**
     * Discovers providers with the class loader that loaded Nearline and, if different, the thread's
     * context class loader.
     */
    public static PluginRegistry discover() {
        List<ClassLoader> loaders = new ArrayList<>();
        loaders.add(PluginRegistry.class.getClassLoader());
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        if (context != null && context != loaders.get(0)) {
            loaders.add(context);
        }
        return discover(loaders);
    }

    /** Discovers providers with {@code loader} only. */
    public static PluginRegistry discover(ClassLoader loader) {
        return discover(List.of(Objects.requireNonNull(loader, "loader")));
    }

    private static PluginRegistry discover(List<ClassLoader> loaders) {
        return new PluginRegistry(
                load(ModelProvider.class, "model", ModelProvider::type, loaders),
                load(PreprocessorProvider.class, "preprocessor", PreprocessorProvider::type, loaders),
                load(PostprocessorProvider.class, "postprocessor", PostprocessorProvider::type, loaders),
                load(TransformProvider.class, "transform", TransformProvider::type, loaders));
    }

    /**
     * The model provider of {@code type}.
     *
     * @throws IllegalArgumentException when none is on the class path (listing the types found, why
     *     broken ones failed, and which artifact to add), when two providers claim the type (naming both
     *     classes), or when the provider says it is unavailable (with its reason)
     */
    public ModelProvider modelProvider(String type) {
        ModelProvider p = models.find(type);
        if (!p.isAvailable()) {
            throw new IllegalArgumentException("model type '" + type + "' (" + p.getClass().getName()
                    + ") is unavailable: " + p.unavailableReason());
        }
        return p;
    }

    /** The preprocessor provider of {@code type}; errors as {@link #modelProvider}. */
    public PreprocessorProvider preprocessorProvider(String type) {
        return preprocessors.find(type);
    }

    /** The postprocessor provider of {@code type}; errors as {@link #modelProvider}. */
    public PostprocessorProvider postprocessorProvider(String type) {
        return postprocessors.find(type);
    }

    /** The transform provider of {@code type}; errors as {@link #modelProvider}. */
    public TransformProvider transformProvider(String type) {
        return transforms.find(type);
    }

    /** Whether a model provider of {@code type} is present. */
    public boolean hasModelType(String type) {
        return models.byType.containsKey(type);
    }

    /** Whether a transform provider of {@code type} is present. */
    public boolean hasTransformType(String type) {
        return transforms.byType.containsKey(type);
    }

    /** Model types found, sorted. */
    public List<String> modelTypes() {
        return List.copyOf(models.byType.keySet());
    }

    /** Preprocessor types found, sorted. */
    public List<String> preprocessorTypes() {
        return List.copyOf(preprocessors.byType.keySet());
    }

    /** Postprocessor types found, sorted. */
    public List<String> postprocessorTypes() {
        return List.copyOf(postprocessors.byType.keySet());
    }

    /** Transform types found, sorted. */
    public List<String> transformTypes() {
        return List.copyOf(transforms.byType.keySet());
    }

    private static <P> Kind<P> load(Class<P> service, String what, Function<P, String> typeOf, List<ClassLoader> loaders) {
        Map<String, P> byClass = new LinkedHashMap<>();
        List<String> broken = new ArrayList<>();
        for (ClassLoader loader : loaders) {
            Iterator<P> it = ServiceLoader.load(service, loader).iterator();
            while (true) {
                try {
                    if (!it.hasNext()) {
                        break;
                    }
                    P p = it.next();
                    byClass.putIfAbsent(p.getClass().getName(), p);
                } catch (ServiceConfigurationError | RuntimeException | LinkageError e) {
                    // One broken jar must not hide the other providers. ServiceLoader's message names the class;
                    // the cause says why it failed (the exception its constructor threw).
                    String why = e.getCause() == null ? e.getMessage() : e.getMessage() + " (" + e.getCause() + ")";
                    broken.add(why);
                    log.warn("skipping a {} provider that failed to load: {}", what, why);
                }
            }
        }
        Map<String, List<P>> byType = new java.util.TreeMap<>();
        List<P> sorted = new ArrayList<>(byClass.values());
        sorted.sort(Comparator.comparing(p -> p.getClass().getName()));
        for (P p : sorted) {
            String type;
            try {
                type = typeOf.apply(p);
            } catch (RuntimeException e) {
                broken.add(p.getClass().getName() + ": type() failed: " + e);
                continue;
            }
            if (type == null) {
                broken.add(p.getClass().getName() + ": type() returned null");
                continue;
            }
            byType.computeIfAbsent(type, t -> new ArrayList<>()).add(p);
        }
        return new Kind<>(what, byType, broken);
    }

    /** The providers of one SPI. */
    private static final class Kind<P> {
        final String what;
        final Map<String, List<P>> byType;
        final List<String> broken;

        Kind(String what, Map<String, List<P>> byType, List<String> broken) {
            this.what = what;
            this.byType = byType;
            this.broken = List.copyOf(broken);
        }

        P find(String type) {
            List<P> found = byType.get(type);
            if (found == null) {
                StringBuilder msg = new StringBuilder("no ").append(what).append(" provider of type '").append(type)
                        .append("' on the class path; found ").append(new TreeSet<>(byType.keySet()));
                if (!broken.isEmpty()) {
                    msg.append("; providers that failed to load: ").append(broken);
                }
                String artifact = KNOWN_ARTIFACTS.get(type);
                if (artifact != null) {
                    msg.append("; add the dependency ").append(artifact);
                }
                throw new IllegalArgumentException(msg.toString());
            }
            if (found.size() > 1) {
                List<String> classes = new ArrayList<>();
                for (P p : found) {
                    classes.add(p.getClass().getName());
                }
                throw new IllegalArgumentException("two " + what + " providers claim type '" + type + "': " + classes
                        + "; keep only one of their jars on the class path");
            }
            return found.get(0);
        }
    }
}
