package dev.nearline.durable;

import dev.nearline.durable.internal.DirectoryPayloadStore;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where durable batch jobs keep their records and results, so that orchestration inputs, activity
 * inputs and outputs carry only small references: Durable Functions writes every one of those into the
 * orchestration history and its queue messages, and large ones slow every replay. Keys are relative
 * paths of letters, digits and {@code ._-} separated by {@code /}.
 *
 * <p>Implementations are thread-safe, and every instance of the app must see the same store (a share
 * all instances mount, or a blob container). {@link #directory(Path)} and {@link BlobPayloadStore} are the
 * built-in ones; apps on Flex Consumption, which mounts no share, use the latter.
 */
public interface PayloadStore {

    /**
     * Stores {@code content} under {@code key}, replacing what was there; readers never see a partial
     * value.
     *
     * @throws UncheckedIOException if it cannot be written
     */
    void write(String key, byte[] content);

    /**
     * The content stored under {@code key}, or empty if there is none.
     *
     * @throws UncheckedIOException if it exists but cannot be read
     */
    Optional<byte[]> read(String key);

    /**
     * Deletes what is stored under {@code key}; nothing happens if there is none. Batch jobs delete a chunk's
     * records once its results are written, and the Service Bus trigger deletes a request's blob once the
     * request is answered. The default keeps everything (for stores that expire content themselves).
     *
     * @throws UncheckedIOException if it exists but cannot be deleted
     */
    default void delete(String key) {
    }

    /**
     * A store in a folder (created when missing): on Azure, a folder under {@code HOME} is on the app's
     * content share, which every instance of a Premium, Dedicated or Linux Consumption app mounts.
     */
    static PayloadStore directory(Path root) {
        return new DirectoryPayloadStore(root);
    }
}
