package dev.nearline.onnx;

import dev.nearline.api.Batching;
import dev.nearline.api.Model;
import dev.nearline.api.spi.ModelProvider;
import dev.nearline.api.spi.Settings;
import dev.nearline.onnx.internal.BatchingMismatchException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Creates {@link OnnxModel}s for pipeline steps of type {@code onnx}. Settings: {@code path} (required),
 * {@code device} ({@code cpu}, {@code cuda} or {@code tensorrt}; default {@code cpu}), {@code deviceId}
 * (default 0), {@code fallbackToCpu} (default false), {@code intraOpThreads} and {@code interOpThreads}
 * (default: ONNX Runtime's), {@code optimization} ({@code none}, {@code basic}, {@code extended} or
 * {@code all}; default {@code all}), {@code executionMode} ({@code sequential} or {@code parallel}),
 * {@code allowSpinning} and {@code batchAxis} (an integer >= 0, or {@code "none"}; absent: undeclared, see
 * {@link OnnxModel.Builder#batching}). A cheap, stateless descriptor: nothing is loaded until {@link #create}.
 */
public final class OnnxModelProvider implements ModelProvider {
    private static final String ORT_CLASS = "ai.onnxruntime.OrtEnvironment";
    private static final String BATCH_AXIS = "batchAxis";

    /** Creates the provider; called by {@link java.util.ServiceLoader}. */
    public OnnxModelProvider() {
    }

    /** {@code onnx}. */
    @Override
    public String type() {
        return "onnx";
    }

    /** Whether ONNX Runtime's Java classes are on the class path (checked without loading native code). */
    @Override
    public boolean isAvailable() {
        try {
            Class.forName(ORT_CLASS, false, OnnxModelProvider.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** Names the artifact to add when ONNX Runtime is missing. */
    @Override
    public String unavailableReason() {
        return isAvailable() ? "" : "ONNX Runtime is not on the class path: add com.microsoft.onnxruntime:onnxruntime "
                + "(CPU) or com.microsoft.onnxruntime:onnxruntime_gpu (CUDA), the version scoring-onnx was built with";
    }

    /**
     * Loads the model the settings describe.
     *
     * @throws IllegalArgumentException naming the JSON path of a bad setting, a missing or invalid model
     *     file, or an unavailable GPU
     * @throws IllegalStateException for environment problems (see {@link OnnxModel.Builder#build()})
     */
    @Override
    public Model create(Settings settings) {
        Path path = settings.file("path");
        OnnxModel.Builder b = OnnxModel.builder(path);
        String device = lower(settings.string("device", "cpu"));
        int deviceId = settings.integer("deviceId", 0);
        if (deviceId < 0) {
            throw settings.error("deviceId", "expected an integer >= 0, got " + deviceId);
        }
        switch (device) {
            case "cpu":
                break;
            case "cuda":
                b.cuda(deviceId);
                break;
            case "tensorrt":
                b.tensorrt(deviceId);
                break;
            default:
                throw settings.error("device", "expected one of cpu, cuda, tensorrt, got '" + device + "'");
        }
        b.fallbackToCpu(settings.bool("fallbackToCpu", false));
        if (settings.has("intraOpThreads")) {
            b.intraOpThreads(threads(settings, "intraOpThreads"));
        }
        if (settings.has("interOpThreads")) {
            b.interOpThreads(threads(settings, "interOpThreads"));
        }
        String optimization = lower(settings.string("optimization", "all"));
        switch (optimization) {
            case "none":
                b.optimization(OnnxModel.GraphOptimization.NONE);
                break;
            case "basic":
                b.optimization(OnnxModel.GraphOptimization.BASIC);
                break;
            case "extended":
                b.optimization(OnnxModel.GraphOptimization.EXTENDED);
                break;
            case "all":
                b.optimization(OnnxModel.GraphOptimization.ALL);
                break;
            default:
                throw settings.error("optimization", "expected one of none, basic, extended, all, got '"
                        + optimization + "'");
        }
        if (settings.has("executionMode")) {
            String mode = lower(settings.string("executionMode"));
            if (mode.equals("sequential")) {
                b.executionMode(OnnxModel.ExecutionMode.SEQUENTIAL);
            } else if (mode.equals("parallel")) {
                b.executionMode(OnnxModel.ExecutionMode.PARALLEL);
            } else {
                throw settings.error("executionMode", "expected one of sequential, parallel, got '" + mode + "'");
            }
        }
        if (settings.has("allowSpinning")) {
            b.allowSpinning(settings.bool("allowSpinning", true));
        }
        if (settings.has(BATCH_AXIS)) {
            b.batching(batching(settings));
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            String key = e instanceof BatchingMismatchException ? BATCH_AXIS
                    : e.getMessage() != null && e.getMessage().startsWith("device") ? "device" : "path";
            IllegalArgumentException wrapped = settings.error(key, String.valueOf(e.getMessage()));
            wrapped.initCause(e);
            throw wrapped;
        }
    }

    /** {@code batchAxis}: an integer >= 0, or the string {@code none}. */
    private static Batching batching(Settings settings) {
        String expected = "expected an integer >= 0 or \"none\"";
        int axis;
        try {
            axis = settings.integer(BATCH_AXIS);
        } catch (IllegalArgumentException notAnInteger) {
            // Settings has no type query: a value that is not an integer may still be the string "none"
            String text;
            try {
                text = settings.string(BATCH_AXIS);
            } catch (IllegalArgumentException notAString) {
                throw settings.error(BATCH_AXIS, expected);
            }
            if (lower(text.trim()).equals("none")) {
                return Batching.none();
            }
            throw settings.error(BATCH_AXIS, expected + ", got '" + text + "'");
        }
        if (axis < 0) {
            throw settings.error(BATCH_AXIS, expected + ", got " + axis);
        }
        return Batching.alongAxis(axis);
    }

    private static int threads(Settings settings, String key) {
        int n = settings.integer(key);
        if (n < 0) {
            throw settings.error(key, "expected an integer >= 0, got " + n);
        }
        return n;
    }

    private static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}
