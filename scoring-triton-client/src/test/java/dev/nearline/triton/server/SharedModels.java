package dev.nearline.triton.server;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.onnxruntime.OrtException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The third-party ONNX models in the shared folder named by the {@code nearline.shared.models}
 * system property (set by surefire from the parent pom). Tests that need them call
 * {@link #backends} and are skipped with a message when the folder is absent. Sessions are loaded
 * once per JVM and shared.
 */
public final class SharedModels {
    private static final Map<String, OrtBackend> LOADED = new ConcurrentHashMap<>();

    private SharedModels() {
    }

    /** The shared models folder; skips the calling test when it is absent. */
    public static Path folder() {
        String dir = System.getProperty("nearline.shared.models");
        assumeTrue(dir != null && Files.isDirectory(Path.of(dir)),
                "shared models folder not found (system property nearline.shared.models = " + dir + "); skipping");
        return Path.of(dir);
    }

    /** Backends for the named model folders (each holding one .onnx file), served under the folder name. */
    public static Map<String, OrtBackend> backends(List<String> names) {
        Path folder = folder();
        Map<String, OrtBackend> out = new LinkedHashMap<>();
        for (String name : names) {
            out.put(name, LOADED.computeIfAbsent(name, n -> load(folder.resolve(n), n)));
        }
        return out;
    }

    private static OrtBackend load(Path dir, String name) {
        assumeTrue(Files.isDirectory(dir), "model folder " + dir + " not found; skipping");
        try (Stream<Path> files = Files.list(dir)) {
            Path onnx = files.filter(p -> p.toString().endsWith(".onnx")).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no .onnx file in " + dir));
            return new OrtBackend(name, onnx);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (OrtException e) {
            throw new IllegalStateException("cannot load " + dir + ": " + e.getMessage(), e);
        }
    }
}
