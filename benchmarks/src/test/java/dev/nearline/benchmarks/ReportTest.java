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

    private static String thrpt(String method, String model, String batching, double opsPerUs) {
        return "{\"benchmark\":\"dev.nearline.benchmarks.BatchingBenchmark." + method + "\",\"mode\":\"thrpt\","
                + "\"threads\":1,\"params\":{\"model\":\"" + model + "\",\"batching\":\"" + batching + "\"},"
                + "\"primaryMetric\":{\"score\":" + opsPerUs + ",\"scoreError\":0.01,\"scoreUnit\":\"ops/us\"},"
                + "\"secondaryMetrics\":{}}";
    }

    private static List<String> coldLines() {
        return List.of(
                "coldstart mode=nearline model=tiny natives=cache appcds=no start=launch main_ms=40 model_ms=90 "
                        + "loaded_ms=95 first_score_ms=105 second_score_us=90.0",
                "coldstart mode=raw model=tiny natives=cache appcds=no start=launch main_ms=40 model_ms=90 "
                        + "loaded_ms=90 first_score_ms=100 second_score_us=80.0",
                "coldstart mode=nearline model=tiny natives=cache appcds=yes start=launch main_ms=30 model_ms=80 "
                        + "loaded_ms=85 first_score_ms=90 second_score_us=200.0",
                "coldstart mode=raw model=tiny natives=cache appcds=yes start=launch main_ms=30 model_ms=80 "
                        + "loaded_ms=80 first_score_ms=88 second_score_us=100.0");
    }

    private static List<String> phaseLines() {
        return List.of(
                "phases mode=raw natives=cache appcds=no start=launch main=40 env=50.000 session=8.000 rawscore=4.000 "
                        + "rawscore#2=0.080 first_score=102.0",
                "phases mode=raw natives=cache appcds=no start=launch main=42 env=52.000 session=10.000 rawscore=6.000 "
                        + "rawscore#2=0.100 first_score=110.0",
                "phases mode=nearline natives=cache appcds=no start=launch main=41 runtime=51.000 model=12.000 "
                        + "pipeline=3.000 score=5.000 score#2=0.090 first_score=112.0",
                "phases mode=file natives=cache appcds=no start=launch main=41 runtime=51.000 registry=4.000 "
                        + "jackson=20.000 load=30.000 jsonscore=6.000 jsonscore#2=0.120 first_score=152.0");
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
                .contains("| tiny: nearline p50 ≤ 1.1 × rawOrtPinned | 1.10× | met |")
                .contains("| tiny: nearline p99 ≤ 1.5 × rawOrtPinned p99 | 2.00× | **missed** |")
                .contains("| tiny: nearline allocates ≤ 450 B/record | 776 B | **missed** |")
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
    void render_coldStartAgainstRaw_printsRatiosAndGoalsPerConfiguration() {
        String md = Report.render(List.of(), coldLines(), null);

        assertThat(md).contains("| tiny | cached | no | 1.05× | 1.13× | – |")
                .contains("| tiny | cached | yes | 1.02× | 2.00× | – |")
                .contains("| tiny, natives cached: nearline first score ≤ 1.05 × raw | 1.05× | met |")
                .contains("| tiny, natives cached + AppCDS: nearline second score ≤ 1.5 × raw | 2.00× | **missed** |");
    }

    @Test
    void render_phaseLines_printsMedianStepsPerPreset() {
        String md = Report.render(List.of(), List.of(), Report.parse(phaseLines(), "phases "), null, List.of());

        assertThat(md).contains("| step | raw (2 runs) | nearline (1 runs) | file (1 runs) |")
                .contains("| ONNX Runtime environment: native libraries (`env`, `runtime`) | 51.0 | 51.0 | 51.0 |")
                .contains("| a plain `ObjectMapper` reading the file (`jackson`, custom runs only) | – | – | 20.0 |")
                .contains("| first score | 5.00 | 5.00 | 6.00 |")
                .contains("| **JVM start → first score** | **106** | **112** | **152** |")
                .contains("| second score, µs | 90.0 | 90.0 | 120 |");
    }

    @Test
    void render_batchingResults_printsOnOffScoreAllAndGoals() throws IOException {
        List<Report.Result> rs = results(
                thrpt("asyncWindow64", "tiny", "off", 0.5), thrpt("asyncWindow64", "tiny", "on", 1.5),
                thrpt("score1", "tiny", "off", 0.5), thrpt("scoreAll32", "tiny", "off", 6.0),
                thrpt("rawOrtBatch32", "tiny", "off", 5.0), thrpt("rawOrtPinnedBatch32", "tiny", "off", 12.5));

        String md = Report.render(rs, List.of(), null);

        assertThat(md).contains("| tiny | 1 thread, 64 `scoreAsync` in flight | 500,000 | 1,500,000 | 3.00× |")
                .contains("| tiny | 2,000 | 167 | 12.00× | 200 | 80.0 | 2.08× |")
                .contains("| tiny: 64 `scoreAsync` in flight, batching on ≥ 2 × off | 3.00× | met |")
                .contains("| tiny: `scoreAll(32)` ≥ 22 × faster per record than `score` | 12.00× | **missed** |")
                .contains("| tiny: `scoreAll(32)` ≥ 0.8 × as fast per record as `rawOrtPinnedBatch32` | 0.48× | **missed** |")
                .contains("| mlp: `scoreAll(32)` ≥ 0.95 × as fast per record as `rawOrtPinnedBatch32` | – | not measured |");
    }

    @Test
    void charts_everyKindOfResult_writesOnePngPerChart(@TempDir Path dir) throws IOException {
        List<Report.Result> rs = results(
                sample("rawOrtPinned", "tiny", 2.0, 4.0), sample("nearline", "tiny", 2.2, 8.0),
                thrpt("sync64", "tiny", "off", 0.7), thrpt("sync64", "tiny", "on", 0.8),
                thrpt("score1", "tiny", "off", 0.5), thrpt("scoreAll32", "tiny", "off", 6.0));

        List<String> written = Charts.write(dir, rs, Report.parse(coldLines(), "coldstart "),
                Report.parse(phaseLines(), "phases "));

        assertThat(written).containsExactly("overhead.png", "batching.png", "scoreall.png", "coldstart.png");
        for (String name : written) {
            byte[] png = Files.readAllBytes(dir.resolve(name));
            assertThat(png).hasSizeGreaterThan(1000).startsWith(0x89, 'P', 'N', 'G');
        }
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
