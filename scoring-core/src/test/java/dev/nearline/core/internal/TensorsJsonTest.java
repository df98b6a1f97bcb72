package dev.nearline.core.internal;

import static dev.nearline.core.internal.JsonFixtures.invalidInput;
import static dev.nearline.core.internal.JsonFixtures.node;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nearline.api.DataType;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TensorsJsonTest {

    private static Tensors parse(String inputs) {
        return TensorsJson.parse(node("{\"inputs\": [" + inputs + "]}"));
    }

    private static String one(String datatype, String shape, String data) {
        return "{\"name\": \"t\", \"datatype\": \"" + datatype + "\", \"shape\": " + shape + ", \"data\": " + data + "}";
    }

    @Test
    void parse_everyDatatype_buildsTensorsInOrder() {
        Tensors t = parse(String.join(",",
                "{\"name\": \"f\", \"datatype\": \"FP32\", \"shape\": [1, 2], \"data\": [1.5, 2]}",
                "{\"name\": \"d\", \"datatype\": \"FP64\", \"shape\": [1], \"data\": [0.1]}",
                "{\"name\": \"h\", \"datatype\": \"FP16\", \"shape\": [1], \"data\": [1]}",
                "{\"name\": \"bf\", \"datatype\": \"BF16\", \"shape\": [1], \"data\": [-2]}",
                "{\"name\": \"l\", \"datatype\": \"INT64\", \"shape\": [2], \"data\": [9223372036854775807, -9223372036854775808]}",
                "{\"name\": \"i\", \"datatype\": \"INT32\", \"shape\": [1], \"data\": [-2147483648]}",
                "{\"name\": \"s16\", \"datatype\": \"INT16\", \"shape\": [1], \"data\": [32767]}",
                "{\"name\": \"i8\", \"datatype\": \"INT8\", \"shape\": [1], \"data\": [-128]}",
                "{\"name\": \"u8\", \"datatype\": \"UINT8\", \"shape\": [1], \"data\": [255]}",
                "{\"name\": \"b\", \"datatype\": \"BOOL\", \"shape\": [2], \"data\": [true, false]}",
                "{\"name\": \"s\", \"datatype\": \"BYTES\", \"shape\": [], \"data\": [\"é\"]}"));

        assertThat(t.names()).containsExactly("f", "d", "h", "bf", "l", "i", "s16", "i8", "u8", "b", "s");
        assertThat(t.require("f")).isEqualTo(Tensor.ofFloats(new float[] {1.5f, 2f}, 1, 2));
        assertThat(t.require("d").toDoubleArray()).containsExactly(0.1);
        assertThat(t.require("h").toShortArray()).containsExactly((short) 0x3C00);
        assertThat(t.require("bf").toShortArray()).containsExactly((short) 0xC000);
        assertThat(t.require("l").toLongArray()).containsExactly(Long.MAX_VALUE, Long.MIN_VALUE);
        assertThat(t.require("i").type()).isEqualTo(DataType.INT32);
        assertThat(t.require("i").toIntArray()).containsExactly(Integer.MIN_VALUE);
        assertThat(t.require("s16").toShortArray()).containsExactly((short) 32767);
        assertThat(t.require("i8").longAt(0)).isEqualTo(-128);
        assertThat(t.require("u8").longAt(0)).isEqualTo(255);
        assertThat(t.require("b").toBooleanArray()).containsExactly(true, false);
        assertThat(t.require("s").stringAt(0)).isEqualTo("é");
        assertThat(t.require("s").rank()).isZero();
    }

    @Test
    void parse_int64BeyondDoublePrecision_keptExactly() {
        Tensors t = parse(one("INT64", "[2]", "[9007199254740993, -9007199254740993]"));

        assertThat(t.get(0).toLongArray()).containsExactly(9007199254740993L, -9007199254740993L);
    }

    @Test
    void parse_integralFloatForIntegerType_accepted() {
        assertThat(parse(one("INT32", "[1]", "[3.0]")).get(0).toIntArray()).containsExactly(3);
    }

    @Test
    void parse_fromMapAndText_sameAsJsonNode() {
        String json = "{\"inputs\": [" + one("FP32", "[1]", "[2.5]") + "]}";
        Tensors expected = TensorsJson.parse(node(json));

        assertThat(TensorsJson.parse(json)).isEqualTo(expected);
        assertThat(TensorsJson.parse(Map.of("inputs", List.of(Map.of("name", "t", "datatype", "FP32",
                "shape", List.of(1), "data", List.of(2.5)))))).isEqualTo(expected);
    }

    @Test
    void parse_badRecords_failWithInvalidInputSayingWhat() {
        assertThat(invalidInput(() -> TensorsJson.parse(node("{}"))).getMessage()).contains("'inputs' array");
        assertThat(invalidInput(() -> TensorsJson.parse(node("[1]"))).getMessage()).contains("'inputs' array");
        assertThat(invalidInput(() -> parse("{\"datatype\": \"FP32\", \"shape\": [1], \"data\": [1]}")).getMessage())
                .contains("inputs[0]", "'name'");
        assertThat(invalidInput(() -> parse(one("FLOAT", "[1]", "[1]"))).getMessage()).contains("input 't'", "'FLOAT'");
        assertThat(invalidInput(() -> parse(one("FP32", "[1, 2]", "[1]"))).getMessage())
                .contains("input 't'", "[1, 2]", "needs 2 values, got 1");
        assertThat(invalidInput(() -> parse(one("FP32", "[-1]", "[]"))).getMessage()).contains("invalid dimension -1");
        assertThat(invalidInput(() -> parse(one("FP32", "[1.5]", "[1]"))).getMessage()).contains("invalid dimension 1.5");
        assertThat(invalidInput(() -> parse(one("FP32", "[\"1\"]", "[1]"))).getMessage()).contains("invalid dimension");
        assertThat(invalidInput(() -> parse(one("FP32", "[4, 4611686018427387904]", "[]"))).getMessage())
                .contains("input 't'");
        assertThat(invalidInput(() -> parse(one("FP32", "1", "[1]"))).getMessage()).contains("'shape' array");
        assertThat(invalidInput(() -> parse(one("FP32", "[1]", "[\"x\"]"))).getMessage())
                .contains("element 0 expects a number, got a string of 1 character");
        assertThat(invalidInput(() -> parse(one("BOOL", "[1]", "[1]"))).getMessage()).contains("true or false");
        assertThat(invalidInput(() -> parse(one("INT32", "[1]", "[1.5]"))).getMessage()).contains("expects an integer");
        assertThat(invalidInput(() -> parse(one("INT64", "[1]", "[1e30]"))).getMessage()).contains("expects an integer");
        assertThat(invalidInput(() -> parse(one("INT64", "[1]", "[9223372036854775808]"))).getMessage())
                .contains("expects an integer");
        assertThat(invalidInput(() -> parse(one("UINT8", "[1]", "[256]"))).getMessage()).contains("outside UINT8 [0, 255]");
        assertThat(invalidInput(() -> parse(one("INT8", "[1]", "[-129]"))).getMessage()).contains("outside INT8");
        // The engine reports any exception of a preprocessor as INVALID_INPUT with its message.
        assertThatThrownBy(() -> parse(one("FP32", "[1]", "[1]") + "," + one("FP32", "[1]", "[1]")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("duplicate tensor name 't'");
    }

    @Test
    void write_tensors_asKserveOutputs() {
        Map<String, Object> out = TensorsJson.write(Tensors.of(
                "p", Tensor.ofFloats(new float[] {0.5f}, 1, 1),
                "id", Tensor.ofInts(new int[] {7}, 1)));

        assertThat(out).containsOnlyKeys("outputs");
        List<?> list = (List<?>) out.get("outputs");
        assertThat(list).hasSize(2);
        Map<?, ?> p = (Map<?, ?>) list.get(0);
        assertThat(p.get("name")).isEqualTo("p");
        assertThat(p.get("datatype")).isEqualTo("FP32");
        assertThat((long[]) p.get("shape")).containsExactly(1, 1);
        assertThat((float[]) p.get("data")).containsExactly(0.5f);
        assertThat((long[]) ((Map<?, ?>) list.get(1)).get("data")).containsExactly(7);
    }
}
