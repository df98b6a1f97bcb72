package dev.nearline.api.spi;

import dev.nearline.api.Model;

/**
 * Creates {@link Model}s of one {@link #type()} (such as {@code onnx} or {@code triton}) named in a
 * pipeline file. Found with {@link java.util.ServiceLoader}; list implementations in
 * {@code META-INF/services/dev.nearline.api.spi.ModelProvider}.
 *
 * <p>A provider is a cheap descriptor: its constructor and {@link #isAvailable()} do no I/O and load
 * no native code; {@link #create} does the heavy work.
 */
public interface ModelProvider {

    /** The type name used in pipeline files, lower case, unique on the class path. */
    String type();

    /**
     * Whether this provider can work here, checked without I/O (for example that a required library is
     * on the class path). The default is {@code true}.
     */
    default boolean isAvailable() {
        return true;
    }

    /** Why {@link #isAvailable()} is false, and what to add to fix it. */
    default String unavailableReason() {
        return "";
    }

    /**
     * Creates a model from its settings.
     *
     * @throws IllegalArgumentException for bad settings, naming the JSON path
     */
    Model create(Settings settings);
}
