package dev.nearline.triton.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.nearline.api.DataType;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Encodes KServe v2 REST inference requests and decodes their responses, with or without
 * Triton's binary tensor data extension. With binary data the body is a JSON header followed by
 * each input's elements (little-endian, BYTES with 4-byte length prefixes) in input order, and the
 * header's length travels in {@value #HEADER_LENGTH}; outputs are asked for as binary too. Without
 * it, elements are JSON arrays (FP16 and BF16 have no JSON form).
 *
 * <p>Stateless and thread-safe; separate from the HTTP transport so that it can be tested against
 * hand-written bodies and benchmarked alone. Decoding treats the body as untrusted: anything that
 * does not add up fails with ScoringException INTERNAL, never another exception.
 */
public final class RestCodec {
    /** Server metadata extension name of the binary tensor data extension. */
    public static final String BINARY_EXTENSION = "binary_tensor_data";
    /** HTTP header giving the byte length of the JSON part of a body with binary data. */
    public static final String HEADER_LENGTH = "Inference-Header-Content-Length";
    /** Content type of a body with binary data. */
    public static final String BINARY_CONTENT_TYPE = "application/octet-stream";
    /** Content type of an all-JSON body. */
    public static final String JSON_CONTENT_TYPE = "application/json";

    private static final JsonFactory FACTORY = JsonFactory.builder().build();
    private static final ObjectMapper READER = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final boolean binary;

    /** A codec that sends and asks for binary tensor data when {@code binary}, JSON otherwise. */
    public RestCodec(boolean binary) {
        this.binary = binary;
    }

    /** Whether tensors travel as binary data. */
    public boolean binary() {
        return binary;
    }

    /**
     * An encoded request body.
     *
     * @param body         the whole body
     * @param headerLength byte length of the JSON header when the body carries binary data, else -1
     */
    public record Encoded(byte[] body, int headerLength) {

        /** The Content-Type header for this body. */
        public String contentType() {
            return headerLength >= 0 ? BINARY_CONTENT_TYPE : JSON_CONTENT_TYPE;
        }
    }

    // ------------------------------------------------------------------ encode

    /** Encodes one record against {@code signature}; see {@link #encode(String, RequestLayout)}. */
    public Encoded encode(@Nullable String id, ModelSignature signature, Tensors record) {
        return encode(id, RequestLayout.single(signature, record));
    }

    /**
     * Encodes the request body for {@code layout}, asking for every declared output.
     *
     * @param id request id echoed by the server, or null to send none
     * @throws ScoringException INVALID_INPUT for values JSON cannot carry (FP16, BF16, NaN, infinities)
     */
    public Encoded encode(@Nullable String id, RequestLayout layout) {
        int inputs = layout.inputs().size();
        long[] sizes = new long[inputs];
        long binaryBytes = 0;
        if (binary) {
            for (int i = 0; i < inputs; i++) {
                sizes[i] = layout.inputByteSize(i);
                binaryBytes += sizes[i];
            }
        }
        ByteArrayBuilder header = new ByteArrayBuilder(256);
        try (JsonGenerator g = FACTORY.createGenerator(header)) {
            g.writeStartObject();
            if (id != null) {
                g.writeStringField("id", id);
            }
            g.writeArrayFieldStart("inputs");
            for (int i = 0; i < inputs; i++) {
                TensorSpec spec = layout.inputs().get(i);
                g.writeStartObject();
                g.writeStringField("name", spec.name());
                g.writeFieldName("shape");
                long[] shape = layout.inputShape(i);
                g.writeArray(shape, 0, shape.length);
                g.writeStringField("datatype", spec.type().name());
                if (binary) {
                    g.writeObjectFieldStart("parameters");
                    g.writeNumberField("binary_data_size", sizes[i]);
                    g.writeEndObject();
                } else {
                    g.writeArrayFieldStart("data");
                    for (int r = 0; r < layout.recordCount(); r++) {
                        writeElements(g, spec.name(), layout.input(r, i));
                    }
                    g.writeEndArray();
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeArrayFieldStart("outputs");
            for (TensorSpec out : layout.outputs()) {
                g.writeStartObject();
                g.writeStringField("name", out.name());
                if (binary) {
                    g.writeObjectFieldStart("parameters");
                    g.writeBooleanField("binary_data", true);
                    g.writeEndObject();
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // writing to memory does not fail
        }
        byte[] json = header.toByteArray();
        if (!binary) {
            return new Encoded(json, -1);
        }
        long total = json.length + binaryBytes;
        if (total > Integer.MAX_VALUE - 16) {
            throw ScoringException.invalidInput("request of " + total + " bytes is too large for one HTTP body");
        }
        byte[] body = new byte[(int) total];
        System.arraycopy(json, 0, body, 0, json.length);
        ByteBuffer out = ByteBuffer.wrap(body);
        out.position(json.length);
        for (int i = 0; i < inputs; i++) {
            layout.writeInput(i, out);
        }
        return new Encoded(body, json.length);
    }

    private static void writeElements(JsonGenerator g, String name, Tensor t) throws IOException {
        int n = t.size();
        switch (t.type()) {
            case BOOL:
                for (int i = 0; i < n; i++) {
                    g.writeBoolean(t.booleanAt(i));
                }
                break;
            case UINT8:
            case INT8:
            case INT16:
            case INT32:
            case INT64:
                for (int i = 0; i < n; i++) {
                    g.writeNumber(t.longAt(i));
                }
                break;
            case FP32:
                for (int i = 0; i < n; i++) {
                    float v = t.floatAt(i);
                    if (!Float.isFinite(v)) {
                        throw nonFinite(name, i, v);
                    }
                    g.writeNumber(v);
                }
                break;
            case FP64:
                for (int i = 0; i < n; i++) {
                    double v = t.doubleAt(i);
                    if (!Double.isFinite(v)) {
                        throw nonFinite(name, i, v);
                    }
                    g.writeNumber(v);
                }
                break;
            case BYTES:
                for (int i = 0; i < n; i++) {
                    g.writeString(t.stringAt(i));
                }
                break;
            case FP16:
            case BF16:
                throw ScoringException.invalidInput("input '" + name + "' is " + t.type()
                        + ", which KServe v2 JSON cannot carry: use binary tensor data or gRPC");
            default:
                throw new AssertionError(t.type());
        }
    }

    private static ScoringException nonFinite(String name, int index, double v) {
        return ScoringException.invalidInput("input '" + name + "' element " + index + " is " + v
                + ", which JSON cannot carry: use binary tensor data or gRPC");
    }

    // ------------------------------------------------------------------ decode

    /** Decodes the response to a single-record request; see {@link #decode(byte[], String, RequestLayout, String)}. */
    public Tensors decode(byte[] body, @Nullable String headerLength, ModelSignature signature, Tensors request) {
        return decode(body, headerLength, RequestLayout.single(signature, request), null).get(0);
    }

    /**
     * Decodes a 200 response body into each record's outputs.
     *
     * @param headerLength the {@value #HEADER_LENGTH} header, or null when absent (all JSON)
     * @param expectedId   the request id, checked against the response's when both are present
     * @throws ScoringException INTERNAL naming the output and what did not add up
     */
    public List<Tensors> decode(byte[] body, @Nullable String headerLength, RequestLayout layout,
            @Nullable String expectedId) {
        int jsonLength = body.length;
        if (headerLength != null) {
            try {
                jsonLength = Integer.parseInt(headerLength.trim());
            } catch (NumberFormatException e) {
                throw malformed(HEADER_LENGTH + " '" + Wire.printable(headerLength) + "' is not a byte count", e);
            }
            if (jsonLength < 0 || jsonLength > body.length) {
                throw malformed(HEADER_LENGTH + " " + jsonLength + " does not fit a body of " + body.length + " bytes", null);
            }
        }
        JsonNode root = parse(body, jsonLength);
        if (!root.isObject()) {
            throw malformed("the JSON part is not an object", null);
        }
        Wire.checkId(expectedId, textOrNull(root.get("id")));
        JsonNode outputs = root.get("outputs");
        if (outputs == null || !outputs.isArray()) {
            JsonNode error = root.get("error");
            if (error != null && error.isTextual()) {
                throw malformed("no outputs, error '" + Wire.printable(error.asText()) + "'", null);
            }
            throw malformed("no 'outputs' array", null);
        }
        List<RawOutput> raw = new ArrayList<>(outputs.size());
        int pos = jsonLength;
        for (JsonNode out : outputs) {
            if (!out.isObject()) {
                throw malformed("an element of 'outputs' is not an object", null);
            }
            String name = textOrNull(out.get("name"));
            if (name == null) {
                throw malformed("an output has no name", null);
            }
            String datatype = textOrNull(out.get("datatype"));
            if (datatype == null) {
                throw malformed("output '" + name + "' has no datatype", null);
            }
            DataType type = Wire.outputType(name, datatype);
            long[] shape = shape(name, out.get("shape"));
            // Name, datatype, shape and rows are checked before the data is read or converted.
            long elements = ResponseAssembler.expect(layout, name, type, shape);
            JsonNode params = out.get("parameters");
            JsonNode size = params != null && params.isObject() ? params.get("binary_data_size") : null;
            ByteBuffer data;
            if (size != null) {
                if (!size.isIntegralNumber() || !size.canConvertToLong() || size.longValue() < 0) {
                    throw malformed("output '" + name + "' has binary_data_size " + Wire.printable(size.toString()), null);
                }
                long n = size.longValue();
                if (n > body.length - pos) {
                    throw new ScoringException(ScoringException.Kind.INTERNAL, "output '" + name + "' declares " + n
                            + " bytes of binary data but only " + (body.length - pos) + " remain in the body (truncated)");
                }
                data = ByteBuffer.wrap(body, pos, (int) n).slice().order(ByteOrder.LITTLE_ENDIAN);
                pos += (int) n;
            } else {
                JsonNode values = out.get("data");
                if (values == null) {
                    throw malformed("output '" + name + "' has neither data nor binary_data_size", null);
                }
                data = jsonData(name, type, values, elements);
            }
            raw.add(new RawOutput(name, type, shape, data));
        }
        if (pos != body.length) {
            throw malformed((body.length - pos) + " bytes follow the last binary output", null);
        }
        return ResponseAssembler.assemble(layout, raw);
    }

    private static JsonNode parse(byte[] body, int length) {
        try {
            JsonNode node = READER.readTree(body, 0, length);
            if (node == null || node.isMissingNode()) {
                throw malformed("the body is empty", null);
            }
            return node;
        } catch (JsonProcessingException e) {
            throw malformed("invalid JSON (" + Wire.printable(String.valueOf(e.getOriginalMessage())) + ")", e);
        } catch (IOException e) {
            throw malformed("unreadable JSON (" + e + ")", e);
        }
    }

    private static long[] shape(String name, @Nullable JsonNode node) {
        if (node == null || !node.isArray()) {
            throw malformed("output '" + name + "' has no shape array", null);
        }
        long[] shape = new long[node.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = node.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0) {
                throw malformed("output '" + name + "' has invalid shape " + Wire.printable(node.toString()), null);
            }
            shape[i] = d.longValue();
        }
        return shape;
    }

    /** JSON elements (flat or nested to the tensor's shape) in the v2 binary layout. */
    private static ByteBuffer jsonData(String name, DataType type, JsonNode values, long elements) {
        if (!values.isArray()) {
            throw malformed("output '" + name + "' data is not an array", null);
        }
        List<JsonNode> flat = new ArrayList<>();
        flatten(values, flat);
        if (flat.size() != elements) {
            throw new ScoringException(ScoringException.Kind.INTERNAL, "output '" + name + "' has " + flat.size()
                    + " data elements, its shape says " + elements);
        }
        if (type == DataType.BYTES) {
            List<byte[]> strings = new ArrayList<>(flat.size());
            long total = 0;
            for (int i = 0; i < flat.size(); i++) {
                JsonNode v = flat.get(i);
                if (!v.isTextual()) {
                    throw element(name, type, i, v);
                }
                byte[] utf8 = v.textValue().getBytes(StandardCharsets.UTF_8);
                strings.add(utf8);
                total += 4 + utf8.length;
            }
            ByteBuffer out = ByteBuffer.allocate((int) Math.min(total, Integer.MAX_VALUE)).order(ByteOrder.LITTLE_ENDIAN);
            for (byte[] s : strings) {
                out.putInt(s.length).put(s);
            }
            return out.flip();
        }
        ByteBuffer out = ByteBuffer.allocate(flat.size() * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < flat.size(); i++) {
            JsonNode v = flat.get(i);
            switch (type) {
                case BOOL:
                    if (v.isBoolean()) {
                        out.put(v.booleanValue() ? (byte) 1 : 0);
                    } else {
                        out.put((byte) integer(name, type, i, v, 0, 1));
                    }
                    break;
                case UINT8:
                    out.put((byte) integer(name, type, i, v, 0, 255));
                    break;
                case INT8:
                    out.put((byte) integer(name, type, i, v, Byte.MIN_VALUE, Byte.MAX_VALUE));
                    break;
                case INT16:
                    out.putShort((short) integer(name, type, i, v, Short.MIN_VALUE, Short.MAX_VALUE));
                    break;
                case INT32:
                    out.putInt((int) integer(name, type, i, v, Integer.MIN_VALUE, Integer.MAX_VALUE));
                    break;
                case INT64:
                    out.putLong(integer(name, type, i, v, Long.MIN_VALUE, Long.MAX_VALUE));
                    break;
                case FP16:
                    out.putShort(Tensor.floatToHalf((float) number(name, type, i, v)));
                    break;
                case BF16:
                    out.putShort(Tensor.floatToBfloat16((float) number(name, type, i, v)));
                    break;
                case FP32:
                    out.putFloat((float) number(name, type, i, v));
                    break;
                case FP64:
                    out.putDouble(number(name, type, i, v));
                    break;
                default:
                    throw new AssertionError(type);
            }
        }
        return out.flip();
    }

    private static void flatten(JsonNode node, List<JsonNode> out) {
        if (node.isArray()) {
            for (JsonNode child : node) {
                flatten(child, out);
            }
        } else {
            out.add(node);
        }
    }

    private static long integer(String name, DataType type, int index, JsonNode v, long min, long max) {
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw element(name, type, index, v);
        }
        long x = v.longValue();
        if (x < min || x > max) {
            throw element(name, type, index, v);
        }
        return x;
    }

    private static double number(String name, DataType type, int index, JsonNode v) {
        if (!v.isNumber()) {
            throw element(name, type, index, v);
        }
        return v.doubleValue();
    }

    private static ScoringException element(String name, DataType type, int index, JsonNode v) {
        return malformed("output '" + name + "' element " + index + " is not a " + type + " value: "
                + Wire.printable(v.toString()), null);
    }

    // ------------------------------------------------------------------ metadata and errors

    /** Parses {@code GET /v2}. */
    public static ServerMetadata serverMetadata(byte[] body) {
        JsonNode root = parseMetadata(body, "server metadata");
        List<String> extensions = new ArrayList<>();
        JsonNode ext = root.get("extensions");
        if (ext != null && ext.isArray()) {
            for (JsonNode e : ext) {
                if (e.isTextual()) {
                    extensions.add(e.textValue());
                }
            }
        }
        String name = textOrNull(root.get("name"));
        String version = textOrNull(root.get("version"));
        return new ServerMetadata(name == null ? "" : name, version == null ? "" : version, extensions);
    }

    /** Parses {@code GET /v2/models/{name}[/versions/{v}]} into a signature (-1 for dynamic dimensions). */
    public static ModelSignature modelMetadata(byte[] body) {
        JsonNode root = parseMetadata(body, "model metadata");
        return Wire.signature(specs(root, "inputs", "input"), specs(root, "outputs", "output"));
    }

    /**
     * {@code max_batch_size} from {@code GET /v2/models/{name}/config} (Triton's model configuration
     * extension); absent means 0, as in Triton's protobuf.
     */
    public static int maxBatchSize(byte[] body) {
        JsonNode root = parseMetadata(body, "model configuration");
        JsonNode n = root.get("max_batch_size");
        if (n == null || n.isNull()) {
            return 0;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 0) {
            throw badMetadata("model configuration has max_batch_size " + Wire.printable(n.toString())
                    + ", expected an integer >= 0");
        }
        return n.intValue();
    }

    private static List<TensorSpec> specs(JsonNode root, String field, String role) {
        JsonNode list = root.get(field);
        List<TensorSpec> specs = new ArrayList<>();
        if (list == null) {
            return specs;
        }
        if (!list.isArray()) {
            throw badMetadata("'" + field + "' is not an array");
        }
        for (JsonNode t : list) {
            String name = textOrNull(t.get("name"));
            String datatype = textOrNull(t.get("datatype"));
            JsonNode shape = t.get("shape");
            if (name == null || datatype == null || shape == null || !shape.isArray()) {
                throw badMetadata("an entry of '" + field + "' lacks name, datatype or shape");
            }
            long[] dims = new long[shape.size()];
            for (int i = 0; i < dims.length; i++) {
                JsonNode d = shape.get(i);
                if (!d.isIntegralNumber() || !d.canConvertToLong()) {
                    throw badMetadata(role + " '" + name + "' has invalid shape " + Wire.printable(shape.toString()));
                }
                dims[i] = d.longValue();
            }
            specs.add(Wire.spec(role, name, datatype, dims));
        }
        return specs;
    }

    private static JsonNode parseMetadata(byte[] body, String what) {
        try {
            JsonNode root = READER.readTree(body);
            if (root == null || !root.isObject()) {
                throw badMetadata(what + " is not a JSON object");
            }
            return root;
        } catch (IOException e) {
            throw RemoteFailure.definite(ScoringException.Kind.INTERNAL, "invalid JSON in " + what, e);
        }
    }

    private static RemoteFailure badMetadata(String message) {
        return RemoteFailure.definite(ScoringException.Kind.INTERNAL, "malformed metadata: " + message, null);
    }

    /**
     * The server's message from an error body ({@code {"error": "..."}}), or the body's text, cut
     * and made printable.
     */
    public static String errorMessage(byte[] body) {
        if (body.length == 0) {
            return "(no message)";
        }
        try {
            JsonNode root = READER.readTree(body);
            if (root != null && root.isObject()) {
                JsonNode error = root.get("error");
                if (error != null && error.isTextual()) {
                    return Wire.printable(error.textValue());
                }
            }
        } catch (IOException | RuntimeException e) {
            // not JSON: fall through to the text
        }
        return Wire.printable(new String(body, 0, Math.min(body.length, 400), StandardCharsets.UTF_8));
    }

    private static @Nullable String textOrNull(@Nullable JsonNode node) {
        return node != null && node.isTextual() ? node.textValue() : null;
    }

    private static ScoringException malformed(String message, @Nullable Throwable cause) {
        return new ScoringException(ScoringException.Kind.INTERNAL, "malformed response: " + message, cause);
    }
}
