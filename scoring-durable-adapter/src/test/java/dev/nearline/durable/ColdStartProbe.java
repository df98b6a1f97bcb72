package dev.nearline.durable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.microsoft.azure.functions.HttpResponseMessage;
import dev.nearline.durable.internal.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Measures the cold start of the Functions entry point in fresh JVMs: what the first HTTP request to a
 * new worker process pays before it gets its answer. Each child JVM writes the tiny ONNX model and its
 * pipeline file first (a deployed app has them on disk), then times:
 *
 * <ol>
 *   <li>{@code jvm}: JVM start to {@code main} (from the runtime MXBean's start time);
 *   <li>{@code classes}: loading and initialising the entry point: {@link NearlineFunctions}, the HTTP
 *       function, Jackson, the Functions and core classes it touches;
 *   <li>{@code load}: building the scorer from the pipeline file (plugin discovery, ONNX Runtime's native
 *       library, the model session);
 *   <li>{@code first}: the first record through {@link HttpScoring#score}, request to response;
 *   <li>{@code warm}: the median of the next 2,000 records, for comparison.
 * </ol>
 *
 * The parent runs {@code runs} children with the JVM's default flags and {@code runs} with the flags the
 * Functions Java worker starts the JVM with ({@code -XX:TieredStopAtLevel=1 -noverify}), and prints the
 * medians as a Markdown table. The Functions host itself (process start, worker handshake, function
 * indexing) cannot run here and is not included.
 *
 * <pre>
 * mvn -B -o -q -pl scoring-durable-adapter test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=target/test.classpath -Dmdep.includeScope=test
 * cd scoring-durable-adapter
 * CLASSPATH=target/test-classes:target/classes:$(cat target/test.classpath) java dev.nearline.durable.ColdStartProbe 10
 * </pre>
 *
 * (The class path goes in {@code CLASSPATH}, not {@code -cp}: ONNX Runtime 1.29.0 crashes while
 * initialising when the process command line is longer than about 4 KB.)
 */
public final class ColdStartProbe {
    private static final String[] PHASES = {"jvm", "classes", "load", "first", "warm"};

    private ColdStartProbe() {
    }

    /** {@code ColdStartProbe [runs]} measures; {@code ColdStartProbe --child <dir>} is one measured JVM. */
    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("--child")) {
            System.out.println(measureHere(Path.of(args[1])));
            return;
        }
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        List<String> worker = List.of("-XX:+TieredCompilation", "-XX:TieredStopAtLevel=1", "-noverify");
        System.out.println("| JVM flags | jvm start → main | entry-point classes | pipeline load | first record | "
                + "cold total | warm record (median) |");
        System.out.println("|---|---|---|---|---|---|---|");
        double[][][] samples = new double[2][PHASES.length][runs];
        for (int r = 0; r < runs; r++) {
            // alternate the two configurations so that load from other processes hits both alike
            record(samples[0], r, child(List.of()));
            record(samples[1], r, child(worker));
        }
        row("JDK defaults", medians(samples[0]));
        row("Functions worker defaults (-XX:TieredStopAtLevel=1 -noverify)", medians(samples[1]));
        System.out.printf(Locale.ROOT, "%n%d fresh JVMs per row, medians; %s %s, %d cores%n", runs,
                System.getProperty("java.vm.name"), System.getProperty("java.version"), Runtime.getRuntime().availableProcessors());
    }

    private static void row(String flags, double[] medianMicros) {
        double total = medianMicros[0] + medianMicros[1] + medianMicros[2] + medianMicros[3];
        System.out.printf(Locale.ROOT, "| %s | %.0f ms | %.0f ms | %.0f ms | %.1f ms | %.0f ms | %.0f µs |%n", flags,
                medianMicros[0] / 1e3, medianMicros[1] / 1e3, medianMicros[2] / 1e3, medianMicros[3] / 1e3, total / 1e3,
                medianMicros[4]);
    }

    private static void record(double[][] samples, int run, JsonNode result) {
        for (int i = 0; i < PHASES.length; i++) {
            samples[i][run] = result.get(PHASES[i] + "Micros").asDouble();
        }
    }

    private static double[] medians(double[][] samples) {
        double[] medians = new double[samples.length];
        for (int i = 0; i < samples.length; i++) {
            double[] s = samples[i].clone();
            Arrays.sort(s);
            int n = s.length;
            medians[i] = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        }
        return medians;
    }

    /** Runs one measured child JVM with {@code flags}; returns its result line. */
    private static JsonNode child(List<String> flags) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("nearline-coldstart");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(flags);
        command.add("-Dcom.google.protobuf.use_unsafe_pre22_gencode=true");
        command.add(ColdStartProbe.class.getName());
        command.add("--child");
        command.add(dir.toString());
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD);
        // The class path goes in the environment: ONNX Runtime 1.29.0 crashes (SIGSEGV) while initialising
        // when the process command line is longer than about 4 KB, as a -cp of this module's jars is.
        builder.environment().put("CLASSPATH", System.getProperty("java.class.path"));
        Process p = builder.start();
        String last = null;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                last = line;
            }
        }
        if (p.waitFor() != 0 || last == null) {
            throw new IllegalStateException("child JVM failed (exit " + p.exitValue() + "): " + command);
        }
        return Json.parse(last);
    }

    private static String measureHere(Path dir) throws Exception {
        long mainAt = System.currentTimeMillis();
        long jvmMicros = (mainAt - ManagementFactory.getRuntimeMXBean().getStartTime()) * 1_000;
        Path pipeline = TestPipelines.tinyPipeline(dir);
        String body = TestPipelines.record(1).toString();
        Map<String, String> env = TestPipelines.env(pipeline, dir.resolve("payloads"));

        long t0 = System.nanoTime();
        NearlineFunctions functions = NearlineFunctions.builder(FunctionsSettings.fromEnvironment(env)).build();
        for (String name : new String[] {"dev.nearline.durable.HttpScoring", "dev.nearline.durable.internal.Json",
                "dev.nearline.durable.internal.Correlation", "com.microsoft.azure.functions.HttpStatus",
                "dev.nearline.core.Pipeline", "dev.nearline.core.PluginRegistry"}) {
            Class.forName(name, true, ColdStartProbe.class.getClassLoader());
        }
        long t1 = System.nanoTime();
        functions.warmUp();
        long t2 = System.nanoTime();
        HttpResponseMessage first = functions.http().score(FakeHttpRequest.post("/api/score", body), new RecordingContext("cold"));
        long t3 = System.nanoTime();
        if (first.getStatusCode() != 200) {
            throw new IllegalStateException("first request failed: " + first.getBody());
        }
        long[] warm = new long[2_000];
        RecordingContext context = new RecordingContext("warm");
        for (int i = 0; i < warm.length; i++) {
            FakeHttpRequest request = FakeHttpRequest.post("/api/score", TestPipelines.record(i).toString());
            long s = System.nanoTime();
            functions.http().score(request, context);
            warm[i] = System.nanoTime() - s;
        }
        Arrays.sort(warm);
        functions.close();
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("jvmMicros", jvmMicros);
        out.put("classesMicros", (t1 - t0) / 1_000);
        out.put("loadMicros", (t2 - t1) / 1_000);
        out.put("firstMicros", (t3 - t2) / 1_000);
        out.put("warmMicros", warm[warm.length / 2] / 1_000.0);
        return out.toString();
    }
}
