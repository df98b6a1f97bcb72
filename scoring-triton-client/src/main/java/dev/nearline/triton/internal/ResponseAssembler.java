package dev.nearline.triton.internal;

import dev.nearline.api.DataType;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Checks a response's outputs against what was asked and what the model declares, then builds
 * the tensors, split per record for a batch. Any disagreement (an output missing, unasked or
 * repeated, another datatype, a shape that does not fit, a row count that is not the request's, for
 * one record as for a batch, a byte count that does not match the shape) fails with
 * ScoringException INTERNAL naming the output and expected versus actual: a response that does not
 * add up never becomes a score. Codecs call {@link #expect} with an output's header before they
 * convert its data, so that no element count from a response is trusted to allocate.
 */
public final class ResponseAssembler {

    private ResponseAssembler() {
    }

    /** The outputs of each record of {@code layout}, in the model's declared output order. */
    public static List<Tensors> assemble(RequestLayout layout, List<RawOutput> raw) {
        List<TensorSpec> specs = layout.outputs();
        RawOutput[] byIndex = new RawOutput[specs.size()];
        for (RawOutput out : raw) {
            int idx = indexOf(specs, out.name());
            if (idx < 0) {
                throw internal("unexpected output '" + out.name() + "' (asked for " + names(specs) + ")");
            }
            if (byIndex[idx] != null) {
                throw internal("output '" + out.name() + "' appears twice");
            }
            byIndex[idx] = out;
        }
        for (int i = 0; i < specs.size(); i++) {
            if (byIndex[i] == null) {
                throw internal("missing output '" + specs.get(i).name() + "' (got " + rawNames(raw) + ")");
            }
            check(specs.get(i), byIndex[i], layout);
        }
        if (layout.recordCount() == 1) {
            Tensors.Builder one = Tensors.builder();
            for (RawOutput out : byIndex) {
                one.add(out.name(), decode(out, out.data(), out.shape()));
            }
            return List.of(one.build());
        }
        int records = layout.recordCount();
        List<Tensors.Builder> builders = new ArrayList<>(records);
        for (int r = 0; r < records; r++) {
            builders.add(Tensors.builder());
        }
        for (int i = 0; i < specs.size(); i++) {
            RawOutput out = byIndex[i];
            long[] rowShape = out.shape().clone();
            long perRow = elementCount(out.name(), Arrays.copyOfRange(rowShape, 1, rowShape.length));
            ByteBuffer data = out.data().slice().order(ByteOrder.LITTLE_ENDIAN);
            for (int r = 0; r < records; r++) {
                int rows = layout.rows(r);
                long elements = rows * perRow;
                int length = byteLength(out, data, elements);
                ByteBuffer part = data.slice().limit(length);
                data.position(data.position() + length);
                long[] shape = rowShape.clone();
                shape[0] = rows;
                builders.get(r).add(out.name(), decode(out, part, shape));
            }
        }
        List<Tensors> result = new ArrayList<>(records);
        for (Tensors.Builder b : builders) {
            result.add(b.build());
        }
        return result;
    }

    /**
     * Checks one output's header (name, datatype, shape, rows) against the request and the model's
     * declaration, before its data is read.
     *
     * @return the element count the shape gives, which the data must then hold
     * @throws ScoringException INTERNAL naming the output, expected versus actual
     */
    public static long expect(RequestLayout layout, String name, DataType type, long[] shape) {
        List<TensorSpec> specs = layout.outputs();
        int idx = indexOf(specs, name);
        if (idx < 0) {
            throw internal("unexpected output '" + name + "' (asked for " + names(specs) + ")");
        }
        TensorSpec spec = specs.get(idx);
        String actual = type + " " + Arrays.toString(shape);
        if (type != spec.type()) {
            throw internal("output '" + name + "' expects " + spec.describe() + ", got " + actual);
        }
        long[] declared = spec.shape();
        if (declared != null) {
            boolean fits = declared.length == shape.length;
            for (int d = 0; fits && d < shape.length; d++) {
                fits = declared[d] < 0 || declared[d] == shape[d];
            }
            if (!fits) {
                throw internal("output '" + name + "' expects " + spec.describe() + ", got " + actual);
            }
        }
        long count = elementCount(name, shape);
        if (layout.hasBatchAxis() && (shape.length == 0 || shape[0] != layout.totalRows())) {
            String request = layout.recordCount() == 1 ? "the request's" : "the batch of " + layout.recordCount()
                    + " records";
            throw internal("output '" + name + "' expects " + layout.totalRows() + (layout.totalRows() == 1 ? " row"
                    : " rows") + " (" + request + ") on its first axis, got " + actual);
        }
        return count;
    }

    private static void check(TensorSpec spec, RawOutput out, RequestLayout layout) {
        long count = expect(layout, spec.name(), out.type(), out.shape());
        String actual = out.type() + " " + Arrays.toString(out.shape());
        ByteBuffer data = out.data().slice().order(ByteOrder.LITTLE_ENDIAN);
        int length = byteLength(out, data, count);
        if (length != data.remaining()) {
            throw internal("output '" + out.name() + "' " + actual + " has " + data.remaining() + " bytes of data, expected "
                    + length);
        }
    }

    /**
     * The byte length of the next {@code elements} elements at {@code data}'s position; for BYTES
     * found by walking the length prefixes.
     */
    private static int byteLength(RawOutput out, ByteBuffer data, long elements) {
        if (out.type() != DataType.BYTES) {
            long n = elements * out.type().byteSize();
            if (n > data.remaining()) {
                throw internal("output '" + out.name() + "' " + out.type() + " " + Arrays.toString(out.shape()) + " has "
                        + data.remaining() + " bytes of data, expected " + n);
            }
            return (int) n;
        }
        int start = data.position();
        int p = start;
        int limit = data.limit();
        for (long e = 0; e < elements; e++) {
            if (limit - p < 4) {
                throw internal("output '" + out.name() + "' BYTES " + Arrays.toString(out.shape()) + ": data ends before element "
                        + e + " of " + elements);
            }
            long len = Integer.toUnsignedLong(data.getInt(p));
            p += 4;
            if (len > limit - p) {
                throw internal("output '" + out.name() + "' BYTES element " + e + " declares " + len + " bytes but only "
                        + (limit - p) + " remain");
            }
            p += (int) len;
        }
        return p - start;
    }

    private static Tensor decode(RawOutput out, ByteBuffer data, long[] shape) {
        try {
            return Tensor.fromLittleEndian(out.type(), data, shape);
        } catch (IllegalArgumentException e) {
            // Unreachable after check(); kept so that no other exception type escapes.
            throw new ScoringException(ScoringException.Kind.INTERNAL, "output '" + out.name() + "': " + e.getMessage(), e);
        }
    }

    /** The element count of {@code shape}, rejecting negative dimensions and counts past int. */
    static long elementCount(String name, long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw internal("output '" + name + "' has invalid shape " + Arrays.toString(shape));
            }
            n *= d;
            if (n > Integer.MAX_VALUE) {
                throw internal("output '" + name + "' shape " + Arrays.toString(shape) + " has more than "
                        + Integer.MAX_VALUE + " elements");
            }
        }
        return n;
    }

    private static int indexOf(List<TensorSpec> specs, String name) {
        for (int i = 0; i < specs.size(); i++) {
            if (specs.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    private static List<String> names(List<TensorSpec> specs) {
        List<String> n = new ArrayList<>();
        for (TensorSpec s : specs) {
            n.add(s.name());
        }
        return n;
    }

    private static List<String> rawNames(List<RawOutput> raw) {
        List<String> n = new ArrayList<>();
        for (RawOutput o : raw) {
            n.add(o.name());
        }
        return n;
    }

    static ScoringException internal(String message) {
        return new ScoringException(ScoringException.Kind.INTERNAL, message);
    }
}
