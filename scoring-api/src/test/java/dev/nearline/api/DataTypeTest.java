package dev.nearline.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class DataTypeTest {

    @ParameterizedTest
    @EnumSource(DataType.class)
    void fromName_everyConstant_roundTrips(DataType type) {
        assertThat(DataType.fromName(type.name())).isSameAs(type);
    }

    @Test
    void fromName_unknown_failsListingNames() {
        assertThatThrownBy(() -> DataType.fromName("FLOAT"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'FLOAT'")
                .hasMessageContaining("FP32");
        assertThatThrownBy(() -> DataType.fromName("fp32")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void byteSize_matchesKserveWidths() {
        assertThat(DataType.BOOL.byteSize()).isEqualTo(1);
        assertThat(DataType.INT16.byteSize()).isEqualTo(2);
        assertThat(DataType.FP16.byteSize()).isEqualTo(2);
        assertThat(DataType.BF16.byteSize()).isEqualTo(2);
        assertThat(DataType.INT32.byteSize()).isEqualTo(4);
        assertThat(DataType.FP32.byteSize()).isEqualTo(4);
        assertThat(DataType.INT64.byteSize()).isEqualTo(8);
        assertThat(DataType.FP64.byteSize()).isEqualTo(8);
        assertThat(DataType.BYTES.byteSize()).isZero();
    }

    @Test
    void predicates_classifyTypes() {
        assertThat(DataType.FP16.isFloatingPoint()).isTrue();
        assertThat(DataType.BF16.isFloatingPoint()).isTrue();
        assertThat(DataType.INT64.isFloatingPoint()).isFalse();
        assertThat(DataType.UINT8.isNumeric()).isTrue();
        assertThat(DataType.BOOL.isNumeric()).isFalse();
        assertThat(DataType.BYTES.isNumeric()).isFalse();
    }
}
