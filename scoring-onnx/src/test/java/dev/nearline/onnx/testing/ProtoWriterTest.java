package dev.nearline.onnx.testing;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Wire-format encoding against hand-computed bytes from the protobuf encoding guide. */
class ProtoWriterTest {
    @Test
    void int64_encodesVarints() {
        assertThat(new ProtoWriter().int64(1, 150).toByteArray()).containsExactly(0x08, 0x96, 0x01);
        assertThat(new ProtoWriter().int64(2, 300).toByteArray()).containsExactly(0x10, 0xAC, 0x02);
        assertThat(new ProtoWriter().int64(1, -1).toByteArray())
                .containsExactly(0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01);
    }

    @Test
    void stringAndMessage_areLengthDelimited() {
        assertThat(new ProtoWriter().string(2, "testing").toByteArray())
                .containsExactly(0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g');
        ProtoWriter inner = new ProtoWriter().int64(1, 150);
        assertThat(new ProtoWriter().message(3, inner).toByteArray()).containsExactly(0x1A, 0x03, 0x08, 0x96, 0x01);
    }

    @Test
    void fixedWidth_isLittleEndian() {
        assertThat(new ProtoWriter().float32(1, 1.0f).toByteArray()).containsExactly(0x0D, 0x00, 0x00, 0x80, 0x3F);
        assertThat(new ProtoWriter().float64(1, 1.0).toByteArray())
                .containsExactly(0x09, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F);
    }
}
