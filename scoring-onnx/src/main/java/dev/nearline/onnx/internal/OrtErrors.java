package dev.nearline.onnx.internal;

import ai.onnxruntime.OrtException;
import dev.nearline.api.ScoringException;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Turns ONNX Runtime failures into Nearline's exceptions, with one-line messages that name the model.
 * This is the one place that reads ONNX Runtime's message text; everything else branches on the kind it
 * returns. Stateless.
 *
 * <p>A failed {@code run} maps, in this order:
 *
 * <ol>
 *   <li>Code {@code ORT_INVALID_ARGUMENT}: {@code INVALID_INPUT}. ONNX Runtime's own verdict that the input is
 *       wrong (invalid dimensions for an input, Gather indices out of bounds, Gemm, Expand or Tile shapes).</li>
 *   <li>A resource failure, whatever the code (the message says {@code Failed to allocate memory},
 *       {@code bad_alloc} or {@code out of memory}): {@code INTERNAL}, which is retryable, since memory may be
 *       free on the next try. The exception is an allocation larger than the machine's physical memory
 *       (ONNX Runtime's arena names the requested size): no retry can satisfy it, and the record's shape asked
 *       for it, so it is {@code INVALID_INPUT}.</li>
 *   <li>Code {@code ORT_FAIL} or {@code ORT_RUNTIME_EXCEPTION} raised inside a node (the message says
 *       {@code while running <Op> node}) whose message is about shapes ({@link #SHAPE_PROBLEMS}):
 *       {@code INVALID_INPUT}. Most kernels report shape errors with the generic code {@code ORT_FAIL}
 *       (Concat's "Non concat axis dimensions must match", Add's "Attempting to broadcast an axis by a dimension
 *       other than 1", MatMul's "dimension mismatch", Reshape, Squeeze, Pad, Conv channels). Inputs reach
 *       ONNX Runtime only after their names, types, ranks and fixed dimensions were checked, so such a failure
 *       depends on the record alone (two inputs disagreeing on a shared dynamic dimension, say) and repeats on
 *       every try.</li>
 *   <li>Anything else ({@code ORT_FAIL} about something other than shapes, {@code ORT_ENGINE_ERROR},
 *       {@code ORT_EP_FAIL}, {@code ORT_NOT_IMPLEMENTED}, failures of the Java binding): {@code INTERNAL}.</li>
 * </ol>
 *
 * <p>Messages carry ONNX Runtime's text, which describes shapes and nodes; the few fragments where it quotes
 * an element of a tensor (an out-of-range index: {@code idx=7}, {@code indice = 7}) are replaced by
 * {@code idx=?}, so record values never reach logs or replies.
 */
public final class OrtErrors {
    /**
     * Lower-case fragments of node failures about shapes, taken from ONNX Runtime 1.29's CPU kernels (see the
     * tests for the full messages they match).
     */
    static final String[] SHAPE_PROBLEMS = {
        "dimension", "shape", "broadcast", "mismatch", "must match", "rank", "out of range", "bounds",
        "not equal to", "invalidargument",
    };
    /** Lower-case fragments of resource failures. */
    private static final String[] RESOURCE_PROBLEMS = {"failed to allocate memory", "bad_alloc", "out of memory"};
    /** Fragments after which ONNX Runtime prints a tensor element. */
    private static final String[] VALUE_MARKERS = {"idx=", "indice = "};
    private static final String REQUESTED_SIZE = "requested buffer of size ";
    private static final String NODE = " node";
    private static final String RUNNING = "while running ";

    private OrtErrors() {
    }

    /** The exception for a failed {@code run} of {@code model}, as the class documentation maps it. */
    public static ScoringException runFailure(String model, OrtException e) {
        return runFailure(model, e, Memory.PHYSICAL_BYTES);
    }

    /** {@link #runFailure(String, OrtException)} on a machine with {@code physicalBytes} of memory. */
    static ScoringException runFailure(String model, OrtException e, long physicalBytes) {
        String message = redactValues(message(e));
        String lower = message.toLowerCase(Locale.ROOT);
        OrtException.OrtErrorCode code = e.getCode();
        if (code == OrtException.OrtErrorCode.ORT_INVALID_ARGUMENT) {
            return rejected(model, message, e);
        }
        if (containsAny(lower, RESOURCE_PROBLEMS)) {
            long requested = requestedBytes(lower);
            if (requested > physicalBytes) {
                return new ScoringException(ScoringException.Kind.INVALID_INPUT, "model '" + model
                        + "' rejected the input: it needs a buffer of " + requested + " bytes, more than the "
                        + physicalBytes + " bytes of memory of this machine: " + message, e);
            }
            return new ScoringException(ScoringException.Kind.INTERNAL,
                    "model '" + model + "' ran out of memory in ONNX Runtime: " + message, e);
        }
        boolean generic = code == OrtException.OrtErrorCode.ORT_FAIL
                || code == OrtException.OrtErrorCode.ORT_RUNTIME_EXCEPTION;
        if (generic && insideNode(lower) && containsAny(lower, SHAPE_PROBLEMS)) {
            return rejected(model, message, e);
        }
        return new ScoringException(ScoringException.Kind.INTERNAL,
                "model '" + model + "' failed in ONNX Runtime: " + message, e);
    }

    /**
     * The exception for a Java allocation (a direct buffer, usually) that failed while {@code model} was
     * scoring: {@code INTERNAL}, retryable, so that an {@link Error} never reaches the caller.
     */
    public static ScoringException outOfMemory(String model, OutOfMemoryError e) {
        return new ScoringException(ScoringException.Kind.INTERNAL, "model '" + model
                + "' ran out of memory while scoring (" + oneLine(e.getMessage())
                + "); retry later, or give the JVM more memory (-Xmx, -XX:MaxDirectMemorySize)", e);
    }

    private static ScoringException rejected(String model, String message, OrtException e) {
        return new ScoringException(ScoringException.Kind.INVALID_INPUT,
                "model '" + model + "' rejected the input: " + message, e);
    }

    /** Whether ONNX Runtime says the failure happened inside a node: {@code ... while running Concat node ...}. */
    private static boolean insideNode(String lower) {
        int at = lower.indexOf(RUNNING);
        return at >= 0 && lower.indexOf(NODE, at + RUNNING.length()) > 0;
    }

    /** The size after "requested buffer of size ", or -1. */
    private static long requestedBytes(String lower) {
        int at = lower.indexOf(REQUESTED_SIZE);
        if (at < 0) {
            return -1;
        }
        long n = 0;
        int digits = 0;
        for (int i = at + REQUESTED_SIZE.length(); i < lower.length() && digits < 19; i++, digits++) {
            char c = lower.charAt(i);
            if (c < '0' || c > '9') {
                break;
            }
            n = n * 10 + (c - '0');
        }
        return digits == 0 ? -1 : n;
    }

    /** {@code message} with the number after each {@link #VALUE_MARKERS} fragment replaced by {@code ?}. */
    static String redactValues(String message) {
        String out = message;
        for (String marker : VALUE_MARKERS) {
            int from = 0;
            while (true) {
                int at = out.indexOf(marker, from);
                if (at < 0) {
                    break;
                }
                int start = at + marker.length();
                int end = start;
                if (end < out.length() && out.charAt(end) == '-') {
                    end++;
                }
                while (end < out.length() && Character.isDigit(out.charAt(end))) {
                    end++;
                }
                out = out.substring(0, start) + "?" + out.substring(end);
                from = start + 1;
            }
        }
        return out;
    }

    private static boolean containsAny(String lower, String[] fragments) {
        for (String f : fragments) {
            if (lower.contains(f)) {
                return true;
            }
        }
        return false;
    }

    /** ONNX Runtime's message on one line, without the Java wrapper's "Error code - X - message: " prefix. */
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

    /** The machine's physical memory, read once. */
    private static final class Memory {
        static final long PHYSICAL_BYTES = physicalBytes();

        private static long physicalBytes() {
            OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
            if (os instanceof com.sun.management.OperatingSystemMXBean) {
                long total = ((com.sun.management.OperatingSystemMXBean) os).getTotalMemorySize();
                if (total > 0) {
                    return total;
                }
            }
            return Long.MAX_VALUE; // unknown: every allocation failure stays retryable
        }
    }
}
