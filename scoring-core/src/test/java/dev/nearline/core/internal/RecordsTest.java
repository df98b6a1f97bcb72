package dev.nearline.core.internal;

import static dev.nearline.core.internal.JsonFixtures.invalidInput;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The one-pass number scanner that replaced a backtracking regex. */
class RecordsTest {
    /** The pattern the scanner replaced; it backtracked quadratically on long digit runs. */
    private static final Pattern OLD = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?|[+-]?(NaN|Infinity)");
    private static final String ALPHABET = "0123456789.+-eEx NaIfity";

    private static boolean scanner(String s) {
        return Records.isNumber(s, 0, s.length());
    }

    @Test
    void isNumber_randomShortTexts_agreesWithTheOldPattern() {
        long seed = 20240611L;
        Random random = new Random(seed);
        for (int i = 0; i < 200_000; i++) {
            int n = random.nextInt(10);
            StringBuilder sb = new StringBuilder(n);
            for (int k = 0; k < n; k++) {
                sb.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
            }
            String s = sb.toString();

            assertThat(scanner(s)).as("seed %d, text \"%s\"", seed, s).isEqualTo(OLD.matcher(s).matches());
        }
    }

    @Test
    void isNumber_knownTexts() {
        for (String yes : new String[] {"0", "-1", "+1.", ".5", "1e5", "1E-5", "-1.25e+10", "NaN", "-Infinity", "+NaN"}) {
            assertThat(scanner(yes)).as(yes).isTrue();
        }
        for (String no : new String[] {"", ".", "-", "e5", "1e", "1e+", "0x10", "1f", "1d", "Inf", "nan", "1 2", "--1"}) {
            assertThat(scanner(no)).as(no).isFalse();
        }
    }

    @Test
    void isNumber_megabyteOfDigitsThenALetter_linear() {
        String digits = "9".repeat(1 << 20) + "x";

        boolean result = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> scanner(digits));

        assertThat(result).isFalse();
    }

    @Test
    void number_stringOverTheLengthLimit_refusedWithoutEchoingIt() {
        String message = invalidInput(() -> Records.number("amount", "1".repeat(RecordLimits.MAX_NUMBER_CHARS + 1), false))
                .getMessage();

        assertThat(message).isEqualTo("field 'amount' expects a number, got a string of 1001 characters (numbers have at"
                + " most 1000)");
        assertThat(Records.number("amount", " \t" + "0".repeat(990) + "1.5\n", false)).isEqualTo(1.5);
    }
}
