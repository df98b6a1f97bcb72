package dev.nearline.triton.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.nearline.api.DataType;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.ScoringException;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.triton.internal.proto.InferTensorContents;
import dev.nearline.triton.internal.proto.ModelInferRequest;
import dev.nearline.triton.internal.proto.ModelInferResponse;
import dev.nearline.triton.internal.proto.ModelMetadataResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Encodes KServe v2 gRPC {@code ModelInferRequest}s with every input in
 * {@code raw_input_contents} (the v2 binary layout, BYTES with 4-byte length prefixes) and decodes
 * {@code ModelInferResponse}s from {@code raw_output_contents} or, when a server sends none, from
 * the typed {@code contents}. Stateless and thread-safe; decoding fails only with ScoringException.
 */
public final class GrpcCodec {
    private final String model;
    private final String version;

    /** A codec for requests to {@code model} ({@code version} empty to let the server choose). */
    public GrpcCodec(String model, String version) {
        this.model = model;
        this.version = version;
    }

    /** Encodes one record against {@code signature}. */
    public ModelInferRequest encode(@Nullable String id, ModelSignature signature, Tensors record) {
        return encode(id, RequestLayout.single(signature, record));
    }

    /** Encodes the request for {@code layout}, asking for every declared output. */
    public ModelInferRequest encode(@Nullable String id, RequestLayout layout) {
        ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName(model).setModelVersion(version);
        if (id != null) {
            b.setId(id);
        }
        for (int i = 0; i < layout.inputs().size(); i++) {
            TensorSpec spec = layout.inputs().get(i);
            ModelInferRequest.InferInputTensor.Builder in = b.addInputsBuilder()
                    .setName(spec.name())
                    .setDatatype(spec.type().name());
            for (long d : layout.inputShape(i)) {
                in.addShape(d);
            }
            long size = layout.inputByteSize(i);
            if (size > Integer.MAX_VALUE) {
                throw ScoringException.invalidInput("input '" + spec.name() + "' of " + size
                        + " bytes is too large for one gRPC message");
            }
            byte[] raw = new byte[(int) size];
            layout.writeInput(i, ByteBuffer.wrap(raw));
            // The array is ours and never written again, so protobuf may keep it without a copy.
            b.addRawInputContents(UnsafeByteOperations.unsafeWrap(raw));
        }
        for (TensorSpec out : layout.outputs()) {
            b.addOutputsBuilder().setName(out.name());
        }
        return b.build();
    }

    /** Decodes the response to a single-record request. */
    public Tensors decode(ModelInferResponse response, ModelSignature signature, Tensors request) {
        return decode(response, RequestLayout.single(signature, request), null).get(0);
    }

    /**
     * Decodes a response into each record's outputs.
     *
     * @throws ScoringException INTERNAL naming the output and what did not add up
     */
    public List<Tensors> decode(ModelInferResponse response, RequestLayout layout, @Nullable String expectedId) {
        Wire.checkId(expectedId, response.getId());
        int count = response.getOutputsCount();
        int rawCount = response.getRawOutputContentsCount();
        if (rawCount != 0 && rawCount != count) {
            throw new ScoringException(ScoringException.Kind.INTERNAL, "malformed response: " + count + " outputs but "
                    + rawCount + " raw_output_contents");
        }
        List<RawOutput> raw = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            ModelInferResponse.InferOutputTensor out = response.getOutputs(i);
            DataType type = Wire.outputType(out.getName(), out.getDatatype());
            long[] shape = new long[out.getShapeCount()];
            for (int d = 0; d < shape.length; d++) {
                shape[d] = out.getShape(d);
                if (shape[d] < 0) {
                    throw new ScoringException(ScoringException.Kind.INTERNAL, "malformed response: output '"
                            + out.getName() + "' has a negative dimension");
                }
            }
            // Name, datatype, shape and rows are checked before the data is read or converted.
            long elements = ResponseAssembler.expect(layout, out.getName(), type, shape);
            ByteBuffer data = rawCount != 0
                    ? response.getRawOutputContents(i).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN)
                    : typedContents(out.getName(), type, out.getContents(), elements);
            raw.add(new RawOutput(out.getName(), type, shape, data));
        }
        return ResponseAssembler.assemble(layout, raw);
    }

    /** Typed contents in the v2 binary layout, after checking they hold the {@code elements} the shape gives. */
    private static ByteBuffer typedContents(String name, DataType type, InferTensorContents c, long elements) {
        long count = typedCount(type, c);
        if (count < 0) {
            throw new ScoringException(ScoringException.Kind.INTERNAL, "malformed response: output '" + name + "' is "
                    + type + ", which has no typed contents field; the server must send raw_output_contents");
        }
        if (count != elements) {
            throw new ScoringException(ScoringException.Kind.INTERNAL, "output '" + name + "' has " + count
                    + " typed contents elements, its shape says " + elements);
        }
        ByteBuffer out;
        switch (type) {
            case BOOL:
                out = allocate(c.getBoolContentsCount());
                for (boolean v : c.getBoolContentsList()) {
                    out.put(v ? (byte) 1 : 0);
                }
                break;
            case UINT8:
                out = allocate(c.getUintContentsCount());
                for (int v : c.getUintContentsList()) {
                    out.put((byte) range(name, type, Integer.toUnsignedLong(v), 0, 255));
                }
                break;
            case INT8:
                out = allocate(c.getIntContentsCount());
                for (int v : c.getIntContentsList()) {
                    out.put((byte) range(name, type, v, Byte.MIN_VALUE, Byte.MAX_VALUE));
                }
                break;
            case INT16:
                out = allocate(2L * c.getIntContentsCount());
                for (int v : c.getIntContentsList()) {
                    out.putShort((short) range(name, type, v, Short.MIN_VALUE, Short.MAX_VALUE));
                }
                break;
            case INT32:
                out = allocate(4L * c.getIntContentsCount());
                for (int v : c.getIntContentsList()) {
                    out.putInt(v);
                }
                break;
            case INT64:
                out = allocate(8L * c.getInt64ContentsCount());
                for (long v : c.getInt64ContentsList()) {
                    out.putLong(v);
                }
                break;
            case FP32:
                out = allocate(4L * c.getFp32ContentsCount());
                for (float v : c.getFp32ContentsList()) {
                    out.putFloat(v);
                }
                break;
            case FP64:
                out = allocate(8L * c.getFp64ContentsCount());
                for (double v : c.getFp64ContentsList()) {
                    out.putDouble(v);
                }
                break;
            case BYTES: {
                long total = 0;
                for (ByteString s : c.getBytesContentsList()) {
                    total += 4 + s.size();
                }
                out = allocate(total);
                for (ByteString s : c.getBytesContentsList()) {
                    out.putInt(s.size());
                    s.copyTo(out);
                }
                break;
            }
            default:
                throw new AssertionError(type); // FP16, BF16 were refused above
        }
        return out.flip();
    }

    /** The number of elements in the contents field that carries {@code type}. */
    private static long typedCount(DataType type, InferTensorContents c) {
        switch (type) {
            case BOOL:
                return c.getBoolContentsCount();
            case UINT8:
                return c.getUintContentsCount();
            case INT8:
            case INT16:
            case INT32:
                return c.getIntContentsCount();
            case INT64:
                return c.getInt64ContentsCount();
            case FP32:
                return c.getFp32ContentsCount();
            case FP64:
                return c.getFp64ContentsCount();
            case BYTES:
                return c.getBytesContentsCount();
            default:
                return -1; // FP16, BF16: no typed field; typedContents says so
        }
    }

    private static ByteBuffer allocate(long bytes) {
        if (bytes > Integer.MAX_VALUE) {
            throw new ScoringException(ScoringException.Kind.INTERNAL, "response contents of " + bytes + " bytes are too large");
        }
        return ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static long range(String name, DataType type, long v, long min, long max) {
        if (v < min || v > max) {
            throw new ScoringException(ScoringException.Kind.INTERNAL, "malformed response: output '" + name
                    + "' holds " + v + ", which is not a " + type + " value");
        }
        return v;
    }

    /** A signature from {@code ModelMetadata} (-1 for dynamic dimensions). */
    public static ModelSignature signature(ModelMetadataResponse metadata) {
        List<TensorSpec> inputs = new ArrayList<>();
        for (ModelMetadataResponse.TensorMetadata t : metadata.getInputsList()) {
            inputs.add(Wire.spec("input", t.getName(), t.getDatatype(), toArray(t.getShapeList())));
        }
        List<TensorSpec> outputs = new ArrayList<>();
        for (ModelMetadataResponse.TensorMetadata t : metadata.getOutputsList()) {
            outputs.add(Wire.spec("output", t.getName(), t.getDatatype(), toArray(t.getShapeList())));
        }
        return Wire.signature(inputs, outputs);
    }

    private static long[] toArray(List<Long> list) {
        long[] a = new long[list.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = list.get(i);
        }
        return a;
    }
}
