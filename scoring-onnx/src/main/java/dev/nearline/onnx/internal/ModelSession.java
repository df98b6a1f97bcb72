package dev.nearline.onnx.internal;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensors;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One model's ONNX Runtime session and the calls every path makes on it: a run with ONNX Runtime's
 * outputs, a run into pinned outputs, reading outputs into heap tensors, and the plain per-call run that
 * creates its input tensors for one call. Thread-safe, as ONNX Runtime's session is; {@link #close()}
 * must not race with a run.
 */
public final class ModelSession {
    final String model;
    final OrtEnvironment env;
    final OrtSignature sig;
    private final OrtSession session;
    private final OrtSession.SessionOptions options;

    /** A session for model {@code model}; closing it closes {@code session}, then {@code options}. */
    public ModelSession(String model, OrtEnvironment env, OrtSession session, OrtSession.SessionOptions options,
            OrtSignature sig) {
        this.model = model;
        this.env = env;
        this.session = session;
        this.options = options;
        this.sig = sig;
    }

    /** Runs {@code feed} with outputs ONNX Runtime allocates (only the requested ones when some were dropped). */
    OrtSession.Result run(Map<String, OnnxTensor> feed) throws OrtException {
        return sig.requestedOutputs == null ? session.run(feed) : session.run(feed, sig.requestedOutputs);
    }

    /** Runs {@code feed} writing into the pinned {@code outputs}; the result owns nothing, so it is closed here. */
    void runInto(Map<String, OnnxTensor> feed, Map<String, OnnxTensor> outputs) throws OrtException {
        session.run(feed, outputs).close();
    }

    /** Heap copies of a run's outputs. */
    TensorList read(OrtSession.Result r) throws OrtException {
        TensorList out = new TensorList(r.size());
        for (int k = 0; k < r.size(); k++) {
            OutputReader.read(model, sig.outputNames[k], r.get(k), out);
        }
        return out;
    }

    /**
     * Runs a validated record on input tensors created for this call (a direct native-order buffer is
     * wrapped without a copy).
     */
    TensorList runPlain(Tensors inputs) {
        String[] names = sig.inputNames;
        OnnxTensor[] created = new OnnxTensor[names.length];
        try {
            Map<String, OnnxTensor> feed = new LinkedHashMap<>();
            for (int i = 0; i < names.length; i++) {
                created[i] = OrtTypes.toOnnx(env, inputs.require(names[i]));
                feed.put(names[i], created[i]);
            }
            try (OrtSession.Result r = run(feed)) {
                return read(r);
            }
        } catch (OrtException e) {
            throw failure(e);
        } finally {
            for (OnnxTensor t : created) {
                if (t != null) {
                    t.close();
                }
            }
        }
    }

    /** The exception for a failed run of this model. */
    ScoringException failure(OrtException e) {
        return OrtErrors.runFailure(model, e);
    }

    /** Closes the session, logging a failure, then its options. */
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            Log.LOG.warn("model '{}': closing the ONNX Runtime session failed: {}", model, OrtErrors.message(e));
        } finally {
            options.close();
        }
    }
}
