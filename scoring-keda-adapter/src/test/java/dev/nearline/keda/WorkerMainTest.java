package dev.nearline.keda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.azure.messaging.servicebus.ServiceBusMessage;
import com.azure.messaging.servicebus.ServiceBusReceivedMessage;
import dev.nearline.api.Scorer;
import dev.nearline.core.Pipeline;
import dev.nearline.keda.standin.ServiceBusStandIn;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runnable worker: configured from environment variables, serving health and metrics, and shut
 * down the way SIGTERM does it, both in-process (the handle the signal handler calls) and as a child
 * JVM that receives a real SIGTERM. Through the real Service Bus SDK against the stand-in.
 */
class WorkerMainTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    /** The child worker's output, kept for a look after a failure. */
    private static final Path LOG = Path.of("target", "sigterm-worker.log");
    @TempDir
    static Path dir;
    private static ServiceBusStandIn standIn;
    private static Path pipeline;
    private static Scorer<Object, Object> reference;

    @BeforeAll
    static void start() throws Exception {
        standIn = ServiceBusStandIn.builder().queue("main", 4).queue("main-replies", 4)
                .queue("sigterm", 4).queue("sigterm-replies", 4).start();
        pipeline = TinyPipeline.write(dir);
        reference = Pipeline.load(pipeline);
    }

    @AfterAll
    static void stop() {
        reference.close();
        standIn.close();
    }

    private static Map<String, String> env(String queue, int port) {
        Map<String, String> env = new HashMap<>();
        env.put("NEARLINE_PIPELINE", pipeline.toString());
        env.put("SERVICEBUS_CONNECTION_STRING", standIn.connectionString());
        env.put("NEARLINE_REQUEST_QUEUE", queue);
        env.put("NEARLINE_HTTP_PORT", Integer.toString(port));
        env.put("NEARLINE_REPLY_TTL_MS", "600000");
        env.put("NEARLINE_LOCK_RENEWAL_MARGIN_MS", "0");
        env.put("NEARLINE_BATCH_WAIT_MS", "200");
        env.put("NEARLINE_DRAIN_TIMEOUT_MS", "10000");
        env.put("NEARLINE_MAX_DELIVERY_COUNT", "3");
        return env;
    }

    private static HttpResponse<String> get(int port, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static int status(int port, String path) {
        try {
            return get(port, path).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    private static double expectedScore(int i) {
        Object out = reference.score(TinyPipeline.tree(TinyPipeline.record(i)));
        return ((Number) ((Map<?, ?>) out).get("score")).doubleValue();
    }

    private static List<ServiceBusMessage> requests(Requester requester, String prefix, int n) {
        return IntStream.range(0, n).mapToObj(i -> requester.request(prefix + i, TinyPipeline.record(i))).toList();
    }

    /** Every request answered exactly with its in-process score (duplicates allowed only if identical). */
    private static void assertAnswered(List<ServiceBusReceivedMessage> replies, String prefix, int n) {
        Map<String, Double> scores = new HashMap<>();
        for (ServiceBusReceivedMessage r : replies) {
            double s = TinyPipeline.tree(r.getBody().toString()).at("/output/score").doubleValue();
            Double before = scores.putIfAbsent(r.getCorrelationId(), s);
            if (before != null) {
                assertThat(s).isEqualTo(before);
            }
        }
        assertThat(scores).hasSize(n);
        for (int i = 0; i < n; i++) {
            assertThat(scores.get(prefix + i)).as(prefix + i).isEqualTo(expectedScore(i));
        }
    }

    /**
     * The test class path as a manifest-only jar, the way a deployment runs one short {@code -jar}: ONNX
     * Runtime 1.29's native start-up crashes the JVM (SIGSEGV) when the command line carries a class
     * path of a few thousand characters, which the test class path is.
     */
    private static Path classPathJar() throws java.io.IOException {
        StringBuilder classPath = new StringBuilder();
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            classPath.append(Path.of(entry).toAbsolutePath().toUri()).append(' ');
        }
        java.util.jar.Manifest manifest = new java.util.jar.Manifest();
        manifest.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(java.util.jar.Attributes.Name.CLASS_PATH, classPath.toString().trim());
        Path jar = Path.of("target", "worker-classpath.jar").toAbsolutePath();
        try (java.util.jar.JarOutputStream out = new java.util.jar.JarOutputStream(
                java.nio.file.Files.newOutputStream(jar), manifest)) {
            out.flush();
        }
        return jar;
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void start_fromEnvironment_servesHealthAndPrometheusMetricsAndDrainsOnShutdown() throws Exception {
        int n = 2_000;
        try (Requester requester = new Requester(standIn.connectionString(), "main", "main-replies")) {
            WorkerMain.Running running = WorkerMain.start(WorkerConfig.fromEnvironment(env("main", 0)));
            int port = running.httpPort();
            await().atMost(Duration.ofSeconds(20)).until(() -> status(port, "/health/ready") == 200);
            assertThat(status(port, "/health/live")).isEqualTo(200);

            requester.send(requests(requester, "m", n));
            List<ServiceBusReceivedMessage> replies = new ArrayList<>(requester.replies(200, Duration.ofSeconds(30)));
            String metrics = get(port, "/metrics").body();
            QueueWorker.ShutdownSummary summary = running.shutdown(); // what SIGTERM calls

            assertThat(metrics).contains("nearline_worker_messages_received_total")
                    .contains("nearline_worker_messages_settled_total{kind=\"OK\",outcome=\"complete\"}")
                    .contains("nearline_worker_score_seconds_bucket")
                    .contains("nearline_worker_inflight");
            assertThat(metrics).as("the engine's meters carry the pipeline's own name, not the file's")
                    .contains("nearline_request_success_total{pipeline=\"tiny\"}")
                    .doesNotContain("pipeline=\"pipeline\"");
            assertThat(metrics).as("JVM and process metrics")
                    .contains("jvm_memory_used_bytes{", "jvm_gc_memory_allocated_bytes_total", "jvm_threads_live_threads",
                            "jvm_classes_loaded_classes", "process_cpu_usage", "system_cpu_count",
                            "process_uptime_seconds", "process_files_open_files");
            assertThat(metrics).as("no percentile histograms unless asked for")
                    .contains("nearline_compute_infer_duration_seconds_count{pipeline=\"tiny\"}")
                    .doesNotContain("nearline_compute_infer_duration_seconds_bucket");
            assertThat(summary.abandoned()).isZero();
            assertThat(summary.took()).isLessThan(Duration.ofSeconds(10));
            assertThat(status(port, "/health/ready")).as("endpoints closed after shutdown").isEqualTo(-1);
            assertThat(standIn.deliveringCount("main")).as("nothing left locked").isZero();
            long left = standIn.messageCount("main");
            replies.addAll(requester.replies((int) (n - left) - replies.size(), Duration.ofSeconds(30)));
            assertThat(replies.stream().map(ServiceBusReceivedMessage::getCorrelationId).distinct().count())
                    .as("answered + still queued = sent").isEqualTo(n - left);

            Map<String, String> withHistograms = env("main", 0);
            withHistograms.put("NEARLINE_METRICS_HISTOGRAMS", "true");
            WorkerMain.Running next = WorkerMain.start(WorkerConfig.fromEnvironment(withHistograms));
            replies.addAll(requester.replies((int) left, Duration.ofMinutes(1)));
            String nextMetrics = get(next.httpPort(), "/metrics").body();
            next.shutdown();
            assertThat(nextMetrics).as("NEARLINE_METRICS_HISTOGRAMS=true")
                    .contains("nearline_compute_infer_duration_seconds_bucket{pipeline=\"tiny\",le=")
                    .contains("nearline_queue_duration_seconds_bucket{");
            assertAnswered(replies, "m", n);
        }
    }

    @Test
    void childProcess_sigtermWithMessagesInFlight_settlesAllAndExitsZeroWithinTheGracePeriod() throws Exception {
        int n = 3_000;
        int port = freePort();
        try (Requester requester = new Requester(standIn.connectionString(), "sigterm", "sigterm-replies")) {
            ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", classPathJar().toString(), WorkerMain.class.getName())
                    .redirectErrorStream(true).redirectOutput(LOG.toFile());
            pb.environment().putAll(env("sigterm", port));
            Process worker = pb.start();
            try {
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    if (!worker.isAlive()) {
                        throw new AssertionError("worker exited with " + worker.exitValue() + ": "
                                + java.nio.file.Files.readString(LOG));
                    }
                    return status(port, "/health/ready") == 200;
                });
                requester.send(requests(requester, "s", n));
                List<ServiceBusReceivedMessage> replies = new ArrayList<>(requester.replies(100, Duration.ofSeconds(30)));

                long t0 = System.nanoTime();
                worker.destroy(); // SIGTERM
                boolean exited = worker.waitFor(30, TimeUnit.SECONDS);
                Duration took = Duration.ofNanos(System.nanoTime() - t0);

                assertThat(exited).as("exited within the grace period; log: %s", LOG).isTrue();
                assertThat(worker.exitValue()).isZero();
                assertThat(took).isLessThan(Duration.ofSeconds(15));
                assertThat(standIn.deliveringCount("sigterm")).as("no message left locked").isZero();
                long left = standIn.messageCount("sigterm");
                replies.addAll(requester.replies((int) (n - left) - replies.size(), Duration.ofSeconds(30)));
                Set<String> answered = new HashSet<>();
                replies.forEach(r -> answered.add(r.getCorrelationId()));
                assertThat(answered).as("answered + still queued = sent").hasSize((int) (n - left));

                QueueWorker next = QueueWorker.builder(Pipeline.load(pipeline), ServiceBusTransport.builder()
                        .connectionString(standIn.connectionString()).queue("sigterm")
                        .replyTimeToLive(Duration.ofMinutes(10)).build()).lockRenewalMargin(Duration.ZERO).build();
                next.start();
                replies.addAll(requester.replies((int) left, Duration.ofMinutes(1)));
                next.shutdown();
                assertAnswered(replies, "s", n);
            } finally {
                worker.destroyForcibly();
            }
        }
    }
}
