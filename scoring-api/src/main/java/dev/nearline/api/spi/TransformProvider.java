package dev.nearline.api.spi;

import dev.nearline.api.Transform;

/**
 * Creates {@link Transform}s of one {@link #type()} for the steps of a pipeline file. Found with
 * {@link java.util.ServiceLoader}; list implementations in
 * {@code META-INF/services/dev.nearline.api.spi.TransformProvider}. Construction does no I/O.
 */
public interface TransformProvider {

    /** The type name used in pipeline files, unique on the class path. */
    String type();

    /**
     * Creates a transform from its settings.
     *
     * @throws IllegalArgumentException for bad settings, naming the JSON path
     */
    Transform create(Settings settings);
}
