package dev.nearline.onnx.internal;

import ai.onnxruntime.OrtException;
import dev.nearline.api.ScoringException;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Turns ONNX Runtime failures into Nearline's exceptions: input-value problems become
 * {@code INVALID_INPUT}, anything else {@code INTERNAL}. Messages are one line and name the model.
 * Stateless.
 */
public final class OrtErrors {
    /** Substrings of ONNX Runtime messages that blame the input values (checked lower case). */
    private static final String[] INPUT_PROBLEMS = {
        "invalid dimensions", "out of data bounds", "out of bounds", "invalid rank", "unexpected input data type",
        "does not support empty dim count", "shape mismatch", "cannot broadcast", "incompatible dimensions",
        "invalid input", "invalid argument", "invalid_argument",
    };

    private OrtErrors() {
    }

    /** The exception for a failed {@code run} of {@code model}. */
    public static ScoringException runFailure(String model, OrtException e) {
        String message = message(e);
        if (isInputProblem(e, message)) {
            return new ScoringException(ScoringException.Kind.INVALID_INPUT,
                    "model '" + model + "' rejected the input: " + message, e);
        }
        return new ScoringException(ScoringException.Kind.INTERNAL,
                "model '" + model + "' failed in ONNX Runtime: " + message, e);
    }

    /** Whether ONNX Runtime blamed the input values rather than itself. */
    static boolean isInputProblem(OrtException e, String message) {
        if (e.getCode() == OrtException.OrtErrorCode.ORT_INVALID_ARGUMENT) {
            return true;
        }
        String lower = message.toLowerCase(Locale.ROOT);
        for (String p : INPUT_PROBLEMS) {
            if (lower.contains(p)) {
                return true;
            }
        }
        return false;
    }

    /** ONNX Runtime's message on one line, without the Java wrapper's "Error code - X - message:" prefix. */
    public static String message(OrtException e) {
        return oneLine(e.getMessage()).replaceFirst("^Error code - \\w+ - message: ", "");
    }

    /** {@code text} with line breaks and runs of white space collapsed to single spaces. */
    public static String oneLine(@Nullable String text) {
        if (text == null) {
            return "(no message)";
        }
        return text.replaceAll("\\s+", " ").trim();
    }
}
