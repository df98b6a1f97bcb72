package dev.nearline.benchmarks;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;

/**
 * A hand-written ONNX Runtime session as a careful user would open it: the shared environment, one
 * session for all threads, the session options Nearline's model uses (see {@link Settings}). Closes the
 * session and then its options, which must outlive it. Thread-safe once opened.
 */
final class RawOrt implements AutoCloseable {
    final OrtEnvironment env;
    final OrtSession session;
    private final OrtSession.SessionOptions options;

    RawOrt(Path model) throws OrtException {
        this.env = OrtEnvironment.getEnvironment();
        this.options = new OrtSession.SessionOptions();
        try {
            options.setIntraOpNumThreads(Settings.INTRA_OP_THREADS);
            options.setInterOpNumThreads(Settings.INTER_OP_THREADS);
            this.session = env.createSession(model.toString(), options);
        } catch (OrtException | RuntimeException e) {
            options.close();
            throw e;
        }
    }

    /** A direct buffer of {@code n} floats in native order: ONNX Runtime wraps it without a copy. */
    static FloatBuffer directFloats(int n) {
        return ByteBuffer.allocateDirect(n * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    @Override
    public void close() throws OrtException {
        try {
            session.close();
        } finally {
            options.close();
        }
    }
}
