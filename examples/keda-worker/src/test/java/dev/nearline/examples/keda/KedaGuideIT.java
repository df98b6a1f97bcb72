package dev.nearline.examples.keda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.azure.core.util.BinaryData;
import com.azure.messaging.servicebus.ServiceBusClientBuilder;
import com.azure.messaging.servicebus.ServiceBusMessage;
import com.azure.messaging.servicebus.ServiceBusReceivedMessage;
import com.azure.messaging.servicebus.ServiceBusReceiverClient;
import com.azure.messaging.servicebus.ServiceBusSenderClient;
import com.azure.messaging.servicebus.models.ServiceBusReceiveMode;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nearline.api.Scorer;
import dev.nearline.core.Pipeline;
import dev.nearline.keda.standin.ServiceBusStandIn;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The KEDA worker guide, run as far as this machine allows: the worker started as its own process by the
 * Dockerfile's entry point from what {@code mvn package} laid out in {@code target/image} (the jar without
 * ONNX Runtime natives, the linux-x64 natives loaded through {@code onnxruntime.native.path}, the demo model),
 * with the ConfigMap's pipeline and the Deployment's environment, against the Service Bus stand-in (an
 * embedded broker that the real Service Bus SDK talks to). The example client runs as its own process with
 * the guide's command and its requests are checked against the pipeline's scores; SIGTERM drains a worker
 * under load and a second worker (a new pod) answers what the first left.
 *
 * <p>What stands in for Azure and Kubernetes, and nothing else: the broker; the connection-string variant's
 * Secret holds the stand-in's connection string (workload identity needs Entra ID); a free port instead of
 * 8080; replies carry a time-to-live and lock renewal is off, because the stand-in cannot do without the
 * one or do the other (see ServiceBusStandIn); and the reply queue has no sessions, which the stand-in
 * cannot do either, so the client runs with {@code NEARLINE_REPLY_SESSIONS=false}.
 */
class KedaGuideIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String REPLIES = "scoring-replies";
    /** The queues of the log test's worker, apart from the guide's so that its counts stay the guide's. */
    private static final String LOG_REQUESTS = "log-requests";
    private static final String LOG_REPLIES = "log-replies";
    private static final Path LOGS = GuideLayout.MODULE.resolve("target");

    @TempDir
    static Path dir;
    private static ServiceBusStandIn standIn;
    private static GuideLayout layout;
    private static Map<String, String> podEnv;
    private static String requestQueue;
    private static Scorer<Object, Object> reference;

    @BeforeAll
    static void deploy() throws Exception {
        // Set by the integration-test execution, which runs after package; -Dtest also runs this class in
        // the test phase, before the image layout is rebuilt, where it would test the previous build.
        assumeTrue(System.getProperty("worker.image") != null, "runs after package (integration-test phase)");
        layout = new GuideLayout(GuideLayout.MODULE.resolve("Dockerfile"));
        assertThat(layout.image("/app/worker.jar")).as("run mvn package first").isRegularFile();
        JsonNode deployment = GuideLayout.object("connection-string.yaml", "Deployment");
        JsonNode configMap = GuideLayout.object("configmap-pipeline.yaml", "ConfigMap");
        Map<String, String> secrets = new HashMap<>();
        int maxDelivery = Integer.parseInt(envValue(deployment, "NEARLINE_MAX_DELIVERY_COUNT", "10"));
        requestQueue = envValue(deployment, "NEARLINE_REQUEST_QUEUE", null);
        // the stand-in counts deliveries from 0, Service Bus from 1: one more attempt lines the two up
        standIn = ServiceBusStandIn.builder().queue(requestQueue, maxDelivery + 1).queue(REPLIES, 10)
                .queue(LOG_REQUESTS, maxDelivery + 1).queue(LOG_REPLIES, 10).start();
        for (JsonNode e : deployment.at("/spec/template/spec/containers/0/env")) {
            if (e.has("valueFrom")) {
                secrets.put(e.at("/valueFrom/secretKeyRef/name").asText() + "/" + e.at("/valueFrom/secretKeyRef/key").asText(),
                        standIn.connectionString());
            }
        }
        podEnv = layout.environment(deployment, dir.resolve("pod"),
                Map.of(configMap.at("/metadata/name").asText(), configMap), secrets);
        reference = Pipeline.load(Path.of(podEnv.get("NEARLINE_PIPELINE")));
    }

    @AfterAll
    static void undeploy() {
        if (reference != null) {
            reference.close();
        }
        if (standIn != null) {
            standIn.close();
        }
    }

    private static String envValue(JsonNode deployment, String name, String defaultValue) {
        for (JsonNode e : deployment.at("/spec/template/spec/containers/0/env")) {
            if (name.equals(e.get("name").asText())) {
                return e.get("value").asText();
            }
        }
        return defaultValue;
    }

    /** A worker pod: the entry point with the pod's environment, on a free port. */
    private static Worker startWorker(String name) throws Exception {
        return startWorker(name, Map.of());
    }

    /** A worker pod with the pod's environment and {@code env} over it. */
    private static Worker startWorker(String name, Map<String, String> env) throws Exception {
        int port = freePort();
        ProcessBuilder pb = new ProcessBuilder(layout.command()).redirectErrorStream(true)
                .redirectOutput(LOGS.resolve("guide-" + name + ".log").toFile());
        pb.environment().clear();
        pb.environment().putAll(podEnv);
        pb.environment().put("NEARLINE_HTTP_PORT", Integer.toString(port));
        pb.environment().put("NEARLINE_REPLY_TTL_MS", "600000");
        pb.environment().put("NEARLINE_LOCK_RENEWAL_MARGIN_MS", "0");
        pb.environment().putAll(env);
        Worker w = new Worker(pb.start(), port, LOGS.resolve("guide-" + name + ".log"));
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            if (!w.process.isAlive()) {
                throw new AssertionError("worker exited with " + w.process.exitValue() + ": " + Files.readString(w.log));
            }
            return w.status("/health/ready") == 200;
        });
        return w;
    }

    private record Worker(Process process, int port, Path log) {
        int status(String path) {
            try {
                return get(path).statusCode();
            } catch (IOException e) {
                return -1;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return -1;
            }
        }

        HttpResponse<String> get(String path) throws IOException, InterruptedException {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        }

        double metric(String name) {
            try {
                double sum = 0;
                for (String line : get("/metrics").body().split("\n")) {
                    if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                    }
                }
                return sum;
            } catch (IOException | InterruptedException e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                return -1;
            }
        }
    }

    /** The guide's client command: {@code java -cp <image>/app/worker.jar ...ScoreClient [args]}. */
    private static ProcessBuilder client(String name, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", layout.image("/app/worker.jar").toString(), ScoreClient.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(LOGS.resolve("guide-" + name + ".err").toFile());
        pb.environment().put("SERVICEBUS_CONNECTION_STRING", standIn.connectionString());
        pb.environment().put("NEARLINE_REQUEST_QUEUE", requestQueue);
        pb.environment().put("NEARLINE_REPLY_QUEUE", REPLIES);
        pb.environment().put("NEARLINE_REPLY_SESSIONS", "false");
        pb.environment().put("NEARLINE_CLIENT_TIMEOUT_MS", "90000");
        return pb;
    }

    /** Runs a client to its end; returns its output lines, one per record: id, status, reply body. */
    private static List<String> runClient(Process p, String name) throws Exception {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("client %s ended", name).isTrue();
        assertThat(p.exitValue()).as("client %s exit code; output:%n%s%nstderr: %s", name, out,
                Files.readString(LOGS.resolve("guide-" + name + ".err"))).isZero();
        return out.lines().toList();
    }

    private static Process feed(ProcessBuilder pb, List<String> records) throws IOException {
        Process p = pb.start();
        try (var in = p.getOutputStream()) {
            in.write(String.join("\n", records).concat("\n").getBytes(StandardCharsets.UTF_8));
        }
        return p;
    }

    /** Record {@code i}: the 30 numeric features f0..f29 the deployed pipeline reads, from a seed of i. */
    private static String record(int i) {
        SplittableRandom r = new SplittableRandom(i * 31L + 7);
        return IntStream.range(0, 30).mapToObj(f -> String.format(Locale.ROOT, "\"f%d\":%.4f", f, r.nextDouble(-2, 2)))
                .collect(Collectors.joining(",", "{", "}"));
    }

    private static double expectedScore(String record) throws IOException {
        Object out = reference.score(JSON.readTree(record));
        return ((Number) ((Map<?, ?>) out).get("score")).doubleValue();
    }

    /** Checks each output line against its record: OK with the pipeline's score, or the expected error. */
    private static void assertReplies(List<String> lines, List<String> records, Map<Integer, String> errors) throws IOException {
        assertThat(lines).hasSize(records.size());
        for (int i = 0; i < records.size(); i++) {
            String[] parts = lines.get(i).split(" ", 3);
            assertThat(parts).as("line %d: %s", i, lines.get(i)).hasSize(3);
            JsonNode body = JSON.readTree(parts[2]);
            if (errors.containsKey(i)) {
                assertThat(parts[1]).as("line %d", i).isEqualTo("ERROR");
                assertThat(body.at("/error/kind").asText()).isEqualTo("INVALID_INPUT");
                assertThat(body.at("/error/message").asText()).contains(errors.get(i));
            } else {
                assertThat(parts[1]).as("line %d: %s", i, lines.get(i)).isEqualTo("OK");
                assertThat(body.at("/output/score").doubleValue()).as("record %d", i).isEqualTo(expectedScore(records.get(i)));
            }
        }
    }

    @Test
    void guide_workerFromTheImageLayoutAndTheExampleClient_answerEveryRequestAndDrainOnSigterm() throws Exception {
        Worker first = startWorker("worker-1");
        Worker second = null;
        try {
            // The guide's first client command: no argument, one demo record that the deployed pipeline accepts.
            List<String> demo = runClient(client("client-demo").start(), "client-demo");
            assertReplies(demo, List.of(ScoreClient.demoRecord()), Map.of());

            // Records on standard input, one of them without the feature f7 that the pipeline needs.
            List<String> records = new ArrayList<>(IntStream.range(0, 60).mapToObj(KedaGuideIT::record).toList());
            records.set(17, records.get(17).replaceFirst("\"f7\":[^,]+,", ""));
            List<String> lines = runClient(feed(client("client-stdin", "-"), records), "client-stdin");
            assertReplies(lines, records, Map.of(17, "'f7'"));
            assertThat(standIn.messageCount(ServiceBusStandIn.deadLetterQueue(requestQueue)))
                    .as("the invalid record is dead-lettered").isEqualTo(1);

            // Load, then SIGTERM as a scale-in would send it: the worker drains and exits 0 within the grace
            // period; a new pod answers whatever was still queued. Every request is answered, correctly.
            List<String> load = IntStream.range(1_000, 2_500).mapToObj(KedaGuideIT::record).toList();
            Process loadClient = feed(client("client-load", "-"), load);
            Worker w1 = first;
            // 3 min: room for one redelivery if the first reply misses its timeout on a loaded machine (see below)
            await().atMost(Duration.ofMinutes(3)).until(() -> w1.metric("nearline_worker_messages_settled_total") > 300);
            long t0 = System.nanoTime();
            first.process.destroy(); // SIGTERM
            assertThat(first.process.waitFor(30, TimeUnit.SECONDS)).as("exited within the grace period; log %s", first.log)
                    .isTrue();
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            assertThat(first.process.exitValue()).isZero();
            assertThat(took).isLessThan(Duration.ofSeconds(30));
            assertThat(standIn.deliveringCount(requestQueue)).as("nothing left locked by the stopped worker").isZero();

            second = startWorker("worker-2");
            List<String> loadLines = runClient(loadClient, "client-load");
            assertReplies(loadLines, load, Map.of());
            assertThat(standIn.messageCount(requestQueue)).isZero();
        } finally {
            first.process.destroyForcibly();
            if (second != null) {
                second.process.destroy();
                assertThat(second.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
                assertThat(second.process.exitValue()).isZero();
            }
        }
    }

    @Test
    void image_layout_holdsOnlyLinuxX64NativesOutsideTheJarAndTheModel() throws IOException {
        Path natives = layout.image("/opt/nearline/natives");
        try (var files = Files.list(natives)) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted().toList())
                    .containsExactly("libonnxruntime.so", "libonnxruntime4j_jni.so");
        }
        List<String> nativeEntries = new ArrayList<>();
        try (var jar = new java.util.jar.JarFile(layout.image("/app/worker.jar").toFile())) {
            jar.stream().map(java.util.jar.JarEntry::getName)
                    .filter(n -> n.endsWith(".so") || n.endsWith(".dll") || n.endsWith(".dylib") || n.endsWith(".jnilib"))
                    .forEach(nativeEntries::add);
        }
        assertThat(nativeEntries).as("no ONNX Runtime natives in the jar, and no other platform's").noneMatch(n ->
                n.startsWith("ai/onnxruntime/") || n.contains("osx") || n.contains("macos") || n.contains("windows")
                        || n.contains("win32") || n.contains("darwin") || n.contains("aarch"));
        JsonNode pipeline = JSON.readTree(GuideLayout.object("configmap-pipeline.yaml", "ConfigMap").at("/data/pipeline.json").asText());
        assertThat(layout.image(pipeline.at("/steps/0/path").asText())).as("the model the ConfigMap's pipeline loads").isRegularFile();
    }

    @Test
    void tritonVariant_pipelineMatchesTheModelRepositoryTheBuildWrote() throws Exception {
        JsonNode pipeline = JSON.readTree(GuideLayout.object("triton.yaml", "ConfigMap").at("/data/pipeline.json").asText());
        Path repository = GuideLayout.MODULE.resolve("target/triton/model-repository");
        String model = pipeline.at("/steps/0/model").asText();
        String config = Files.readString(repository.resolve(model).resolve("config.pbtxt"));
        assertThat(config).contains("name: \"" + model + "\"").contains("max_batch_size: 64");
        java.util.regex.Matcher input = java.util.regex.Pattern
                .compile("input \\[\\s*\\{ name: \"(\\w+)\", data_type: TYPE_FP32, dims: \\[ (\\d+) \\] \\}").matcher(config);
        assertThat(input.find()).as("config.pbtxt declares one FP32 input").isTrue();
        // the pipeline writes one FP32 tensor, named by the preprocessor's output, with one value per field
        assertThat(pipeline.at("/preprocessor/output").asText("input")).isEqualTo(input.group(1));
        assertThat(pipeline.at("/preprocessor/fields").size()).isEqualTo(Integer.parseInt(input.group(2)));
        // and the model file in the repository has that signature
        try (ai.onnxruntime.OrtSession session = ai.onnxruntime.OrtEnvironment.getEnvironment().createSession(
                repository.resolve(model).resolve("1/model.onnx").toString())) {
            ai.onnxruntime.TensorInfo info = (ai.onnxruntime.TensorInfo) session.getInputInfo().get(input.group(1)).getInfo();
            assertThat(info.type).isEqualTo(ai.onnxruntime.OnnxJavaType.FLOAT);
            assertThat(info.getShape()).containsExactly(-1, Long.parseLong(input.group(2)));
            assertThat(session.getOutputNames()).contains("score");
        }
        // the same 30 features as the CPU pipeline
        JsonNode cpu = JSON.readTree(GuideLayout.object("configmap-pipeline.yaml", "ConfigMap").at("/data/pipeline.json").asText());
        assertThat(pipeline.at("/preprocessor/fields")).isEqualTo(cpu.at("/preprocessor/fields"));
    }

    @Test
    void deployments_plainAndConnectionStringVariant_differOnlyInHowTheyAuthenticate() {
        Map<String, String> plain = env(GuideLayout.object("deployment.yaml", "Deployment"));
        Map<String, String> variant = env(GuideLayout.object("connection-string.yaml", "Deployment"));
        plain.remove("SERVICEBUS_NAMESPACE");
        variant.remove("SERVICEBUS_CONNECTION_STRING");
        assertThat(variant).isEqualTo(plain);
    }

    /**
     * The Deployment's {@code NEARLINE_LOG_FORMAT=json}: a request with a W3C {@code traceparent} that the worker
     * dead-letters (a record without a feature the pipeline needs) is answered with the trace continued, and
     * the worker's warning about it is one JSON object (logback's JsonEncoder) whose MDC carries the request's
     * MessageId, its trace id and the span id the reply names as parent; every line of the worker's output is
     * JSON, and none holds a value of the record.
     */
    @Test
    void logs_jsonFormatOfTheDeployment_requestLinesAreJsonWithMessageIdAndTraceButNoRecordValues() throws Exception {
        assertThat(podEnv).containsEntry("NEARLINE_LOG_FORMAT", "json");
        String trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        String messageId = "log-" + UUID.randomUUID();
        // values that appear nowhere else: 30 features less f7, each 7 digits after the point
        List<String> values = new ArrayList<>();
        StringBuilder record = new StringBuilder("{");
        for (int f = 0; f < 30; f++) {
            if (f != 7) {
                String v = String.format(Locale.ROOT, "0.%07d", 1_234_567 + 1_111 * f);
                values.add(v);
                record.append(record.length() > 1 ? "," : "").append("\"f").append(f).append("\":").append(v);
            }
        }
        record.append('}');
        Worker w = startWorker("worker-json", Map.of("NEARLINE_REQUEST_QUEUE", LOG_REQUESTS));
        ServiceBusReceivedMessage reply;
        try {
            ServiceBusClientBuilder clients = new ServiceBusClientBuilder().connectionString(standIn.connectionString());
            try (ServiceBusSenderClient sender = clients.sender().queueName(LOG_REQUESTS).buildClient();
                 ServiceBusReceiverClient receiver = clients.receiver().queueName(LOG_REPLIES)
                         .receiveMode(ServiceBusReceiveMode.RECEIVE_AND_DELETE).buildClient()) {
                ServiceBusMessage request = new ServiceBusMessage(BinaryData.fromString("{\"record\": " + record + "}"))
                        .setMessageId(messageId).setReplyTo(LOG_REPLIES).setContentType("application/json")
                        .setTimeToLive(Duration.ofMinutes(5));
                request.getApplicationProperties().put("traceparent", "00-" + trace + "-00f067aa0ba902b7-01");
                sender.sendMessage(request);
                reply = null;
                // Long enough for one redelivery: on a loaded machine the worker's first reply can miss its 10 s
                // reply timeout (the stand-in's shared $cbs reply queue can lose the reply sender's authorization,
                // see ServiceBusStandIn); the worker then releases the request and answers it when the broker
                // redelivers it after the lock expires. Returns as soon as the reply is there.
                long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
                while (reply == null && System.nanoTime() < deadline) {
                    for (ServiceBusReceivedMessage m : receiver.receiveMessages(1, Duration.ofSeconds(1))) {
                        if (messageId.equals(m.getCorrelationId())) {
                            reply = m;
                        }
                    }
                }
            }
            assertThat(reply).as("the reply to %s; worker log %s", messageId, w.log).isNotNull();
        } finally {
            w.process.destroy();
            assertThat(w.process.waitFor(30, TimeUnit.SECONDS)).as("the worker drains and exits").isTrue();
        }
        assertThat(reply.getApplicationProperties()).containsEntry("nearline-error-kind", "INVALID_INPUT");
        Matcher parent = Pattern.compile("00-" + trace + "-([0-9a-f]{16})-01")
                .matcher(String.valueOf(reply.getApplicationProperties().get("traceparent")));
        assertThat(parent.matches()).as("the reply continues the trace: %s", reply.getApplicationProperties()).isTrue();

        String log = Files.readString(w.log);
        List<JsonNode> lines = new ArrayList<>();
        for (String line : log.lines().filter(l -> !l.isBlank()).toList()) {
            JsonNode json;
            try {
                json = JSON.readTree(line);
            } catch (IOException e) {
                throw new AssertionError("not a JSON line in " + w.log + ": " + line, e);
            }
            assertThat(json.isObject()).as(line).isTrue();
            assertThat(json.path("level").asText()).as(line).isIn("TRACE", "DEBUG", "INFO", "WARN", "ERROR");
            assertThat(json.path("loggerName").asText()).as(line).isNotEmpty();
            assertThat(json.path("timestamp").asLong()).as(line).isPositive();
            lines.add(json);
        }
        List<JsonNode> about = lines.stream().filter(l -> messageId.equals(l.at("/mdc/messageId").asText())).toList();
        assertThat(about).as("lines about %s in %s", messageId, w.log).isNotEmpty().allSatisfy(l -> {
            assertThat(l.at("/mdc/traceId").asText()).isEqualTo(trace);
            assertThat(l.at("/mdc/spanId").asText()).isEqualTo(parent.group(1));
            assertThat(l.at("/mdc/deliveryCount").asText()).matches("\\d+");
        });
        assertThat(about).anySatisfy(l -> {
            assertThat(l.path("level").asText()).isEqualTo("WARN");
            assertThat(l.path("formattedMessage").asText()).contains("dead-lettered").contains("'f7'");
        });
        assertThat(values).as("record values in the log").allSatisfy(v -> assertThat(log).doesNotContain(v));
    }

    private static Map<String, String> env(JsonNode deployment) {
        Map<String, String> env = new LinkedHashMap<>();
        deployment.at("/spec/template/spec/containers/0/env").forEach(e -> env.put(e.get("name").asText(), e.path("value").asText()));
        return env;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
