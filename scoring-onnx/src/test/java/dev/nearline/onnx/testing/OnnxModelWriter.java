package dev.nearline.onnx.testing;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;

/**
 * Builds the bytes of a small ONNX model ({@code ModelProto}) from tensor declarations, float
 * initializers and nodes, using the field numbers of the public {@code onnx.proto}. Output is
 * deterministic: the same calls give the same bytes. Not thread-safe; use one instance per model.
 */
public final class OnnxModelWriter {
    /** ONNX {@code TensorProto.DataType} code of float32. */
    public static final int FLOAT = 1;
    /** ONNX code of uint8. */
    public static final int UINT8 = 2;
    /** ONNX code of int8. */
    public static final int INT8 = 3;
    /** ONNX code of uint16. */
    public static final int UINT16 = 4;
    /** ONNX code of int16. */
    public static final int INT16 = 5;
    /** ONNX code of int32. */
    public static final int INT32 = 6;
    /** ONNX code of int64. */
    public static final int INT64 = 7;
    /** ONNX code of string. */
    public static final int STRING = 8;
    /** ONNX code of bool. */
    public static final int BOOL = 9;
    /** ONNX code of float16. */
    public static final int FLOAT16 = 10;
    /** ONNX code of float64. */
    public static final int DOUBLE = 11;
    /** ONNX code of uint32. */
    public static final int UINT32 = 12;
    /** ONNX code of uint64. */
    public static final int UINT64 = 13;
    /** ONNX code of bfloat16. */
    public static final int BFLOAT16 = 16;

    // ModelProto
    private static final int MODEL_IR_VERSION = 1;
    private static final int MODEL_PRODUCER_NAME = 2;
    private static final int MODEL_PRODUCER_VERSION = 3;
    private static final int MODEL_GRAPH = 7;
    private static final int MODEL_OPSET_IMPORT = 8;
    // OperatorSetIdProto
    private static final int OPSET_DOMAIN = 1;
    private static final int OPSET_VERSION = 2;
    // GraphProto
    private static final int GRAPH_NODE = 1;
    private static final int GRAPH_NAME = 2;
    private static final int GRAPH_INITIALIZER = 5;
    private static final int GRAPH_INPUT = 11;
    private static final int GRAPH_OUTPUT = 12;
    // NodeProto
    private static final int NODE_INPUT = 1;
    private static final int NODE_OUTPUT = 2;
    private static final int NODE_NAME = 3;
    private static final int NODE_OP_TYPE = 4;
    private static final int NODE_ATTRIBUTE = 5;
    // AttributeProto
    private static final int ATTRIBUTE_NAME = 1;
    private static final int ATTRIBUTE_I = 3;
    private static final int ATTRIBUTE_TYPE = 20;
    private static final int ATTRIBUTE_TYPE_INT = 2;
    // TensorProto
    private static final int TENSOR_DIMS = 1;
    private static final int TENSOR_DATA_TYPE = 2;
    private static final int TENSOR_NAME = 8;
    private static final int TENSOR_RAW_DATA = 9;
    // ValueInfoProto, TypeProto, TypeProto.Tensor, TensorShapeProto, Dimension
    private static final int VALUE_INFO_NAME = 1;
    private static final int VALUE_INFO_TYPE = 2;
    private static final int TYPE_TENSOR = 1;
    private static final int TENSOR_TYPE_ELEM_TYPE = 1;
    private static final int TENSOR_TYPE_SHAPE = 2;
    private static final int SHAPE_DIM = 1;
    private static final int DIM_VALUE = 1;
    private static final int DIM_PARAM = 2;

    private final String graphName;
    private final ProtoWriter nodes = new ProtoWriter();
    private final ProtoWriter initializers = new ProtoWriter();
    private final ProtoWriter inputs = new ProtoWriter();
    private final ProtoWriter outputs = new ProtoWriter();
    private int nodeCount;

    /** A writer for a graph called {@code graphName}. */
    public OnnxModelWriter(String graphName) {
        this.graphName = graphName;
    }

    /** Declares a graph input; a dimension of -1 becomes a symbolic (dynamic) dimension. */
    public OnnxModelWriter input(String name, int elemType, long... dims) {
        inputs.message(GRAPH_INPUT, valueInfo(name, elemType, dims));
        return this;
    }

    /** Declares a graph output; a dimension of -1 becomes a symbolic (dynamic) dimension. */
    public OnnxModelWriter output(String name, int elemType, long... dims) {
        outputs.message(GRAPH_OUTPUT, valueInfo(name, elemType, dims));
        return this;
    }

    /** Adds a float32 initializer (a constant weight tensor) stored as little-endian raw data. */
    public OnnxModelWriter initializer(String name, float[] values, long... dims) {
        ByteBuffer raw = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        raw.asFloatBuffer().put(values);
        ProtoWriter t = new ProtoWriter();
        for (long d : dims) {
            t.int64(TENSOR_DIMS, d);
        }
        t.int64(TENSOR_DATA_TYPE, FLOAT).string(TENSOR_NAME, name).bytes(TENSOR_RAW_DATA, raw.array());
        initializers.message(GRAPH_INITIALIZER, t);
        return this;
    }

    /** Adds a node of the default ({@code ai.onnx}) domain. */
    public OnnxModelWriter node(String opType, String[] nodeInputs, String[] nodeOutputs) {
        nodes.message(GRAPH_NODE, nodeProto(opType, nodeInputs, nodeOutputs));
        return this;
    }

    /** Adds a node with one integer attribute, such as Cast's {@code to}. */
    public OnnxModelWriter node(String opType, String[] nodeInputs, String[] nodeOutputs,
            String attributeName, long attributeValue) {
        ProtoWriter attribute = new ProtoWriter()
                .string(ATTRIBUTE_NAME, attributeName)
                .int64(ATTRIBUTE_I, attributeValue)
                .int64(ATTRIBUTE_TYPE, ATTRIBUTE_TYPE_INT);
        nodes.message(GRAPH_NODE, nodeProto(opType, nodeInputs, nodeOutputs).message(NODE_ATTRIBUTE, attribute));
        return this;
    }

    /** The serialized {@code ModelProto} importing the default domain at {@code opset}. */
    public byte[] toByteArray(long irVersion, long opset, String producerName, String producerVersion) {
        byte[] graphBytes = concat(nodes.toByteArray(), new ProtoWriter().string(GRAPH_NAME, graphName).toByteArray(),
                initializers.toByteArray(), inputs.toByteArray(), outputs.toByteArray());
        ProtoWriter opsetId = new ProtoWriter().string(OPSET_DOMAIN, "").int64(OPSET_VERSION, opset);
        return new ProtoWriter()
                .int64(MODEL_IR_VERSION, irVersion)
                .string(MODEL_PRODUCER_NAME, producerName)
                .string(MODEL_PRODUCER_VERSION, producerVersion)
                .bytes(MODEL_GRAPH, graphBytes)
                .message(MODEL_OPSET_IMPORT, opsetId)
                .toByteArray();
    }

    private ProtoWriter nodeProto(String opType, String[] nodeInputs, String[] nodeOutputs) {
        ProtoWriter n = new ProtoWriter();
        for (String in : nodeInputs) {
            n.string(NODE_INPUT, in);
        }
        for (String out : nodeOutputs) {
            n.string(NODE_OUTPUT, out);
        }
        return n.string(NODE_NAME, opType.toLowerCase(Locale.ROOT) + "_" + nodeCount++)
                .string(NODE_OP_TYPE, opType);
    }

    private static ProtoWriter valueInfo(String name, int elemType, long[] dims) {
        ProtoWriter shape = new ProtoWriter();
        for (int i = 0; i < dims.length; i++) {
            ProtoWriter dim = new ProtoWriter();
            if (dims[i] < 0) {
                dim.string(DIM_PARAM, i == 0 ? "batch" : "dim" + i);
            } else {
                dim.int64(DIM_VALUE, dims[i]);
            }
            shape.message(SHAPE_DIM, dim);
        }
        ProtoWriter tensorType = new ProtoWriter().int64(TENSOR_TYPE_ELEM_TYPE, elemType).message(TENSOR_TYPE_SHAPE, shape);
        ProtoWriter type = new ProtoWriter().message(TYPE_TENSOR, tensorType);
        return new ProtoWriter().string(VALUE_INFO_NAME, name).message(VALUE_INFO_TYPE, type);
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
