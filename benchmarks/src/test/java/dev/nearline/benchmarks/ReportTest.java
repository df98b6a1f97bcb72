package dev.nearline.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {

    private static String sample(String method, String model, double p50, double p99) {
        return "{\"benchmark\":\"dev.nearline.benchmarks.OverheadBenchmark." + method + "\",\"mode\":\"sample\","
                + "\"threads\":1,\"params\":{\"model\":\"" + model + "\"},\"primaryMetric\":{\"score\":" + p50
                + ",\"scoreError\":0.1,\"scoreUnit\":\"us/op\",\"scorePercentiles\":{\"50.0\":" + p50
                + ",\"99.0\":" + p99 + "}},\"secondaryMetrics\":{}}";
    }

    private static String avg(String method, String model, double score, double bytes) {
        return "{\"benchmark\":\"dev.nearline.benchmarks.OverheadBenchmark." + method + "\",\"mode\":\"avgt\","
                + "\"threads\":1,\"params\":{\"model\":\"" + model + "\"},\"primaryMetric\":{\"score\":" + score
                + ",\"scoreError\":0.1,\"scoreUnit\":\"us/op\"},\"secondaryMetrics\":{\"gc.alloc.rate.norm\":"
                + "{\"score\":" + bytes + ",\"scoreUnit\":\"B/op\"}}}";
    }

    private static List<Report.Result> results(String... json) throws IOException {
        return Report.read(new ObjectMapper().readTree("[" + String.join(",", json) + "]"));
    }

    @Test
    void render_overheadResults_printsRatiosAndGoals() throws IOException {
        List<Report.Result> rs = results(
                sample("rawOrtPinned", "tiny", 2.0, 4.0), sample("rawOrt", "tiny", 5.0, 9.0),
                sample("nearline", "tiny", 2.2, 8.0), sample("djl", "tiny", 6.6, 12.0),
                avg("nearline", "tiny", 2.3, 776));

        String md = Report.render(rs, List.of(), null);

        assertThat(md).contains("| tiny | nearline | 2.20 | 8.00 | 2.30 ± 0.10 | 776 |")
                .contains("| tiny | 1.10× | 0.44× | 3.00× | 2.00× |")
                .contains("| tiny: nearline p50 ≤ 1.3 × rawOrtPinned | 1.10× | met |")
                .contains("| tiny: nearline p99 ≤ 1.5 × rawOrtPinned p99 | 2.00× | **missed** |")
                .contains("| tiny: nearline allocates ≤ 600 B/record | 776 B | **missed** |")
                .contains("| mlp: nearline p50 ≤ 1.05 × rawOrtPinned | – | not measured |");
    }

    @Test
    void render_coldStartLines_printsMedians() {
        List<String> lines = List.of(
                "coldstart mode=nearline model=tiny natives=cache start=launch main_ms=40 model_ms=90 loaded_ms=95 "
                        + "first_score_ms=99 second_score_us=300.0",
                "coldstart mode=nearline model=tiny natives=cache start=launch main_ms=50 model_ms=95 loaded_ms=110 "
                        + "first_score_ms=120 second_score_us=500.0",
                "coldstart mode=nearline model=tiny natives=cache start=launch main_ms=45 model_ms=92 loaded_ms=100 "
                        + "first_score_ms=104 second_score_us=400.0",
                "some other output");

        String md = Report.render(List.of(), lines, null);

        assertThat(md).contains("| nearline | tiny | cached | no | 3 | 45.0 | 92.0 | 100 | 104 | 400 |")
                .contains("| tiny: first score ≤ 100 ms after JVM start (native cache) | 104 ms | **missed** |");
    }

    @Test
    void updateReadme_withMarkers_replacesOnlyTheBlock(@TempDir Path dir) throws IOException {
        Path readme = dir.resolve("README.md");
        Files.writeString(readme, "intro\n" + Report.BEGIN + "\nold\n" + Report.END + "\noutro\n");

        Report.updateReadme(readme, "new table\n");

        assertThat(Files.readString(readme, StandardCharsets.UTF_8))
                .isEqualTo("intro\n" + Report.BEGIN + "\nnew table\n" + Report.END + "\noutro\n");
    }
}
