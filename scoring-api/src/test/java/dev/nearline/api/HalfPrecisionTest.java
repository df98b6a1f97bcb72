package dev.nearline.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** FP16 and BF16 conversions against known bit patterns. */
class HalfPrecisionTest {

    @ParameterizedTest(name = "{0} <-> {1}")
    @CsvSource({
            "1.0, 0x3C00",
            "-2.0, 0xC000",
            "0.5, 0x3800",
            "65504.0, 0x7BFF", // largest finite half
            "5.9604645E-8, 0x0001", // smallest subnormal, 2^-24
            "6.097555E-5, 0x03FF", // largest subnormal
            "6.1035156E-5, 0x0400", // smallest normal, 2^-14
            "0.0, 0x0000",
            "-0.0, 0x8000",
            "Infinity, 0x7C00",
            "-Infinity, 0xFC00",
    })
    void float16_exactValues_roundTripBothWays(float value, String hex) {
        short bits = (short) Integer.parseInt(hex.substring(2), 16);

        assertThat(Tensor.floatToHalf(value)).isEqualTo(bits);
        assertThat(Float.floatToIntBits(Tensor.halfToFloat(bits))).isEqualTo(Float.floatToIntBits(value));
    }

    @Test
    void floatToHalf_nan_isQuietNaN() {
        short bits = Tensor.floatToHalf(Float.NaN);

        assertThat(bits & 0x7C00).isEqualTo(0x7C00);
        assertThat(bits & 0x03FF).isNotZero();
        assertThat(bits).isEqualTo((short) 0x7E00);
        assertThat(Tensor.halfToFloat(bits)).isNaN();
        assertThat(Tensor.halfToFloat((short) 0x7C01)).isNaN();
    }

    @Test
    void floatToHalf_halfwayBetweenTwoHalves_roundsToEven() {
        // 1 + 2^-11 lies halfway between 0x3C00 (even) and 0x3C01.
        assertThat(Tensor.floatToHalf(1f + 0x1p-11f)).isEqualTo((short) 0x3C00);
        // 1 + 3 * 2^-11 lies halfway between 0x3C01 and 0x3C02 (even).
        assertThat(Tensor.floatToHalf(1f + 3 * 0x1p-11f)).isEqualTo((short) 0x3C02);
        // Just above halfway rounds up.
        assertThat(Tensor.floatToHalf(1f + 0x1p-11f + 0x1p-20f)).isEqualTo((short) 0x3C01);
        // Just below halfway rounds down.
        assertThat(Tensor.floatToHalf(1f + 0x1p-11f - 0x1p-20f)).isEqualTo((short) 0x3C00);
    }

    @Test
    void floatToHalf_subnormalHalfway_roundsToEven() {
        assertThat(Tensor.floatToHalf(0x1p-25f)).isEqualTo((short) 0x0000); // halfway 0 and 1 -> 0
        assertThat(Tensor.floatToHalf(3 * 0x1p-25f)).isEqualTo((short) 0x0002); // halfway 1 and 2 -> 2
        assertThat(Tensor.floatToHalf(0x1p-25f + 0x1p-30f)).isEqualTo((short) 0x0001);
        assertThat(Tensor.floatToHalf(0x1p-26f)).isEqualTo((short) 0x0000);
        assertThat(Tensor.floatToHalf(-0x1p-24f)).isEqualTo((short) 0x8001);
    }

    @Test
    void floatToHalf_aboveLargestFinite_roundsToInfinityOrDown() {
        assertThat(Tensor.floatToHalf(65519f)).isEqualTo((short) 0x7BFF);
        assertThat(Tensor.floatToHalf(65520f)).isEqualTo((short) 0x7C00); // halfway to 2^16 -> even = inf
        assertThat(Tensor.floatToHalf(1e10f)).isEqualTo((short) 0x7C00);
        assertThat(Tensor.floatToHalf(-1e10f)).isEqualTo((short) 0xFC00);
    }

    @Test
    void halfToFloat_everyFiniteHalf_roundTripsExactly() {
        for (int h = 0; h <= 0xFFFF; h++) {
            short bits = (short) h;
            float f = Tensor.halfToFloat(bits);
            if (!Float.isNaN(f)) {
                assertThat(Tensor.floatToHalf(f)).as("0x%04X", h).isEqualTo(bits);
            }
        }
    }

    @ParameterizedTest(name = "{0} <-> {1}")
    @CsvSource({
            "1.0, 0x3F80",
            "-2.0, 0xC000",
            "0.0, 0x0000",
            "-0.0, 0x8000",
            "Infinity, 0x7F80",
            "-Infinity, 0xFF80",
            "9.18355E-41, 0x0001", // smallest bf16 subnormal, 2^-133
    })
    void bfloat16_exactValues_roundTripBothWays(float value, String hex) {
        short bits = (short) Integer.parseInt(hex.substring(2), 16);

        assertThat(Tensor.floatToBfloat16(value)).isEqualTo(bits);
        assertThat(Float.floatToIntBits(Tensor.bfloat16ToFloat(bits))).isEqualTo(Float.floatToIntBits(value));
    }

    @Test
    void floatToBfloat16_nan_isQuietNaN() {
        assertThat(Tensor.floatToBfloat16(Float.NaN)).isEqualTo((short) 0x7FC0);
        // A signalling NaN whose payload sits in the low bits must stay a NaN, not become infinity.
        short bits = Tensor.floatToBfloat16(Float.intBitsToFloat(0x7F800001));
        assertThat(Tensor.bfloat16ToFloat(bits)).isNaN();
    }

    @Test
    void floatToBfloat16_halfway_roundsToEven() {
        assertThat(Tensor.floatToBfloat16(Float.intBitsToFloat(0x3F808000))).isEqualTo((short) 0x3F80);
        assertThat(Tensor.floatToBfloat16(Float.intBitsToFloat(0x3F818000))).isEqualTo((short) 0x3F82);
        assertThat(Tensor.floatToBfloat16(Float.intBitsToFloat(0x3F808001))).isEqualTo((short) 0x3F81);
        assertThat(Tensor.floatToBfloat16(Float.intBitsToFloat(0xBF808001))).isEqualTo((short) 0xBF81);
        assertThat(Tensor.floatToBfloat16(Float.MAX_VALUE)).isEqualTo((short) 0x7F80);
    }
}
