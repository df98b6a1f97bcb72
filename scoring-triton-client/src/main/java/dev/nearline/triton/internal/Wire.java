package dev.nearline.triton.internal;

import dev.nearline.api.DataType;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.ScoringException;
import dev.nearline.api.TensorSpec;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** Small pieces shared by the REST and gRPC codecs. */
final class Wire {

    private Wire() {
    }

    /** The data type for a v2 datatype name, or null when Nearline has no such type (UINT16, UINT32, UINT64). */
    static @Nullable DataType dataType(String name) {
        for (DataType t : DataType.values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }

    /** The data type of output {@code tensor}, failing INTERNAL for a datatype Nearline lacks. */
    static DataType outputType(String tensor, String datatype) {
        DataType t = dataType(datatype);
        if (t == null) {
            throw new ScoringException(ScoringException.Kind.INTERNAL, "output '" + tensor + "' has datatype '" + datatype
                    + "', which Nearline does not support (supported: " + Arrays.toString(DataType.values()) + ")");
        }
        return t;
    }

    /** A tensor spec from model metadata, failing INTERNAL for a datatype Nearline lacks. */
    static TensorSpec spec(String role, String name, String datatype, long[] shape) {
        DataType t = dataType(datatype);
        if (t == null) {
            throw RemoteFailure.definite(ScoringException.Kind.INTERNAL, "model " + role + " '" + name + "' has datatype '"
                    + datatype + "', which Nearline does not support (supported: " + Arrays.toString(DataType.values())
                    + ")", null);
        }
        for (long d : shape) {
            if (d < -1) {
                throw RemoteFailure.definite(ScoringException.Kind.INTERNAL, "model " + role + " '" + name
                        + "' has invalid shape " + Arrays.toString(shape) + " in its metadata", null);
            }
        }
        return TensorSpec.of(name, t, shape);
    }

    /** A signature from metadata specs, failing INTERNAL on duplicate names. */
    static ModelSignature signature(List<TensorSpec> inputs, List<TensorSpec> outputs) {
        try {
            return new ModelSignature(inputs, outputs);
        } catch (IllegalArgumentException e) {
            throw RemoteFailure.definite(ScoringException.Kind.INTERNAL, "model metadata: " + e.getMessage(), e);
        }
    }

    /** The response id check: a server that echoes another request's id must not be trusted with this one. */
    static void checkId(@Nullable String expected, @Nullable String actual) {
        if (expected != null && actual != null && !actual.isEmpty() && !actual.equals(expected)) {
            throw new ScoringException(ScoringException.Kind.INTERNAL, "response id '" + printable(actual)
                    + "' does not match request id '" + expected + "'");
        }
    }

    /** {@code s} cut to 300 characters with control characters replaced, for messages quoting a server. */
    static String printable(String s) {
        String cut = s.length() > 300 ? s.substring(0, 300) + "..." : s;
        StringBuilder b = new StringBuilder(cut.length());
        for (int i = 0; i < cut.length(); i++) {
            char c = cut.charAt(i);
            b.append(Character.isISOControl(c) ? ' ' : c);
        }
        return b.toString().trim();
    }
}
