package dev.nearline.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Turns JMH JSON results ({@code -rf json}), {@link ColdStart} and {@link ColdStartPhases} output into the
 * markdown tables of {@code benchmarks/README.md}: per model and contender p50, p99, mean and bytes allocated
 * per record; the ratios the project's goals are stated in (nearline/rawOrtPinned, nearline/rawOrt,
 * djl/nearline); records/s per number of callers; batching on against off and {@code scoreAll} against its
 * hand-written floors ({@link BatchingBenchmark}); cold-start medians and their ratios to raw ONNX Runtime;
 * the cold-start phases; and every goal marked met or missed.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.nearline.benchmarks.Report [--title TEXT]
 *     [--machine machine.txt] [--coldstart coldstart.txt] [--phases phases.txt] [--readme benchmarks/README.md]
 *     [--charts DIR [--chart-link PREFIX]] [--merged all.json] [--merged-slim small.json] results.json...
 * </pre>
 *
 * <p>Prints the markdown; with {@code --readme} also replaces the part of that file between
 * {@code <!-- results:begin -->} and {@code <!-- results:end -->}; with {@code --charts} also draws the charts
 * ({@link Charts}) into that folder and links them from the markdown as {@code PREFIX/name.png}; with
 * {@code --merged} also writes the results of all the JSON files as one JMH-format JSON array, and with
 * {@code --merged-slim} the same without the raw samples ({@code rawData}, {@code rawDataHistogram}: megabytes
 * for sample-time results), small enough to commit.
 */
public final class Report {
    static final String BEGIN = "<!-- results:begin -->";
    static final String END = "<!-- results:end -->";
    private static final List<String> CONTENDERS = List.of("rawOrtPinned", "rawOrt", "nearline", "nearlineLambda", "nearlineObserved",
            "nearlineKeyed", "nearlineQuality", "nearlineChallenger", "djl");
    private static final List<String> MODELS = List.of("tiny", "mlp");

    private Report() {
    }

    /** One JMH result: a benchmark method in one mode with one set of parameters. */
    record Result(String benchmark, String method, String mode, int threads, Map<String, String> params,
                  double score, double error, String unit, Map<String, Double> percentiles, Double allocPerOp) {
        String param(String name) {
            return params.getOrDefault(name, "");
        }
    }

    public static void main(String[] args) throws IOException {
        List<Path> json = new ArrayList<>();
        Path coldStart = null;
        Path phases = null;
        Path charts = null;
        String chartLink = null;
        Path machine = null;
        Path readme = null;
        Path merged = null;
        Path mergedSlim = null;
        String title = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--merged" -> merged = Path.of(args[++i]);
                case "--merged-slim" -> mergedSlim = Path.of(args[++i]);
                case "--title" -> title = args[++i];
                case "--coldstart" -> coldStart = Path.of(args[++i]);
                case "--phases" -> phases = Path.of(args[++i]);
                case "--charts" -> charts = Path.of(args[++i]);
                case "--chart-link" -> chartLink = args[++i];
                case "--machine" -> machine = Path.of(args[++i]);
                case "--readme" -> readme = Path.of(args[++i]);
                default -> json.add(Path.of(args[i]));
            }
        }
        List<Result> results = new ArrayList<>();
        ObjectMapper mapper = new ObjectMapper();
        ArrayNode all = mapper.createArrayNode();
        for (Path p : json) {
            JsonNode root = mapper.readTree(p.toFile());
            all.addAll((ArrayNode) root);
            results.addAll(read(root));
        }
        if (merged != null) {
            mapper.writerWithDefaultPrettyPrinter().writeValue(merged.toFile(), all);
        }
        if (mergedSlim != null) {
            mapper.writerWithDefaultPrettyPrinter().writeValue(mergedSlim.toFile(), withoutRawData(all.deepCopy()));
        }
        List<Map<String, String>> cold = lines(coldStart, "coldstart ");
        List<Map<String, String>> phaseRuns = lines(phases, "phases ");
        List<String> chartFiles = charts == null ? List.of() : Charts.write(charts, results, cold, phaseRuns);
        String link = chartLink == null ? (charts == null ? "" : charts.toString()) : chartLink;
        String md = (title == null ? "" : title.strip() + "\n\n") + render(results, cold, phaseRuns,
                machine == null ? null : Files.readString(machine, StandardCharsets.UTF_8),
                chartFiles.stream().map(f -> link.isEmpty() ? f : link + "/" + f).collect(Collectors.toList()));
        System.out.print(md);
        if (readme != null) {
            updateReadme(readme, md);
            System.out.println("updated " + readme);
        }
    }

    /** Parses the results of a JMH JSON result file. */
    static List<Result> read(JsonNode root) {
        List<Result> out = new ArrayList<>();
        for (JsonNode r : root) {
            String fqn = r.path("benchmark").asText();
            int dot = fqn.lastIndexOf('.');
            String benchmark = fqn.substring(fqn.lastIndexOf('.', dot - 1) + 1, dot);
            Map<String, String> params = new TreeMap<>();
            for (Map.Entry<String, JsonNode> e : r.path("params").properties()) {
                params.put(e.getKey(), e.getValue().asText());
            }
            JsonNode primary = r.path("primaryMetric");
            Map<String, Double> percentiles = new TreeMap<>();
            for (Map.Entry<String, JsonNode> e : primary.path("scorePercentiles").properties()) {
                percentiles.put(e.getKey(), e.getValue().asDouble());
            }
            Double alloc = null;
            for (Map.Entry<String, JsonNode> e : r.path("secondaryMetrics").properties()) {
                // JMH before 1.33 prefixed profiler metrics with a middle dot.
                if (e.getKey().replaceFirst("^\\W+", "").equals("gc.alloc.rate.norm")) {
                    alloc = e.getValue().path("score").asDouble();
                }
            }
            out.add(new Result(benchmark, fqn.substring(dot + 1), r.path("mode").asText(), r.path("threads").asInt(),
                    params, primary.path("score").asDouble(), primary.path("scoreError").asDouble(Double.NaN),
                    primary.path("scoreUnit").asText(), percentiles, alloc));
        }
        return out;
    }

    /** The {@code key=value} pairs of each line of {@code file} that starts with {@code prefix}; none without a file. */
    static List<Map<String, String>> lines(Path file, String prefix) throws IOException {
        if (file == null) {
            return List.of();
        }
        return parse(Files.readAllLines(file, StandardCharsets.UTF_8), prefix);
    }

    static List<Map<String, String>> parse(List<String> lines, String prefix) {
        return lines.stream().filter(l -> l.startsWith(prefix)).map(Report::keyValues).collect(Collectors.toList());
    }

    static String render(List<Result> results, List<String> coldStartLines, String machine) {
        return render(results, parse(coldStartLines, "coldstart "), List.of(), machine, List.of());
    }

    static String render(List<Result> results, List<Map<String, String>> cold, List<Map<String, String>> phases,
                         String machine, List<String> charts) {
        StringBuilder md = new StringBuilder();
        if (machine != null && !machine.isBlank()) {
            md.append("Machine and load at measurement:\n\n```\n").append(machine.strip()).append("\n```\n\n");
        }
        if (!charts.isEmpty()) {
            md.append("Charts (drawn by `run.sh` from the tables below):\n\n");
            for (String c : charts) {
                String name = c.substring(c.lastIndexOf('/') + 1).replace(".png", "");
                md.append("![").append(name).append("](").append(c).append(")\n");
            }
            md.append('\n');
        }
        List<Result> overhead = select(results, r -> r.benchmark().equals("OverheadBenchmark"));
        if (!overhead.isEmpty()) {
            renderOverhead(md, overhead);
        }
        List<Result> concurrency = select(results, r -> r.benchmark().equals("ConcurrencyBenchmark"));
        if (!concurrency.isEmpty()) {
            renderConcurrency(md, concurrency);
        }
        List<Result> batching = select(results, r -> r.benchmark().equals("BatchingBenchmark"));
        if (!batching.isEmpty()) {
            renderBatching(md, batching);
        }
        if (!cold.isEmpty()) {
            renderColdStart(md, cold);
        }
        if (!phases.isEmpty()) {
            renderPhases(md, phases);
        }
        if (!overhead.isEmpty() || !cold.isEmpty() || !batching.isEmpty()) {
            renderGoals(md, overhead, cold, batching);
        }
        return md.toString();
    }

    private static void renderOverhead(StringBuilder md, List<Result> rs) {
        md.append("### OverheadBenchmark: one record per call, one caller\n\n");
        md.append("| model | method | p50 µs | p99 µs | mean µs | alloc B/record |\n");
        md.append("|---|---|---:|---:|---:|---:|\n");
        for (String model : MODELS) {
            for (String method : CONTENDERS) {
                Result sample = find(rs, model, method, "sample");
                Result avg = find(rs, model, method, "avgt");
                if (sample == null && avg == null) {
                    continue;
                }
                md.append("| ").append(model).append(" | ").append(method)
                        .append(" | ").append(sample == null ? "–" : us(sample.percentiles().get("50.0")))
                        .append(" | ").append(sample == null ? "–" : us(sample.percentiles().get("99.0")))
                        .append(" | ").append(avg == null ? "–"
                                : Double.isNaN(avg.error()) ? us(avg.score()) : us(avg.score()) + " ± " + us(avg.error()))
                        .append(" | ").append(bytes(alloc(avg, sample))).append(" |\n");
            }
        }
        md.append("\nRatios (p50 unless marked):\n\n");
        md.append("| model | nearline / rawOrtPinned | nearline / rawOrt | djl / nearline "
                + "| nearline / rawOrtPinned p99 |\n");
        md.append("|---|---:|---:|---:|---:|\n");
        for (String model : MODELS) {
            if (find(rs, model, "nearline", "sample") == null) {
                continue;
            }
            md.append("| ").append(model)
                    .append(" | ").append(ratio(p(rs, model, "nearline", "50.0"), p(rs, model, "rawOrtPinned", "50.0")))
                    .append(" | ").append(ratio(p(rs, model, "nearline", "50.0"), p(rs, model, "rawOrt", "50.0")))
                    .append(" | ").append(ratio(p(rs, model, "djl", "50.0"), p(rs, model, "nearline", "50.0")))
                    .append(" | ").append(ratio(p(rs, model, "nearline", "99.0"), p(rs, model, "rawOrtPinned", "99.0")))
                    .append(" |\n");
        }
        md.append('\n');
    }

    private static void renderConcurrency(StringBuilder md, List<Result> rs) {
        md.append("### ConcurrencyBenchmark: callers sharing one scorer\n\n");
        md.append("| model | style | batching | callers | records/s | p50 µs | p99 µs |\n");
        md.append("|---|---|---|---:|---:|---:|---:|\n");
        Map<String, List<Result>> groups = new TreeMap<>(Comparator.comparingInt(Report::modelOrder)
                .thenComparing(Comparator.naturalOrder()));
        for (Result r : rs) {
            groups.computeIfAbsent(r.param("model") + "|" + r.param("style") + "|" + r.param("batching") + "|"
                    + String.format(Locale.ROOT, "%03d", r.threads()), k -> new ArrayList<>()).add(r);
        }
        for (Map.Entry<String, List<Result>> g : groups.entrySet()) {
            String[] key = g.getKey().split("\\|", -1);
            Result thrpt = g.getValue().stream().filter(r -> r.mode().equals("thrpt")).findFirst().orElse(null);
            Result sample = g.getValue().stream().filter(r -> r.mode().equals("sample")).findFirst().orElse(null);
            md.append("| ").append(key[0]).append(" | ").append(key[1]).append(" | ").append(key[2])
                    .append(" | ").append(Integer.parseInt(key[3]))
                    .append(" | ").append(thrpt == null ? "–" : String.format(Locale.ROOT, "%,.0f", perSecond(thrpt)))
                    .append(" | ").append(sample == null ? "–" : us(sample.percentiles().get("50.0")))
                    .append(" | ").append(sample == null ? "–" : us(sample.percentiles().get("99.0")))
                    .append(" |\n");
        }
        md.append('\n');
    }

    private static void renderColdStart(StringBuilder md, List<Map<String, String>> runs) {
        md.append("### ColdStart: fresh JVM per run, medians, ms since JVM start\n\n");
        md.append("| mode | model | native libraries | AppCDS | runs | main entered | session created | scorer ready "
                + "| first score | second score µs |\n");
        md.append("|---|---|---|---|---:|---:|---:|---:|---:|---:|\n");
        Map<String, List<Map<String, String>>> groups = new LinkedHashMap<>();
        for (Map<String, String> r : runs) {
            groups.computeIfAbsent(r.get("mode") + "|" + r.get("model") + "|" + r.get("natives") + "|"
                    + r.getOrDefault("appcds", "no"), k -> new ArrayList<>()).add(r);
        }
        for (Map.Entry<String, List<Map<String, String>>> g : groups.entrySet()) {
            String[] key = g.getKey().split("\\|", -1);
            List<Map<String, String>> v = g.getValue();
            md.append("| ").append(key[0]).append(" | ").append(key[1]).append(" | ")
                    .append(key[2].equals("cache") ? "cached" : "from jar").append(" | ").append(key[3])
                    .append(" | ").append(v.size())
                    .append(" | ").append(fmt(median(v, "main_ms")))
                    .append(" | ").append(fmt(median(v, "model_ms")))
                    .append(" | ").append(fmt(median(v, "loaded_ms")))
                    .append(" | ").append(fmt(median(v, "first_score_ms")))
                    .append(" | ").append(fmt(median(v, "second_score_us")))
                    .append(" |\n");
        }
        md.append('\n');
        List<String[]> configs = coldConfigs(runs);
        if (!configs.isEmpty()) {
            md.append("Against raw ONNX Runtime in the same run and configuration (medians):\n\n");
            md.append("| model | native libraries | AppCDS | nearline / raw, first score | nearline / raw, second score "
                    + "| file / raw, first score |\n");
            md.append("|---|---|---|---:|---:|---:|\n");
            for (String[] c : configs) {
                md.append("| ").append(c[0]).append(" | ").append(c[1].equals("cache") ? "cached" : "from jar")
                        .append(" | ").append(c[2])
                        .append(" | ").append(ratio(coldMedian(runs, "nearline", c, "first_score_ms"),
                                coldMedian(runs, "raw", c, "first_score_ms")))
                        .append(" | ").append(ratio(coldMedian(runs, "nearline", c, "second_score_us"),
                                coldMedian(runs, "raw", c, "second_score_us")))
                        .append(" | ").append(ratio(coldMedian(runs, "file", c, "first_score_ms"),
                                coldMedian(runs, "raw", c, "first_score_ms")))
                        .append(" |\n");
            }
            md.append('\n');
        }
    }

    /** The configurations (model, natives, AppCDS) in which raw ONNX Runtime ran, in the order of the runs. */
    static List<String[]> coldConfigs(List<Map<String, String>> runs) {
        Map<String, String[]> configs = new LinkedHashMap<>();
        for (Map<String, String> r : runs) {
            if ("raw".equals(r.get("mode"))) {
                String[] c = {r.get("model"), r.get("natives"), r.getOrDefault("appcds", "no")};
                configs.putIfAbsent(String.join("|", c), c);
            }
        }
        return new ArrayList<>(configs.values());
    }

    /** The median of {@code key} over the runs of {@code mode} in configuration {@code c}; NaN when none. */
    static double coldMedian(List<Map<String, String>> runs, String mode, String[] c, String key) {
        List<Map<String, String>> v = runs.stream().filter(r -> mode.equals(r.get("mode")) && c[0].equals(r.get("model"))
                && c[1].equals(r.get("natives")) && c[2].equals(r.getOrDefault("appcds", "no")))
                .collect(Collectors.toList());
        return median(v, key);
    }

    /** Rows of the phases table: a label and the step of each preset that fills it. */
    static final List<String[]> PHASE_ROWS = List.of(
            new String[] {"JVM start → `main`", "main"},
            new String[] {"ONNX Runtime environment: native libraries (`env`, `runtime`)", "env", "runtime"},
            new String[] {"plugins: ServiceLoader scan (`registry`)", "registry"},
            new String[] {"a plain `ObjectMapper` reading the file (`jackson`, custom runs only)", "jackson"},
            new String[] {"session; for Nearline `OnnxModel`: options, session, signature, slot pool (`session`, `model`)",
                "session", "model"},
            new String[] {"pipeline file → scorer: settings, stages, model, engine (`load`)", "load"},
            new String[] {"engine: `Pipeline.builder(...).build(...)` (`pipeline`)", "pipeline"},
            new String[] {"first score", "rawscore", "score", "jsonscore"});
    private static final List<String> PHASE_MODES = List.of("raw", "nearline", "file");

    private static void renderPhases(StringBuilder md, List<Map<String, String>> runs) {
        Map<String, List<Map<String, String>>> byConfig = new LinkedHashMap<>();
        for (Map<String, String> r : runs) {
            byConfig.computeIfAbsent(r.get("natives") + "|" + r.getOrDefault("appcds", "no"), k -> new ArrayList<>()).add(r);
        }
        for (Map.Entry<String, List<Map<String, String>>> e : byConfig.entrySet()) {
            String[] c = e.getKey().split("\\|", -1);
            List<Map<String, String>> v = e.getValue();
            md.append("### ColdStartPhases: where the time to the first score goes (tiny, native libraries ")
                    .append(c[0].equals("cache") ? "cached" : "from the jar").append(", AppCDS ").append(c[1])
                    .append(")\n\n");
            md.append("Wall ms per step, medians of fresh JVMs; each step is charged only what the steps before it left "
                    + "to do.\n\n");
            md.append("| step |");
            StringBuilder rule = new StringBuilder("|---|");
            for (String mode : PHASE_MODES) {
                md.append(' ').append(mode).append(" (").append(ofMode(v, mode).size()).append(" runs) |");
                rule.append("---:|");
            }
            md.append('\n').append(rule).append('\n');
            for (String[] row : PHASE_ROWS) {
                md.append("| ").append(row[0]).append(" |");
                for (String mode : PHASE_MODES) {
                    md.append(' ').append(fmt(phase(v, mode, row))).append(" |");
                }
                md.append('\n');
            }
            md.append("| **JVM start → first score** |");
            for (String mode : PHASE_MODES) {
                md.append(" **").append(fmt(median(ofMode(v, mode), "first_score"))).append("** |");
            }
            md.append("\n| second score, µs |");
            for (String mode : PHASE_MODES) {
                md.append(' ').append(fmt(1000 * phase(v, mode, new String[] {"", "rawscore#2", "score#2", "jsonscore#2"})))
                        .append(" |");
            }
            md.append("\n\n");
        }
    }

    static List<Map<String, String>> ofMode(List<Map<String, String>> runs, String mode) {
        return runs.stream().filter(r -> mode.equals(r.get("mode"))).collect(Collectors.toList());
    }

    /** The median of the first of {@code row}'s steps (from index 1) that the runs of {@code mode} measured. */
    static double phase(List<Map<String, String>> runs, String mode, String[] row) {
        List<Map<String, String>> v = ofMode(runs, mode);
        for (int i = 1; i < row.length; i++) {
            double m = median(v, row[i]);
            if (!Double.isNaN(m)) {
                return m;
            }
        }
        return Double.NaN;
    }

    /** Batching on against off (records/s), and {@code scoreAll} per record against single calls and its floors. */
    private static void renderBatching(StringBuilder md, List<Result> rs) {
        md.append("### BatchingBenchmark: micro-batching on against off, records/s\n\n");
        md.append("| model | what | off | on | on / off |\n|---|---|---:|---:|---:|\n");
        for (String model : MODELS) {
            for (String[] m : BATCHING_ROWS) {
                double off = perSecond(rs, model, m[0], "off");
                double on = perSecond(rs, model, m[0], "on");
                if (!Double.isNaN(off) || !Double.isNaN(on)) {
                    md.append("| ").append(model).append(" | ").append(m[1]).append(" | ").append(count(off))
                            .append(" | ").append(count(on)).append(" | ").append(ratio(on, off)).append(" |\n");
                }
            }
        }
        md.append("\n### BatchingBenchmark: `scoreAll` of 32 records, ns per record (batching off)\n\n");
        md.append("| model | `score` | `scoreAll(32)` | score / scoreAll | raw ORT batch, new tensors "
                + "| raw ORT batch, reused tensors (floor) | scoreAll / floor |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|\n");
        for (String model : MODELS) {
            double single = nanosPerRecord(rs, model, "score1");
            double all = nanosPerRecord(rs, model, "scoreAll32");
            double raw = nanosPerRecord(rs, model, "rawOrtBatch32");
            double floor = nanosPerRecord(rs, model, "rawOrtPinnedBatch32");
            if (Double.isNaN(single) && Double.isNaN(all)) {
                continue;
            }
            md.append("| ").append(model).append(" | ").append(fmt(single)).append(" | ").append(fmt(all))
                    .append(" | ").append(ratio(single, all)).append(" | ").append(fmt(raw)).append(" | ")
                    .append(fmt(floor)).append(" | ").append(ratio(all, floor)).append(" |\n");
        }
        md.append('\n');
    }

    /** BatchingBenchmark's methods compared with batching on and off, and their labels. */
    static final List<String[]> BATCHING_ROWS = List.of(
            new String[] {"sync64", "64 threads calling `score`"},
            new String[] {"asyncWindow64", "1 thread, 64 `scoreAsync` in flight"});

    /** Records per second of a throughput result of {@code method} on {@code model}, with {@code batching} if given. */
    static double perSecond(List<Result> rs, String model, String method, String batching) {
        for (Result r : rs) {
            if (r.method().equals(method) && r.mode().equals("thrpt") && r.param("model").equals(model)
                    && (batching == null || r.param("batching").equals(batching))) {
                return perSecond(r);
            }
        }
        return Double.NaN;
    }

    /** Nanoseconds per record of {@code method} on {@code model} with batching off, from its throughput. */
    static double nanosPerRecord(List<Result> rs, String model, String method) {
        double s = perSecond(rs, model, method, "off");
        if (Double.isNaN(s)) {
            s = perSecond(rs, model, method, null);
        }
        return Double.isNaN(s) || s <= 0 ? Double.NaN : 1e9 / s;
    }

    private static void renderGoals(StringBuilder md, List<Result> rs, List<Map<String, String>> cold,
                                    List<Result> batching) {
        md.append("### Goals\n\n| goal | measured | met |\n|---|---:|---|\n");
        goal(md, "tiny: nearline p50 ≤ 1.1 × rawOrtPinned",
                p(rs, "tiny", "nearline", "50.0") / p(rs, "tiny", "rawOrtPinned", "50.0"), 1.1, true, "×");
        goal(md, "mlp: nearline p50 ≤ 1.05 × rawOrtPinned",
                p(rs, "mlp", "nearline", "50.0") / p(rs, "mlp", "rawOrtPinned", "50.0"), 1.05, true, "×");
        goal(md, "tiny: djl p50 ≥ 2.5 × nearline",
                p(rs, "tiny", "djl", "50.0") / p(rs, "tiny", "nearline", "50.0"), 2.5, false, "×");
        goal(md, "tiny: nearline p99 ≤ 1.5 × rawOrtPinned p99",
                p(rs, "tiny", "nearline", "99.0") / p(rs, "tiny", "rawOrtPinned", "99.0"), 1.5, true, "×");
        if (find(rs, "tiny", "nearlineObserved", "avgt") != null) {
            // The observed pipeline's stages are lambdas: its "off" is nearlineLambda (older results: nearline).
            String plain = find(rs, "tiny", "nearlineLambda", "avgt") != null ? "nearlineLambda" : "nearline";
            goal(md, "tiny: metrics + drift monitoring on ≤ 1.05 × off (" + plain + ", mean)",
                    find(rs, "tiny", "nearlineObserved", "avgt").score / find(rs, "tiny", plain, "avgt").score,
                    1.05, true, "×");
        }
        // Tracking's "off" takes the same records with ids (nearlineKeyed); older results have only nearline.
        String off = find(rs, "tiny", "nearlineKeyed", "sample") != null ? "nearlineKeyed" : "nearline";
        if (find(rs, "tiny", "nearlineQuality", "sample") != null) {
            goal(md, "tiny: quality tracking on (ids kept, no labels) p50 ≤ 1.05 × off (" + off + ")",
                    p(rs, "tiny", "nearlineQuality", "50.0") / p(rs, "tiny", off, "50.0"), 1.05, true, "×");
        }
        if (find(rs, "tiny", "nearlineChallenger", "sample") != null) {
            goal(md, "tiny: challenger on a 10% sample p50 ≤ 1.10 × off (" + off + ")",
                    p(rs, "tiny", "nearlineChallenger", "50.0") / p(rs, "tiny", off, "50.0"), 1.10, true, "×");
        }
        Result avg = find(rs, "tiny", "nearline", "avgt");
        Double alloc = alloc(avg, find(rs, "tiny", "nearline", "sample"));
        if (avg != null || find(rs, "tiny", "nearline", "sample") != null) {
            goal(md, "tiny: nearline allocates ≤ 450 B/record", alloc == null ? Double.NaN : alloc, 450, true, " B");
        }
        if (!batching.isEmpty()) {
            goal(md, "tiny: 64 `scoreAsync` in flight, batching on ≥ 2 × off", perSecond(batching, "tiny", "asyncWindow64", "on")
                    / perSecond(batching, "tiny", "asyncWindow64", "off"), 2, false, "×");
            goal(md, "mlp: 64 `scoreAsync` in flight, batching on ≥ 2.5 × off", perSecond(batching, "mlp", "asyncWindow64", "on")
                    / perSecond(batching, "mlp", "asyncWindow64", "off"), 2.5, false, "×");
            goal(md, "tiny: 64 threads calling `score`, batching on ≥ 1.0 × off", perSecond(batching, "tiny", "sync64", "on")
                    / perSecond(batching, "tiny", "sync64", "off"), 1.0, false, "×");
            goal(md, "mlp: 64 threads calling `score`, batching on ≥ 1.5 × off", perSecond(batching, "mlp", "sync64", "on")
                    / perSecond(batching, "mlp", "sync64", "off"), 1.5, false, "×");
            goal(md, "tiny: `scoreAll(32)` ≥ 22 × faster per record than `score`",
                    nanosPerRecord(batching, "tiny", "score1") / nanosPerRecord(batching, "tiny", "scoreAll32"), 22, false, "×");
            goal(md, "tiny: `scoreAll(32)` ≥ 0.8 × as fast per record as `rawOrtPinnedBatch32`",
                    nanosPerRecord(batching, "tiny", "rawOrtPinnedBatch32")
                            / nanosPerRecord(batching, "tiny", "scoreAll32"), 0.8, false, "×");
            goal(md, "mlp: `scoreAll(32)` ≥ 0.95 × as fast per record as `rawOrtPinnedBatch32`",
                    nanosPerRecord(batching, "mlp", "rawOrtPinnedBatch32")
                            / nanosPerRecord(batching, "mlp", "scoreAll32"), 0.95, false, "×");
            goal(md, "mlp: `scoreAll(32)` ≥ 3.2 × faster per record than `score`",
                    nanosPerRecord(batching, "mlp", "score1") / nanosPerRecord(batching, "mlp", "scoreAll32"), 3.2, false, "×");
        }
        for (String[] c : coldConfigs(cold)) {
            String config = c[0] + ", natives " + (c[1].equals("cache") ? "cached" : "from jar")
                    + (c[2].equals("yes") ? " + AppCDS" : "");
            goal(md, config + ": nearline first score ≤ 1.05 × raw", coldMedian(cold, "nearline", c, "first_score_ms")
                    / coldMedian(cold, "raw", c, "first_score_ms"), 1.05, true, "×");
            goal(md, config + ": nearline second score ≤ 1.5 × raw", coldMedian(cold, "nearline", c, "second_score_us")
                    / coldMedian(cold, "raw", c, "second_score_us"), 1.5, true, "×");
        }
        for (String appCds : List.of("no", "yes")) {
            List<Map<String, String>> cached = cold.stream().filter(r -> "nearline".equals(r.get("mode"))
                    && "tiny".equals(r.get("model")) && "cache".equals(r.get("natives"))
                    && appCds.equals(r.getOrDefault("appcds", "no"))).collect(Collectors.toList());
            if (appCds.equals("no") || !cached.isEmpty()) {
                goal(md, "tiny: first score ≤ 100 ms after JVM start (native cache" + (appCds.equals("yes")
                        ? " + AppCDS)" : ")"), cached.isEmpty() ? Double.NaN : median(cached, "first_score_ms"), 100,
                        true, " ms");
            }
        }
        md.append('\n');
    }

    private static void goal(StringBuilder md, String name, double value, double limit, boolean atMost, String unit) {
        String met = Double.isNaN(value) ? "not measured" : (atMost ? value <= limit : value >= limit) ? "met" : "**missed**";
        md.append("| ").append(name).append(" | ")
                .append(Double.isNaN(value) ? "–" : (unit.equals("×") ? String.format(Locale.ROOT, "%.2f×", value)
                        : fmt(value) + unit))
                .append(" | ").append(met).append(" |\n");
    }

    /** {@code results} with the raw samples of every metric removed. */
    static ArrayNode withoutRawData(ArrayNode results) {
        for (JsonNode r : results) {
            stripRaw(r.path("primaryMetric"));
            for (JsonNode metric : r.path("secondaryMetrics")) {
                stripRaw(metric);
            }
        }
        return results;
    }

    private static void stripRaw(JsonNode metric) {
        if (metric instanceof ObjectNode) {
            ((ObjectNode) metric).remove(List.of("rawData", "rawDataHistogram"));
        }
    }

    /** Replaces the marked block of {@code readme} with {@code md}, or appends it with markers. */
    static void updateReadme(Path readme, String md) throws IOException {
        String text = Files.exists(readme) ? Files.readString(readme, StandardCharsets.UTF_8) : "";
        String block = BEGIN + "\n" + md.strip() + "\n" + END;
        int b = text.indexOf(BEGIN);
        int e = text.indexOf(END);
        String updated = b >= 0 && e > b ? text.substring(0, b) + block + text.substring(e + END.length())
                : text + (text.endsWith("\n") || text.isEmpty() ? "" : "\n") + "\n" + block + "\n";
        Files.writeString(readme, updated, StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------------ helpers

    private static List<Result> select(List<Result> rs, Predicate<Result> p) {
        return rs.stream().filter(p).collect(Collectors.toList());
    }

    static Result find(List<Result> rs, String model, String method, String mode) {
        for (Result r : rs) {
            if (r.method().equals(method) && r.mode().equals(mode) && r.param("model").equals(model)) {
                return r;
            }
        }
        return null;
    }

    /** Percentile {@code pct} of the sample-mode result, in µs; NaN when absent. */
    static double p(List<Result> rs, String model, String method, String pct) {
        Result r = find(rs, model, method, "sample");
        if (r == null || !r.percentiles().containsKey(pct)) {
            return Double.NaN;
        }
        return toMicros(r.percentiles().get(pct), r.unit());
    }

    private static Double alloc(Result avg, Result sample) {
        return avg != null && avg.allocPerOp() != null ? avg.allocPerOp() : sample == null ? null : sample.allocPerOp();
    }

    static double perSecond(Result thrpt) {
        String unit = thrpt.unit();
        double s = thrpt.score();
        return unit.endsWith("/us") ? s * 1e6 : unit.endsWith("/ms") ? s * 1e3 : unit.endsWith("/ns") ? s * 1e9 : s;
    }

    private static double toMicros(double v, String unit) {
        return unit.startsWith("ns") ? v / 1e3 : unit.startsWith("ms") ? v * 1e3 : unit.startsWith("s/") ? v * 1e6 : v;
    }

    private static int modelOrder(String key) {
        int i = MODELS.indexOf(key.substring(0, key.indexOf('|')));
        return i < 0 ? MODELS.size() : i;
    }

    private static Map<String, String> keyValues(String line) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String part : line.trim().split("\\s+")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                m.put(part.substring(0, eq), part.substring(eq + 1));
            }
        }
        return m;
    }

    static double median(List<Map<String, String>> runs, String key) {
        double[] v = runs.stream().map(r -> r.get(key)).filter(Objects::nonNull).mapToDouble(Double::parseDouble)
                .sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static String ratio(double a, double b) {
        return Double.isNaN(a) || Double.isNaN(b) ? "–" : String.format(Locale.ROOT, "%.2f×", a / b);
    }

    private static String count(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%,.0f", v);
    }

    private static String us(Double v) {
        return v == null ? "–" : fmt(v);
    }

    private static String bytes(Double v) {
        return v == null ? "–" : String.format(Locale.ROOT, "%,.0f", v);
    }

    private static String fmt(double v) {
        if (Double.isNaN(v)) {
            return "–";
        }
        return String.format(Locale.ROOT, v < 10 ? "%.2f" : v < 100 ? "%.1f" : "%,.0f", v);
    }
}
