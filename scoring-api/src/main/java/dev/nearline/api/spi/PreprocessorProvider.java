package dev.nearline.api.spi;

import dev.nearline.api.Preprocessor;

/**
 * Creates {@link Preprocessor}s of one {@link #type()} named in a pipeline file. Found with
 * {@link java.util.ServiceLoader}; list implementations in
 * {@code META-INF/services/dev.nearline.api.spi.PreprocessorProvider}. Construction does no I/O.
 */
public interface PreprocessorProvider {

    /** The type name used in pipeline files, unique on the class path. */
    String type();

    /**
     * Creates a preprocessor from its settings. Pipelines loaded from a file pass it records as they
     * arrive: typically Jackson {@code JsonNode}s or {@code Map<String, ?>}s.
     *
     * @throws IllegalArgumentException for bad settings, naming the JSON path
     */
    Preprocessor<Object> create(Settings settings);
}
