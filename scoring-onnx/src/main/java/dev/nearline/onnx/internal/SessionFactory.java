package dev.nearline.onnx.internal;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import dev.nearline.onnx.OnnxModel;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Opens an ONNX Runtime session for {@link OnnxModel.Builder}: session options, the GPU execution
 * provider with its CPU fallback, and load errors turned into messages that name the file and the
 * fix. Use once per model; not thread-safe.
 */
public final class SessionFactory {
    private static final String LOCALE_ERROR = "Failed to construct locale";

    private final OrtEnvironment env;
    private final Path file;
    private final OnnxModel.GraphOptimization optimization;
    private final OnnxModel.@Nullable ExecutionMode executionMode;
    private final int intraOpThreads;
    private final int interOpThreads;
    private final @Nullable Boolean allowSpinning;

    /** The session, its options (which must outlive it) and the device it really runs on. */
    public record Opened(OrtSession session, OrtSession.SessionOptions options, OnnxModel.Device device) {
        /**
         * Closes the session and its options after {@code failure} stopped the model that was to own them
         * from being made, and returns the exception to throw: a load failure naming {@code file} for an
         * {@link OrtException}, else {@code failure} itself.
         */
        public RuntimeException closeAfter(Path file, Exception failure) {
            try {
                session.close();
            } catch (OrtException suppressed) {
                failure.addSuppressed(suppressed);
            }
            options.close();
            if (failure instanceof OrtException) {
                return loadFailure(file, (OrtException) failure);
            }
            return (RuntimeException) failure;
        }
    }

    /** A factory for {@code file}; thread counts of 0 or less and null values keep ONNX Runtime's defaults. */
    public SessionFactory(OrtEnvironment env, Path file, OnnxModel.GraphOptimization optimization,
            OnnxModel.@Nullable ExecutionMode executionMode, int intraOpThreads, int interOpThreads,
            @Nullable Boolean allowSpinning) {
        this.env = env;
        this.file = file;
        this.optimization = optimization;
        this.executionMode = executionMode;
        this.intraOpThreads = intraOpThreads;
        this.interOpThreads = interOpThreads;
        this.allowSpinning = allowSpinning;
    }

    /**
     * Opens the session on {@code wanted}, or on the CPU with a warning when the GPU provider is
     * unavailable and {@code fallbackToCpu} is set.
     *
     * @throws IllegalArgumentException for an invalid model file, or an unavailable GPU without fallback
     * @throws IllegalStateException for environment problems (a missing OS locale, other load failures)
     */
    public Opened open(OnnxModel.Device wanted, int deviceId, boolean fallbackToCpu) {
        OnnxModel.Device actual = wanted;
        OrtSession.SessionOptions opts = newOptions();
        if (wanted != OnnxModel.Device.CPU) {
            String problem = addProvider(opts, wanted, deviceId);
            if (problem != null) {
                opts.close();
                if (!fallbackToCpu) {
                    throw new IllegalArgumentException(problem + "; GPU devices need the onnxruntime_gpu artifact "
                            + "instead of onnxruntime, an NVIDIA GPU, CUDA 12 and cuDNN 9 (see the scoring-onnx "
                            + "README), or set fallbackToCpu to run on the CPU");
                }
                Log.LOG.warn("{}; model {} falls back to the CPU", problem, file);
                actual = OnnxModel.Device.CPU;
                opts = newOptions();
            }
        }
        try {
            return new Opened(env.createSession(file.toString(), opts), opts, actual);
        } catch (OrtException e) {
            opts.close();
            if (actual == OnnxModel.Device.CPU || !fallbackToCpu) {
                throw loadFailure(file, e);
            }
            Log.LOG.warn("model {} failed to load on {} ({}); falling back to the CPU", file, actual, OrtErrors.message(e));
        }
        OrtSession.SessionOptions cpu = newOptions();
        try {
            return new Opened(env.createSession(file.toString(), cpu), cpu, OnnxModel.Device.CPU);
        } catch (OrtException e) {
            cpu.close();
            throw loadFailure(file, e);
        }
    }

    /** The exception for a model that failed to load: what went wrong with which file, and the fix. */
    public static RuntimeException loadFailure(Path file, OrtException e) {
        String message = OrtErrors.message(e);
        if (message.contains(LOCALE_ERROR)) {
            return new IllegalStateException("ONNX model " + file + " needs the OS locale en_US.UTF-8 (its "
                    + "StringNormalizer operator uses it), which is not installed; install it, for example on "
                    + "Debian/Ubuntu: apt-get install -y locales && sed -i 's/^# *en_US.UTF-8/en_US.UTF-8/' "
                    + "/etc/locale.gen && locale-gen (Ubuntu: locale-gen en_US.UTF-8)", e);
        }
        switch (e.getCode()) {
            case ORT_INVALID_PROTOBUF:
            case ORT_NO_MODEL:
            case ORT_INVALID_GRAPH:
            case ORT_NOT_IMPLEMENTED:
            case ORT_FAIL:
            case ORT_INVALID_ARGUMENT:
            case ORT_NO_SUCHFILE:
                return new IllegalArgumentException("cannot load ONNX model " + file + ": " + message, e);
            default:
                return new IllegalStateException("ONNX Runtime failed to load model " + file + ": " + message, e);
        }
    }

    private OrtSession.SessionOptions newOptions() {
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        try {
            o.setOptimizationLevel(optimization == OnnxModel.GraphOptimization.NONE
                    ? OrtSession.SessionOptions.OptLevel.NO_OPT
                    : optimization == OnnxModel.GraphOptimization.BASIC ? OrtSession.SessionOptions.OptLevel.BASIC_OPT
                    : optimization == OnnxModel.GraphOptimization.EXTENDED
                            ? OrtSession.SessionOptions.OptLevel.EXTENDED_OPT
                            : OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (executionMode != null) {
                o.setExecutionMode(executionMode == OnnxModel.ExecutionMode.PARALLEL
                        ? OrtSession.SessionOptions.ExecutionMode.PARALLEL
                        : OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            }
            if (intraOpThreads > 0) {
                o.setIntraOpNumThreads(intraOpThreads);
            }
            if (interOpThreads > 0) {
                o.setInterOpNumThreads(interOpThreads);
            }
            if (allowSpinning != null) {
                String value = allowSpinning ? "1" : "0";
                o.addConfigEntry("session.intra_op.allow_spinning", value);
                o.addConfigEntry("session.inter_op.allow_spinning", value);
            }
            return o;
        } catch (OrtException e) {
            o.close();
            throw new IllegalArgumentException("invalid ONNX Runtime session options for " + file + ": "
                    + OrtErrors.message(e), e);
        }
    }

    /** Registers the GPU provider; returns why it is unavailable, or null on success. */
    private static @Nullable String addProvider(OrtSession.SessionOptions opts, OnnxModel.Device wanted, int deviceId) {
        EnumSet<OrtProvider> available = OrtEnvironment.getAvailableProviders();
        OrtProvider needed = wanted == OnnxModel.Device.CUDA ? OrtProvider.CUDA : OrtProvider.TENSOR_RT;
        String what = "device " + wanted.name().toLowerCase(Locale.ROOT) + ":" + deviceId;
        if (!available.contains(needed)) {
            return what + " requested but this ONNX Runtime build has no " + needed.getName()
                    + " (available: " + available + ")";
        }
        try {
            if (wanted == OnnxModel.Device.TENSORRT) {
                opts.addTensorrt(deviceId);
                if (available.contains(OrtProvider.CUDA)) {
                    opts.addCUDA(deviceId); // for the nodes TensorRT does not take
                }
            } else {
                opts.addCUDA(deviceId);
            }
            return null;
        } catch (OrtException e) {
            return what + " could not be initialised: " + OrtErrors.message(e);
        }
    }
}
