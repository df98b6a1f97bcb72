package dev.nearline.durable.internal;

import dev.nearline.durable.PayloadStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/** {@link PayloadStore} on a folder; writes go to a temporary file that is then moved into place. */
public final class DirectoryPayloadStore implements PayloadStore {
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*");

    private final Path root;

    /** A store rooted at {@code root}. */
    public DirectoryPayloadStore(Path root) {
        this.root = Objects.requireNonNull(root, "root").toAbsolutePath().normalize();
    }

    @Override
    public void write(String key, byte[] content) {
        Path target = resolve(key);
        try {
            Files.createDirectories(target.getParent());
            Path tmp = target.resolveSibling(target.getFileName() + "." + UUID.randomUUID() + ".tmp");
            Files.write(tmp, content);
            try {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write payload '" + key + "' under " + root, e);
        }
    }

    @Override
    public Optional<byte[]> read(String key) {
        Path source = resolve(key);
        try {
            return Optional.of(Files.readAllBytes(source));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read payload '" + key + "' under " + root, e);
        }
    }

    @Override
    public void delete(String key) {
        Path target = resolve(key);
        try {
            Files.deleteIfExists(target);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete payload '" + key + "' under " + root, e);
        }
    }

    private Path resolve(String key) {
        Objects.requireNonNull(key, "key");
        if (!KEY.matcher(key).matches() || key.contains("..")) {
            throw new IllegalArgumentException("payload key must be a relative path of letters, digits and ._- "
                    + "separated by '/', got '" + key + "'");
        }
        return root.resolve(key);
    }

    @Override
    public String toString() {
        return "PayloadStore.directory(" + root + ")";
    }
}
