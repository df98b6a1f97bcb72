package dev.nearline.examples.quickstart;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuickStartTest {

    @Test
    void main_smallWorkload_printsFirstCallSteadyStateBatchAndClearErrors(@TempDir Path dir) throws Exception {
        PrintStream saved = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            System.setOut(out);
            QuickStart.main(new String[] {"500", dir.toString()});
        } finally {
            System.setOut(saved);
        }
        String printed = buf.toString(StandardCharsets.UTF_8);
        assertThat(printed)
                .contains("Scored 500 transactions one at a time")
                .contains("the first call is the fresh JVM's; the percentiles are steady state")
                .containsPattern("first call: +[0-9.]+ ms \\(pipeline loaded in [0-9]+ ms")
                .containsPattern("Scorer.score, per call: +p50 [0-9.]+ us, p99 [0-9.]+ us")
                .containsPattern("Scorer.scoreAll: +[0-9.]+ us per record \\(500 ok")
                .contains("INVALID_INPUT: field 'amount' expects a number, got a string of 12 characters")
                .contains("INVALID_INPUT: field 'amount' is missing and has no default")
                .contains("next record: {score=");
        assertThat(dir.resolve("fraud.onnx")).exists();
    }

    @Test
    void transactions_sameSeed_sameRecordsAndSomeSuspicious() {
        List<Map<String, Object>> a = QuickStart.transactions(1000, 7);
        assertThat(a).isEqualTo(QuickStart.transactions(1000, 7));
        long suspicious = a.stream().filter(t -> ((Number) t.get("amount")).doubleValue() >= 300).count();
        assertThat(suspicious).isBetween(5L, 100L);
    }
}
