package dev.nearline.api.spi;

import dev.nearline.api.Postprocessor;

/**
 * Creates {@link Postprocessor}s of one {@link #type()} named in a pipeline file. Found with
 * {@link java.util.ServiceLoader}; list implementations in
 * {@code META-INF/services/dev.nearline.api.spi.PostprocessorProvider}. Construction does no I/O.
 */
public interface PostprocessorProvider {

    /** The type name used in pipeline files, unique on the class path. */
    String type();

    /**
     * Creates a postprocessor from its settings. Results of pipelines loaded from a file are written
     * as JSON by hosts, so return maps, lists, strings, numbers and booleans.
     *
     * @throws IllegalArgumentException for bad settings, naming the JSON path
     */
    Postprocessor<Object> create(Settings settings);
}
