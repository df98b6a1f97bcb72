package dev.nearline.examples.functions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nearline.api.Scorer;
import dev.nearline.core.Pipeline;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Functions guide's steps, as far as they run without the Functions host (which cannot be installed
 * here): the deployable folder that {@code mvn package} wrote, loaded the way the Java worker loads it (the
 * app jar and {@code lib/} on the class path) in a JVM of its own whose environment is the guide's
 * {@code local.settings.json.example}; the guide's {@code curl} calls made as function invocations by
 * {@code FunctionsHostStandIn}; the batch job started through {@code StartBatch}'s real durable client
 * against a gRPC stand-in of the Durable extension, then orchestrated to completion by the durable task
 * library's replay engine with {@code NearlineScoreChunk} as the activity, and its results read through
 * {@code BatchResults}. Every answer is checked against the packaged pipeline loaded here.
 *
 * <p>Not run: {@code ScoreQueue}, which the example disables locally (it needs a Service Bus namespace);
 * its body is tested in scoring-durable-adapter ({@code ServiceBusScoringTest}).
 */
class FunctionsGuideIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path MODULE = Path.of("").toAbsolutePath();
    /** The guide's "Call it" examples. */
    private static final String RECORD = "{\"amount\": 912.5, \"merchantCategory\": \"electronics\", \"foreign\": 1, \"cardPresent\": 0}";
    private static final String INVALID = "{\"amount\": \"twelve euros\"}";
    private static final String BATCH = "{\"records\": [{\"amount\": 12.5, \"merchantCategory\": \"grocery\"}, "
            + "{\"amount\": 2400, \"merchantCategory\": \"gambling\"}, {\"amount\": \"twelve\"}], \"chunkSize\": 2}";

    @TempDir
    static Path dir;
    private static Path staging;
    private static Map<String, JsonNode> steps;

    @BeforeAll
    static void runTheAppOutsideAHost() throws Exception {
        // Set by the integration-test execution, after package; -Dtest also runs this class in the test phase.
        assumeTrue(System.getProperty("functions.staging") != null, "runs after package (integration-test phase)");
        staging = Path.of(System.getProperty("functions.staging", "target/azure-functions/nearline-scoring")).toAbsolutePath();
        assertThat(staging.resolve("host.json")).as("deployable folder; run mvn package first").isRegularFile();

        // cp local.settings.json.example local.settings.json: its Values are the app settings
        JsonNode settings = JSON.readTree(MODULE.resolve("local.settings.json.example").toFile()).get("Values");
        Map<String, String> env = new HashMap<>();
        settings.properties().forEach(e -> env.put(e.getKey(), e.getValue().asText()));
        env.put("AzureWebJobsScriptRoot", staging.toString()); // the app folder, which the host sets
        env.put("HOME", Files.createDirectories(dir.resolve("home")).toString());
        env.put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin"));

        List<Path> classPath = new ArrayList<>();
        try (Stream<Path> jars = Files.list(staging)) {
            jars.filter(p -> p.toString().endsWith(".jar")).forEach(classPath::add);
        }
        try (Stream<Path> jars = Files.list(staging.resolve("lib"))) {
            jars.sorted().forEach(classPath::add);
        }
        // What the Java worker brings itself (the plugin leaves it out of lib/): the core library with
        // ExecutionContext and HttpRequestMessage. The stand-ins: this module's test classes,
        // scoring-durable-adapter's test jar, AssertJ (the replay driver's checks).
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (entry.contains("azure-functions-java-core-library")
                    || entry.contains("durable-functions") && entry.endsWith("test-classes")
                    || entry.contains("scoring-durable-adapter") && (entry.endsWith("test-classes") || entry.endsWith("-tests.jar"))
                    || entry.contains("assertj-core")) {
                classPath.add(Path.of(entry));
            }
        }
        Path record = Files.writeString(dir.resolve("record.json"), RECORD);
        Path invalid = Files.writeString(dir.resolve("invalid.json"), INVALID);
        Path batch = Files.writeString(dir.resolve("batch.json"), BATCH);
        Path log = MODULE.resolve("target/functions-host.log");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dcom.google.protobuf.use_unsafe_pre22_gencode=true",
                "-cp", classPathJar(classPath).toString(), "dev.nearline.durable.FunctionsHostStandIn",
                record.toString(), invalid.toString(), batch.toString()).redirectError(log.toFile());
        pb.environment().clear();
        pb.environment().putAll(env);
        Process host = pb.start();
        String out = new String(host.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(host.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(host.exitValue()).as("host stand-in; output %s; log %s", out, log).isZero();
        steps = new HashMap<>();
        for (String line : out.split("\n")) {
            if (line.startsWith("{")) {
                JsonNode step = JSON.readTree(line);
                steps.put(step.get("step").asText(), step);
            }
        }
    }

    /** The class path as a manifest-only jar: ONNX Runtime's native start-up crashes on a very long command line. */
    private static Path classPathJar(List<Path> entries) throws IOException {
        StringBuilder cp = new StringBuilder();
        entries.forEach(e -> cp.append(e.toUri()).append(' '));
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, cp.toString().trim());
        Path jar = dir.resolve("host-classpath.jar");
        try (JarOutputStream o = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            o.flush();
        }
        return jar;
    }

    private static double score(String record) throws IOException {
        try (Scorer<Object, Object> scorer = Pipeline.load(staging.resolve("pipeline/fraud-pipeline.json"))) {
            return ((Number) ((Map<?, ?>) scorer.score(JSON.readTree(record))).get("score")).doubleValue();
        }
    }

    @Test
    void score_theGuidesRecord_answersThePackagedPipelinesScore() throws Exception {
        assertThat(steps).containsKey("warmup");
        JsonNode step = steps.get("score");
        assertThat(step.get("status").asInt()).isEqualTo(200);
        JsonNode body = JSON.readTree(step.get("body").asText());
        assertThat(body.get("status").asText()).isEqualTo("OK");
        assertThat(body.at("/output/score").asDouble()).isEqualTo(score(RECORD));
        assertThat(body.at("/output/label").asText()).isEqualTo("review");
        assertThat(step.at("/headers/x-correlation-id").asText()).isEqualTo("order-77");
    }

    @Test
    void score_theGuidesInvalidRecord_answers400NamingTheField() throws Exception {
        JsonNode step = steps.get("score-invalid");
        assertThat(step.get("status").asInt()).isEqualTo(400);
        JsonNode body = JSON.readTree(step.get("body").asText());
        assertThat(body.at("/error/kind").asText()).isEqualTo("INVALID_INPUT");
        assertThat(body.at("/error/message").asText()).contains("'amount'");
    }

    @Test
    void batch_theGuidesJob_startsRunsToCompletionAndServesItsResults() throws Exception {
        JsonNode start = steps.get("start-batch");
        assertThat(start.get("status").asInt()).isEqualTo(202);
        JsonNode started = steps.get("orchestration-started").get("request");
        assertThat(started.get("name").asText()).isEqualTo("NearlineScoreBatch");
        String jobId = started.get("instanceId").asText();
        assertThat(start.at("/headers/Location").asText()).contains(jobId);
        assertThat(JSON.readTree(start.get("body").asText()).get("id").asText()).isEqualTo(jobId);

        JsonNode orchestration = steps.get("orchestration");
        assertThat(orchestration.get("status").asText()).isEqualTo("ORCHESTRATION_STATUS_COMPLETED");
        assertThat(orchestration.get("activityCalls").asInt()).as("chunkSize 2: two chunks").isEqualTo(2);
        JsonNode report = orchestration.get("output");
        assertThat(report.get("records").asInt()).isEqualTo(3);
        assertThat(report.get("succeeded").asInt()).isEqualTo(2);
        assertThat(report.get("failed").asInt()).isEqualTo(1);
        assertThat(report.at("/errors/0/index").asInt()).isEqualTo(2);
        assertThat(report.at("/errors/0/kind").asText()).isEqualTo("INVALID_INPUT");

        JsonNode results = steps.get("batch-results");
        assertThat(results.get("status").asInt()).isEqualTo(200);
        String[] lines = results.get("body").asText().strip().split("\n");
        assertThat(lines).hasSize(3);
        JsonNode[] records = JSON.readTree(BATCH).get("records").valueStream().toArray(JsonNode[]::new);
        for (int i = 0; i < 2; i++) {
            JsonNode line = JSON.readTree(lines[i]);
            assertThat(line.get("index").asInt()).isEqualTo(i);
            assertThat(line.at("/output/score").asDouble()).isEqualTo(score(records[i].toString()));
        }
        assertThat(JSON.readTree(lines[2]).at("/error/kind").asText()).isEqualTo("INVALID_INPUT");
    }
}
