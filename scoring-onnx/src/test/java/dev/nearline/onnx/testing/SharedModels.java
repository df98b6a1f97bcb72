package dev.nearline.onnx.testing;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * Finds the third-party models of {@code ../shared/models} (system property
 * {@code nearline.shared.models}, which the parent pom passes to surefire) and reads their
 * {@code checks.properties}. Tests call {@link #root()}, which skips them with a message when the
 * folder is absent.
 */
public final class SharedModels {
    private SharedModels() {
    }

    /** The models folder, or a skipped test when it does not exist. */
    public static Path root() {
        String configured = System.getProperty("nearline.shared.models");
        Path root = configured != null && !configured.isBlank() ? Path.of(configured) : Path.of("../../shared/models");
        Assumptions.assumeTrue(Files.isDirectory(root),
                "shared models not found at " + root.toAbsolutePath().normalize()
                        + " (set -Dnearline.shared.models=...); skipping tests that need them");
        return root.toAbsolutePath().normalize();
    }

    /** A model folder by name, such as {@code ort_types_int8}. */
    public static Path folder(String name) {
        Path f = root().resolve(name);
        Assumptions.assumeTrue(Files.isDirectory(f), "shared model folder " + f + " not found");
        return f;
    }

    /** The one {@code .onnx} file of a model folder. */
    public static Path modelFile(Path folder) {
        try (Stream<Path> files = Files.list(folder)) {
            List<Path> onnx = files.filter(p -> p.getFileName().toString().endsWith(".onnx")).sorted()
                    .collect(Collectors.toList());
            if (onnx.size() != 1) {
                throw new IllegalStateException(folder + " should hold exactly one .onnx file, has " + onnx);
            }
            return onnx.get(0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every model folder, sorted by name. */
    public static List<Path> folders(Path root) throws IOException {
        try (Stream<Path> dirs = Files.list(root)) {
            return dirs.filter(Files::isDirectory)
                    .filter(d -> !d.getFileName().toString().equals("LICENSES"))
                    .sorted().collect(Collectors.toList());
        }
    }

    /** The folder's {@code checks.properties}. */
    public static Properties checks(Path root) throws IOException {
        Properties p = new Properties();
        Path file = root.resolve("checks.properties");
        if (Files.exists(file)) {
            try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                p.load(r);
            }
        }
        return p;
    }
}
