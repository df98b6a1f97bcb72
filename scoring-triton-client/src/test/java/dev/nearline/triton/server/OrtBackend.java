package dev.nearline.triton.server;

import ai.onnxruntime.MapInfo;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.SequenceInfo;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.ValueInfo;
import dev.nearline.api.DataType;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One ONNX model served through ONNX Runtime's Java API, with its v2 metadata. The server's
 * inference and the tests' direct reference run share this class, so that a client result can be
 * compared with what ORT computes in-process for the same inputs. Thread-safe (ORT sessions are);
 * owns its session and session options until {@link #close()}.
 */
public final class OrtBackend implements AutoCloseable {
    private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

    private final String name;
    private final OrtSession.SessionOptions options;
    private final OrtSession session;
    private final List<Meta> inputs = new ArrayList<>();
    private final List<Meta> outputs = new ArrayList<>();

    /** Name, v2 datatype and shape (-1 dynamic) of one model tensor. */
    public record Meta(String name, String datatype, long[] shape) {
    }

    /** Loads {@code file} as model {@code name} with ONNX Runtime's default session options. */
    public OrtBackend(String name, Path file) throws OrtException {
        this(name, file, 0);
    }

    /**
     * Loads {@code file} as model {@code name} with {@code intraOpThreads} threads per node (0 for
     * ONNX Runtime's default, one per physical core): tests and benchmarks that compare with an
     * in-process session pass that session's setting.
     *
     * @throws IllegalArgumentException when an input or output is not a tensor (a map or sequence,
     *                                  such as scikit-learn's ZipMap output), which KServe v2 cannot carry
     */
    public OrtBackend(String name, Path file, int intraOpThreads) throws OrtException {
        this.name = name;
        this.options = new OrtSession.SessionOptions();
        try {
            // ONNX Runtime's warnings about old opsets and initializers in the graph inputs are noise here.
            options.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
            if (intraOpThreads > 0) {
                options.setIntraOpNumThreads(intraOpThreads);
            }
            this.session = ENV.createSession(file.toString(), options);
        } catch (OrtException | RuntimeException e) {
            options.close();
            throw e;
        }
        try {
            for (Map.Entry<String, NodeInfo> e : session.getInputInfo().entrySet()) {
                inputs.add(meta("input", e.getKey(), e.getValue()));
            }
            for (Map.Entry<String, NodeInfo> e : session.getOutputInfo().entrySet()) {
                outputs.add(meta("output", e.getKey(), e.getValue()));
            }
        } catch (OrtException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private static Meta meta(String role, String name, NodeInfo info) {
        if (!(info.getInfo() instanceof TensorInfo)) {
            throw new IllegalArgumentException(role + " '" + name + "' is " + describe(info.getInfo())
                    + ", which KServe v2 cannot carry (it has tensors only)");
        }
        TensorInfo t = (TensorInfo) info.getInfo();
        long[] shape = t.getShape().clone();
        for (int i = 0; i < shape.length; i++) {
            shape[i] = shape[i] < 0 ? -1 : shape[i];
        }
        return new Meta(name, datatype(t.onnxType), shape);
    }

    /** ONNX's notation for a non-tensor type, such as {@code sequence<map<int64,float>>}. */
    private static String describe(ValueInfo info) {
        if (info instanceof MapInfo) {
            MapInfo m = (MapInfo) info;
            return "map<" + onnxName(m.keyType) + "," + onnxName(m.valueType) + ">";
        }
        if (info instanceof SequenceInfo) {
            SequenceInfo s = (SequenceInfo) info;
            return s.isSequenceOfMaps()
                    ? "sequence<map<" + onnxName(s.mapInfo.keyType) + "," + onnxName(s.mapInfo.valueType) + ">>"
                    : "sequence<tensor<" + onnxName(s.sequenceType) + ">>";
        }
        return String.valueOf(info);
    }

    private static String onnxName(OnnxJavaType type) {
        return type == OnnxJavaType.STRING ? "string" : type.name().toLowerCase(Locale.ROOT);
    }

    /** The v2 datatype name for an ONNX element type. */
    static String datatype(TensorInfo.OnnxTensorType t) {
        String n = t.name().substring("ONNX_TENSOR_ELEMENT_DATA_TYPE_".length());
        switch (n) {
            case "FLOAT":
                return "FP32";
            case "DOUBLE":
                return "FP64";
            case "FLOAT16":
                return "FP16";
            case "BFLOAT16":
                return "BF16";
            case "STRING":
                return "BYTES";
            default:
                return n; // BOOL, INT8..INT64, UINT8..UINT64 keep their names
        }
    }

    public String name() {
        return name;
    }

    public List<Meta> inputs() {
        return inputs;
    }

    public List<Meta> outputs() {
        return outputs;
    }

    /** Runs the model on wire tensors, returning the named outputs (all when empty) in model order. */
    public List<WireTensor> infer(List<WireTensor> in, List<String> wanted) throws OrtException {
        Map<String, OnnxTensor> feed = new LinkedHashMap<>();
        try {
            for (WireTensor t : in) {
                feed.put(t.name(), onnx(t));
            }
            try (OrtSession.Result result = session.run(feed)) {
                List<WireTensor> out = new ArrayList<>();
                for (Meta m : outputs) {
                    if (!wanted.isEmpty() && !wanted.contains(m.name())) {
                        continue;
                    }
                    OnnxValue v = result.get(m.name()).orElseThrow();
                    out.add(wire(m.name(), (OnnxTensor) v));
                }
                return out;
            }
        } finally {
            for (OnnxTensor t : feed.values()) {
                t.close();
            }
        }
    }

    /** The reference: the same inputs through ORT in-process, as Nearline tensors. */
    public Tensors runDirect(Tensors record) throws OrtException {
        List<WireTensor> in = new ArrayList<>();
        for (Meta m : inputs) {
            Tensor t = record.require(m.name());
            ByteBuffer b = ByteBuffer.allocate((int) t.byteSize());
            t.writeLittleEndian(b);
            in.add(new WireTensor(m.name(), t.type().name(), t.shape(), b.array()));
        }
        Tensors.Builder out = Tensors.builder();
        for (WireTensor w : infer(in, List.of())) {
            out.add(w.name(), Tensor.fromLittleEndian(DataType.fromName(w.datatype()), ByteBuffer.wrap(w.data()), w.shape()));
        }
        return out.build();
    }

    private static OnnxTensor onnx(WireTensor t) throws OrtException {
        ByteBuffer le = ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN);
        long[] shape = t.shape();
        switch (t.datatype()) {
            case "FP32":
                return OnnxTensor.createTensor(ENV, le.asFloatBuffer(), shape);
            case "FP64":
                return OnnxTensor.createTensor(ENV, le.asDoubleBuffer(), shape);
            case "INT64":
                return OnnxTensor.createTensor(ENV, le.asLongBuffer(), shape);
            case "INT32":
                return OnnxTensor.createTensor(ENV, le.asIntBuffer(), shape);
            case "INT16":
                return OnnxTensor.createTensor(ENV, le.asShortBuffer(), shape);
            case "FP16":
                return OnnxTensor.createTensor(ENV, le.asShortBuffer(), shape, OnnxJavaType.FLOAT16);
            case "BF16":
                return OnnxTensor.createTensor(ENV, le.asShortBuffer(), shape, OnnxJavaType.BFLOAT16);
            case "INT8":
                return OnnxTensor.createTensor(ENV, le, shape);
            case "UINT8":
                return OnnxTensor.createTensor(ENV, le, shape, OnnxJavaType.UINT8);
            case "BOOL":
                return OnnxTensor.createTensor(ENV, le, shape, OnnxJavaType.BOOL);
            case "BYTES": {
                List<String> strings = new ArrayList<>();
                while (le.hasRemaining()) {
                    byte[] s = new byte[le.getInt()];
                    le.get(s);
                    strings.add(new String(s, StandardCharsets.UTF_8));
                }
                return OnnxTensor.createTensor(ENV, strings.toArray(new String[0]), shape);
            }
            default:
                throw new IllegalArgumentException("unsupported datatype " + t.datatype());
        }
    }

    private static WireTensor wire(String name, OnnxTensor t) throws OrtException {
        TensorInfo info = t.getInfo();
        String datatype = datatype(info.onnxType);
        long[] shape = info.getShape();
        if (datatype.equals("BYTES")) {
            List<String> flat = new ArrayList<>();
            flatten(t.getValue(), flat);
            int size = 0;
            List<byte[]> utf8 = new ArrayList<>();
            for (String s : flat) {
                byte[] b = s.getBytes(StandardCharsets.UTF_8);
                utf8.add(b);
                size += 4 + b.length;
            }
            ByteBuffer out = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
            for (byte[] b : utf8) {
                out.putInt(b.length).put(b);
            }
            return new WireTensor(name, datatype, shape, out.array());
        }
        ByteBuffer nativeOrder = t.getByteBuffer();
        byte[] bytes = new byte[nativeOrder.remaining()];
        nativeOrder.get(bytes);
        int width = DataType.fromName(datatype).byteSize();
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN && width > 1) {
            for (int i = 0; i < bytes.length; i += width) {
                for (int a = i, b = i + width - 1; a < b; a++, b--) {
                    byte x = bytes[a];
                    bytes[a] = bytes[b];
                    bytes[b] = x;
                }
            }
        }
        return new WireTensor(name, datatype, shape, bytes);
    }

    private static void flatten(Object value, List<String> out) {
        if (value instanceof String) {
            out.add((String) value);
        } else {
            for (int i = 0; i < Array.getLength(value); i++) {
                flatten(Array.get(value, i), out);
            }
        }
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
