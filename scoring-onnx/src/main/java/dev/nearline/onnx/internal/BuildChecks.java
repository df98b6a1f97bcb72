package dev.nearline.onnx.internal;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The checks {@link dev.nearline.onnx.OnnxModel.Builder} makes on what it is given: counts and device ids not negative, and a model path that names a readable file. Messages name
 * the property or the file. Stateless.
 */
public final class BuildChecks {
    private BuildChecks() {
    }

    /**
     * Returns {@code value}.
     *
     * @throws IllegalArgumentException when it is negative
     */
    public static int nonNegative(int value, String property) {
        if (value < 0) {
            throw new IllegalArgumentException(property + " must be >= 0, got " + value);
        }
        return value;
    }

    /**
     * {@code modelFile} as an absolute path.
     *
     * @throws IllegalArgumentException when it is a folder, missing, or not readable
     */
    public static Path readableFile(Path modelFile) {
        Path file = modelFile.toAbsolutePath();
        if (Files.isDirectory(file)) {
            throw new IllegalArgumentException("ONNX model path is a folder, expected a model file: " + file);
        }
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("ONNX model file not found: " + file);
        }
        if (!Files.isReadable(file)) {
            throw new IllegalArgumentException("ONNX model file is not readable: " + file);
        }
        return file;
    }
}
