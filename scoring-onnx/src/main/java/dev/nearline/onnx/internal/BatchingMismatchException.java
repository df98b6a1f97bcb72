package dev.nearline.onnx.internal;

/**
 * Thrown by {@link dev.nearline.onnx.OnnxModel.Builder#build()} when a declared batch axis does not fit the
 * model, so that the provider can name the {@code batchAxis} setting rather than the model path.
 */
public final class BatchingMismatchException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    BatchingMismatchException(String message) {
        super(message);
    }
}
