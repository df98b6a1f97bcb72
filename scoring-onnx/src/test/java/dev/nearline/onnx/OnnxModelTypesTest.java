package dev.nearline.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nearline.api.DataType;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.onnx.testing.OnnxModelWriter;
import dev.nearline.onnx.testing.SharedModels;
import dev.nearline.onnx.testing.TensorProtos;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Every data type in and out, exactly, on every input path (pooled, pinned, per call, zero-copy). */
@ExtendWith(ModelLeakCheck.class)
class OnnxModelTypesTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(DataType.class)
    void predict_identityModel_roundTripsEveryPath(DataType type) {
        Path file = dir.resolve(type + ".onnx");
        OnnxModelWriter w = new OnnxModelWriter("identity")
                .input("x", onnxCode(type), -1, 3)
                .output("y", onnxCode(type), -1, 3)
                .node("Identity", new String[] {"x"}, new String[] {"y"});
        write(file, w);
        try (OnnxModel model = OnnxModel.builder(file).intraOpThreads(1).build()) {
            assertThat(model.signature().inputs()).containsExactly(TensorSpec.of("x", type, -1, 3));
            assertThat(model.signature().outputs()).containsExactly(TensorSpec.of("y", type, -1, 3));

            Tensor one = sample(type, 1);
            // first call confirms output shapes, second writes into pinned outputs
            assertThat(model.predict(Tensors.of("x", one)).require("y")).isEqualTo(one);
            assertThat(model.predict(Tensors.of("x", one)).require("y")).isEqualTo(one);

            Tensor two = sample(type, 2);
            assertThat(model.predict(Tensors.of("x", two)).require("y")).isEqualTo(two);
            if (type != DataType.BYTES) {
                Tensor direct = onDirect(two, ByteOrder.nativeOrder());
                assertThat(model.predict(Tensors.of("x", direct)).require("y")).isEqualTo(two);
                Tensor swapped = onDirect(two, ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN
                        ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
                assertThat(model.predict(Tensors.of("x", swapped)).require("y")).isEqualTo(two);
            }
            assertThat(model.predictBatch(List.of(Tensors.of("x", one), Tensors.of("x", two))))
                    .extracting(t -> t.require("y")).containsExactly(one, two);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"bool", "double", "float16", "int16", "int32", "int64", "int8", "string", "uint8"})
    void predict_ortTypesModel_roundTrips(String typeName) {
        Path file = SharedModels.modelFile(SharedModels.folder("ort_types_" + typeName));
        try (OnnxModel model = OnnxModel.builder(file).intraOpThreads(1).build()) {
            TensorSpec in = model.signature().inputs().get(0);
            long[] shape = in.shape();
            assertThat(shape).isNotNull();
            Tensor x = sample(in.type(), shape);
            for (int call = 0; call < 3; call++) {
                Tensors out = model.predict(Tensors.of(in.name(), x));
                assertThat(out.size()).isEqualTo(1);
                assertThat(out.get(0)).isEqualTo(x);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"FLOAT16_to_FLOAT", "FLOAT_to_FLOAT16", "BFLOAT16_to_FLOAT", "FLOAT_to_BFLOAT16"})
    void predict_castModel_matchesReferenceBits(String cast) throws Exception {
        Path folder = SharedModels.folder("onnx_node_cast_" + cast);
        Tensor input = TensorProtos.readTensor(folder.resolve("test_data_set_0/input_0.pb")).tensor();
        Tensor expected = TensorProtos.readTensor(folder.resolve("test_data_set_0/output_0.pb")).tensor();
        try (OnnxModel model = OnnxModel.builder(SharedModels.modelFile(folder)).intraOpThreads(1).build()) {
            for (int call = 0; call < 2; call++) {
                Tensor actual = model.predict(Tensors.of("input", input)).require("output");
                assertThat(actual.type()).isEqualTo(expected.type());
                assertThat(actual).isEqualTo(expected);
            }
        }
    }

    @Test
    void predict_unsignedOutputs_widenToSignedTypes() {
        Path file = dir.resolve("unsigned.onnx");
        write(file, new OnnxModelWriter("unsigned")
                .input("x", OnnxModelWriter.FLOAT, 3)
                .output("u16", OnnxModelWriter.UINT16, 3)
                .output("u32", OnnxModelWriter.UINT32, 3)
                .output("u64", OnnxModelWriter.UINT64, 3)
                .node("Cast", new String[] {"x"}, new String[] {"u16"}, "to", OnnxModelWriter.UINT16)
                .node("Cast", new String[] {"x"}, new String[] {"u32"}, "to", OnnxModelWriter.UINT32)
                .node("Cast", new String[] {"x"}, new String[] {"u64"}, "to", OnnxModelWriter.UINT64));
        try (OnnxModel model = OnnxModel.builder(file).intraOpThreads(1).build()) {
            assertThat(model.signature().outputs()).containsExactly(TensorSpec.of("u16", DataType.INT32, 3),
                    TensorSpec.of("u32", DataType.INT64, 3), TensorSpec.of("u64", DataType.INT64, 3));

            Tensors out = model.predict(Tensors.of("x", Tensor.ofFloats(new float[] {0, 65535, 40000}, 3)));

            assertThat(out.require("u16").toLongArray()).containsExactly(0, 65535, 40000);
            assertThat(out.require("u32").toLongArray()).containsExactly(0, 65535, 40000);
            assertThat(out.require("u64").toLongArray()).containsExactly(0, 65535, 40000);
        }
    }

    @Test
    void predict_uint16Input_failsNamingTheType() {
        Path file = SharedModels.modelFile(SharedModels.folder("ort_types_uint16"));
        try (OnnxModel model = OnnxModel.builder(file).intraOpThreads(1).build()) {
            assertThat(model.signature().inputs()).hasSize(1);

            assertThatThrownBy(() -> model.predict(Tensors.of("input", Tensor.ofInts(new int[5], 1, 5))))
                    .isInstanceOfSatisfying(ScoringException.class,
                            e -> assertThat(e.kind()).isEqualTo(ScoringException.Kind.INVALID_INPUT))
                    .hasMessageContaining("input 'input' is uint16, which ONNX Runtime's Java API cannot create");
        }
    }

    // ---------------------------------------------------------------- helpers

    static void write(Path file, OnnxModelWriter w) {
        try {
            java.nio.file.Files.write(file, w.toByteArray(8, 13, "test", "1"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static int onnxCode(DataType type) {
        switch (type) {
            case BOOL:
                return OnnxModelWriter.BOOL;
            case UINT8:
                return OnnxModelWriter.UINT8;
            case INT8:
                return OnnxModelWriter.INT8;
            case INT16:
                return OnnxModelWriter.INT16;
            case INT32:
                return OnnxModelWriter.INT32;
            case INT64:
                return OnnxModelWriter.INT64;
            case FP16:
                return OnnxModelWriter.FLOAT16;
            case BF16:
                return OnnxModelWriter.BFLOAT16;
            case FP32:
                return OnnxModelWriter.FLOAT;
            case FP64:
                return OnnxModelWriter.DOUBLE;
            default:
                return OnnxModelWriter.STRING;
        }
    }

    /** {@code rows} rows of 3 values of {@code type}, including the type's extremes and special values. */
    static Tensor sample(DataType type, int rows) {
        return sample(type, new long[] {rows, 3});
    }

    static Tensor sample(DataType type, long[] shape) {
        int n = Tensor.elementCount(shape);
        switch (type) {
            case BOOL: {
                boolean[] v = new boolean[n];
                for (int i = 0; i < n; i++) {
                    v[i] = i % 3 != 1;
                }
                return Tensor.ofBooleans(v, shape);
            }
            case UINT8:
            case INT8: {
                byte[] v = new byte[n];
                byte[] special = {(byte) 0, (byte) 127, (byte) 128, (byte) 255, (byte) 1, (byte) 200};
                for (int i = 0; i < n; i++) {
                    v[i] = special[i % special.length];
                }
                return type == DataType.UINT8 ? Tensor.ofUint8(v, shape) : Tensor.ofInt8(v, shape);
            }
            case INT16: {
                short[] v = new short[n];
                short[] special = {Short.MIN_VALUE, -1, 0, Short.MAX_VALUE, 12345, -32000};
                for (int i = 0; i < n; i++) {
                    v[i] = special[i % special.length];
                }
                return Tensor.ofShorts(v, shape);
            }
            case FP16:
            case BF16: {
                short[] v = new short[n];
                short[] special = type == DataType.FP16
                        ? new short[] {Tensor.floatToHalf(1.5f), Tensor.floatToHalf(-2f), 0x7BFF, 0x0001, (short) 0xFC00, 0x7E00}
                        : new short[] {Tensor.floatToBfloat16(1.5f), Tensor.floatToBfloat16(-2f), 0x7F7F, 0x0001,
                            (short) 0xFF80, 0x7FC0};
                for (int i = 0; i < n; i++) {
                    v[i] = special[i % special.length];
                }
                return type == DataType.FP16 ? Tensor.ofFloat16(v, shape) : Tensor.ofBFloat16(v, shape);
            }
            case INT32: {
                int[] v = new int[n];
                int[] special = {Integer.MIN_VALUE, -1, 0, Integer.MAX_VALUE, 7, -123456};
                for (int i = 0; i < n; i++) {
                    v[i] = special[i % special.length];
                }
                return Tensor.ofInts(v, shape);
            }
            case INT64: {
                long[] v = new long[n];
                long[] special = {Long.MIN_VALUE, -1, 0, Long.MAX_VALUE, 1L << 40, -(1L << 50)};
                for (int i = 0; i < n; i++) {
                    v[i] = special[i % special.length];
                }
                return Tensor.ofLongs(v, shape);
            }
            case FP32: {
                float[] v = new float[n];
                float[] special = {1.5f, -0f, Float.MAX_VALUE, Float.MIN_VALUE, Float.NEGATIVE_INFINITY, Float.NaN};
                for (int i = 0; i < n; i++) {
                    v[i] = special[i % special.length];
                }
                return Tensor.ofFloats(v, shape);
            }
            case FP64: {
                double[] v = new double[n];
                double[] special = {1.5, -0.0, Double.MAX_VALUE, Double.MIN_VALUE, Double.POSITIVE_INFINITY, Math.PI};
                for (int i = 0; i < n; i++) {
                    v[i] = special[i % special.length];
                }
                return Tensor.ofDoubles(v, shape);
            }
            default: {
                String[] v = new String[n];
                String[] special = {"", "plain", "héllo wörld", "日本語", "tab\tand\nnewline", "emoji \uD83D\uDE00"};
                for (int i = 0; i < n; i++) {
                    v[i] = special[i % special.length];
                }
                return Tensor.ofStrings(v, shape);
            }
        }
    }

    /** The same values in a direct buffer of the given byte order. */
    static Tensor onDirect(Tensor t, ByteOrder order) {
        ByteBuffer bytes = ByteBuffer.allocateDirect(t.size() * t.type().byteSize()).order(order);
        Buffer typed;
        switch (t.type()) {
            case INT16:
            case FP16:
            case BF16:
                typed = bytes.asShortBuffer();
                break;
            case INT32:
                typed = bytes.asIntBuffer();
                break;
            case INT64:
                typed = bytes.asLongBuffer();
                break;
            case FP32:
                typed = bytes.asFloatBuffer();
                break;
            case FP64:
                typed = bytes.asDoubleBuffer();
                break;
            default:
                typed = bytes;
        }
        t.copyTo(typed, 0);
        Tensor direct = Tensor.of(t.type(), typed, t.shape());
        assertThat(direct.isDirect()).isTrue();
        return direct;
    }
}
