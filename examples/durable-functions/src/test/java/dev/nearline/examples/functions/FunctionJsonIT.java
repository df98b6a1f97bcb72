package dev.nearline.examples.functions;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nearline.api.Scorer;
import dev.nearline.core.Pipeline;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Checks the deployable folder that {@code azure-functions-maven-plugin} wrote during {@code package}:
 * one {@code function.json} per function with the bindings the host reads, host.json, the libraries and
 * the pipeline. Runs in the {@code integration-test} phase, after packaging.
 */
class FunctionJsonIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path staging;
    private static Map<String, JsonNode> functions;

    @BeforeAll
    static void readFunctions() throws IOException {
        staging = Path.of(System.getProperty("functions.staging", "target/azure-functions/nearline-scoring"));
        assertThat(staging).as("deployable folder; run mvn package first").isDirectory();
        functions = new TreeMap<>();
        try (Stream<Path> dirs = Files.list(staging)) {
            for (Path dir : dirs.filter(d -> Files.isRegularFile(d.resolve("function.json"))).toList()) {
                functions.put(dir.getFileName().toString(), JSON.readTree(dir.resolve("function.json").toFile()));
            }
        }
    }

    private static JsonNode binding(String function, String type) {
        for (JsonNode b : functions.get(function).get("bindings")) {
            if (b.get("type").asText().equals(type)) {
                return b;
            }
        }
        throw new AssertionError(function + " has no " + type + " binding: " + functions.get(function));
    }

    private static List<String> types(String function) {
        List<String> types = new ArrayList<>();
        functions.get(function).get("bindings").forEach(b -> types.add(b.get("type").asText() + ":" + b.get("direction").asText()));
        return types;
    }

    @Test
    void package_generatesOneFunctionJsonPerAppFunctionAndNoneFromTheLibrary() {
        assertThat(functions.keySet()).containsExactly("BatchResults", "Feedback", "FeedbackQueue", "NearlineScoreBatch",
                "NearlineScoreChunk", "Quality", "Score", "ScoreQueue", "StartBatch", "Warmup");
        functions.forEach((name, json) -> {
            assertThat(json.get("entryPoint").asText()).startsWith("dev.nearline.examples.functions.ScoringFunctions.");
            String script = json.get("scriptFile").asText();
            assertThat(script).startsWith("../nearline-durable-functions-").endsWith(".jar");
            assertThat(staging.resolve(name).resolve(script).normalize()).isRegularFile();
        });
    }

    @Test
    void score_isAnHttpPostOnRouteScoreWithFunctionKey() {
        assertThat(types("Score")).containsExactly("httpTrigger:in", "http:out");
        JsonNode trigger = binding("Score", "httpTrigger");
        assertThat(trigger.get("route").asText()).isEqualTo("score");
        assertThat(trigger.get("methods").toString()).isEqualTo("[\"POST\"]");
        assertThat(trigger.get("authLevel").asText()).isEqualTo("FUNCTION");
        assertThat(binding("Score", "http").get("name").asText()).isEqualTo("$return");
        assertThat(functions.get("Score").get("entryPoint").asText()).endsWith(".score");
    }

    @Test
    void startBatch_hasHttpTriggerAndDurableClient() {
        assertThat(types("StartBatch")).containsExactlyInAnyOrder("httpTrigger:in", "durableClient:in", "http:out");
        assertThat(binding("StartBatch", "httpTrigger").get("route").asText()).isEqualTo("batches");
        assertThat(binding("StartBatch", "durableClient").get("name").asText()).isEqualTo("durableContext");
    }

    @Test
    void batchResults_isAnHttpGetWithTheJobIdInTheRoute() {
        JsonNode trigger = binding("BatchResults", "httpTrigger");
        assertThat(trigger.get("route").asText()).isEqualTo("batches/{id}/results");
        assertThat(trigger.get("methods").toString()).isEqualTo("[\"GET\"]");
    }

    @Test
    void orchestratorAndActivity_haveTheNamesTheAdapterCalls() {
        assertThat(types("NearlineScoreBatch")).containsExactly("orchestrationTrigger:in");
        assertThat(binding("NearlineScoreBatch", "orchestrationTrigger").get("name").asText()).isEqualTo("ctx");
        assertThat(types("NearlineScoreChunk")).containsExactly("activityTrigger:in");
        assertThat(binding("NearlineScoreChunk", "activityTrigger").get("name").asText()).isEqualTo("chunk");
    }

    @Test
    void scoreQueue_isABatchServiceBusTriggerOnTheConfiguredQueue() {
        assertThat(types("ScoreQueue")).containsExactly("serviceBusTrigger:in");
        JsonNode trigger = binding("ScoreQueue", "serviceBusTrigger");
        assertThat(trigger.get("name").asText()).isEqualTo("messages");
        assertThat(trigger.get("queueName").asText()).isEqualTo("%NEARLINE_REQUEST_QUEUE%");
        assertThat(trigger.get("connection").asText()).isEqualTo("ServiceBusConnection");
        assertThat(trigger.get("cardinality").asText()).isEqualTo("MANY");
    }

    @Test
    void feedback_isAnHttpPostAndABatchServiceBusTriggerOnTheFeedbackQueue_qualityAnHttpGet() {
        assertThat(types("Feedback")).containsExactly("httpTrigger:in", "http:out");
        assertThat(binding("Feedback", "httpTrigger").get("route").asText()).isEqualTo("feedback");
        assertThat(binding("Feedback", "httpTrigger").get("methods").toString()).isEqualTo("[\"POST\"]");
        assertThat(types("FeedbackQueue")).containsExactly("serviceBusTrigger:in");
        JsonNode trigger = binding("FeedbackQueue", "serviceBusTrigger");
        assertThat(trigger.get("queueName").asText()).isEqualTo("%NEARLINE_FEEDBACK_QUEUE%");
        assertThat(trigger.get("connection").asText()).isEqualTo("ServiceBusConnection");
        assertThat(trigger.get("cardinality").asText()).isEqualTo("MANY");
        assertThat(types("Quality")).containsExactly("httpTrigger:in", "http:out");
        assertThat(binding("Quality", "httpTrigger").get("route").asText()).isEqualTo("quality");
        assertThat(binding("Quality", "httpTrigger").get("methods").toString()).isEqualTo("[\"GET\"]");
    }

    @Test
    void warmup_hasAWarmupTrigger() {
        assertThat(types("Warmup")).containsExactly("warmupTrigger:in");
    }

    @Test
    void package_copiesHostJsonLibrariesAndThePipeline() throws IOException {
        JsonNode host = JSON.readTree(staging.resolve("host.json").toFile());
        assertThat(host.get("version").asText()).isEqualTo("2.0");
        assertThat(host.get("extensionBundle").get("id").asText()).isEqualTo("Microsoft.Azure.Functions.ExtensionBundle");
        try (Stream<Path> libs = Files.list(staging.resolve("lib"))) {
            assertThat(libs.map(p -> p.getFileName().toString()).toList())
                    .anySatisfy(n -> assertThat(n).startsWith("scoring-durable-adapter-"))
                    .anySatisfy(n -> assertThat(n).startsWith("scoring-onnx-"))
                    .anySatisfy(n -> assertThat(n).startsWith("onnxruntime-"))
                    .anySatisfy(n -> assertThat(n).startsWith("durabletask-azure-functions-"));
        }
        assertThat(staging.resolve("pipeline/fraud-pipeline.json")).isRegularFile();
        assertThat(staging.resolve("pipeline/fraud.onnx")).isRegularFile();
    }

    @Test
    void packagedPipeline_loadsAndScores() {
        try (Scorer<Object, Object> scorer = Pipeline.load(staging.resolve("pipeline/fraud-pipeline.json"))) {
            Object risky = scorer.score(Map.of("amount", 2400, "merchantCategory", "gambling", "cardPresent", false,
                    "foreign", true, "txLastHour", 6));
            Object everyday = scorer.score(Map.of("amount", 23.5, "merchantCategory", "grocery"));
            assertThat(risky).asString().contains("review");
            assertThat(everyday).asString().contains("legit");
        }
    }
}
