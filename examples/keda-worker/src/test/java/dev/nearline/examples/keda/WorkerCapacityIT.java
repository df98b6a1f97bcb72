package dev.nearline.examples.keda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.azure.core.util.BinaryData;
import com.azure.messaging.servicebus.ServiceBusClientBuilder;
import com.azure.messaging.servicebus.ServiceBusMessage;
import com.azure.messaging.servicebus.ServiceBusReceivedMessage;
import com.azure.messaging.servicebus.ServiceBusReceiverAsyncClient;
import com.azure.messaging.servicebus.ServiceBusSenderAsyncClient;
import com.azure.messaging.servicebus.models.ServiceBusReceiveMode;
import com.fasterxml.jackson.databind.JsonNode;
import dev.nearline.keda.standin.ServiceBusStandIn;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * A measurement, not a test (it runs only with {@code -Dnearline.capacity=true}): the worker pod of the
 * guide, started by the Dockerfile's entry point from {@code target/image} with the Deployment's
 * environment, against the Service Bus stand-in.
 * <ol>
 *   <li><b>Cold start</b>, {@code runs} times each: process start → pipeline loaded (the worker's "worker
 *       running" log line) → {@code /health/ready} 200 (broker connected and probed), with the image's
 *       native-library cache ({@code -Donnxruntime.native.path}, the entry point as shipped) and, for
 *       comparison, with ONNX Runtime's natives extracted from its jar on every start (the jar added to the
 *       class path, no cache).</li>
 *   <li><b>Throughput and latency per pod</b>: a queue pre-filled with {@code n} requests, the worker
 *       started, the clock running from ready to the last reply at the requester; records/s = n / that
 *       time. Latency per message, receive → settled, p50/p99 from the worker's own histogram
 *       ({@code nearline_worker_end_to_end_seconds}).</li>
 * </ol>
 * Broker, requester and worker share this machine's 2 cores, so the rate is a floor for a pod with 2 cores
 * of its own. Writes {@code target/worker-capacity.txt}.
 *
 * <pre>
 * mvn -B -pl examples/keda-worker -am verify -Dtest=WorkerCapacityIT -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dnearline.capacity=true -Dnearline.capacity.runs=5 -Dnearline.capacity.n=20000
 * </pre>
 */
class WorkerCapacityIT {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String REPLIES = "capacity-replies";

    @TempDir
    Path dir;

    @Test
    void measure() throws Exception {
        assumeTrue(Boolean.getBoolean("nearline.capacity") && System.getProperty("worker.image") != null,
                "a measurement: -Dnearline.capacity=true, after package");
        int runs = Integer.getInteger("nearline.capacity.runs", 5);
        int n = Integer.getInteger("nearline.capacity.n", 20_000);
        GuideLayout layout = new GuideLayout(GuideLayout.MODULE.resolve("Dockerfile"));
        JsonNode deployment = GuideLayout.object("connection-string.yaml", "Deployment");
        JsonNode configMap = GuideLayout.object("configmap-pipeline.yaml", "ConfigMap");
        String queue = null;
        for (JsonNode e : deployment.at("/spec/template/spec/containers/0/env")) {
            if (e.get("name").asText().equals("NEARLINE_REQUEST_QUEUE")) {
                queue = e.get("value").asText();
            }
        }
        StringBuilder report = new StringBuilder();
        try (ServiceBusStandIn standIn = ServiceBusStandIn.builder().queue(queue, 11).queue(REPLIES, 10).start()) {
            Map<String, String> secrets = new HashMap<>();
            secrets.put("nearline-servicebus-worker/connection-string", standIn.connectionString());
            Map<String, String> env = layout.environment(deployment, dir.resolve("pod"),
                    Map.of(configMap.at("/metadata/name").asText(), configMap), secrets);
            env.put("NEARLINE_REPLY_TTL_MS", "600000");
            env.put("NEARLINE_LOCK_RENEWAL_MARGIN_MS", "0");

            List<String> cached = layout.command();
            List<String> extracted = extractingCommand(cached);
            report.append(String.format(Locale.ROOT, "cold start, ms from process start (median of %d; min-max)%n", runs));
            // alternating, so that a change in the machine's load hits both alike
            long[][] withCache = new long[runs][];
            long[][] fromJar = new long[runs][];
            for (int r = 0; r < runs; r++) {
                withCache[r] = coldStart(cached, env, 2 * r);
                fromJar[r] = coldStart(extracted, env, 2 * r + 1);
            }
            report.append(String.format(Locale.ROOT, "  %-34s pipeline loaded %s, ready %s%n", "native cache (image entry point)",
                    stats(withCache, 0), stats(withCache, 1)));
            report.append(String.format(Locale.ROOT, "  %-34s pipeline loaded %s, ready %s%n", "natives extracted from the jar",
                    stats(fromJar, 0), stats(fromJar, 1)));
            String before = new String(new ProcessBuilder("uptime").start().getInputStream().readAllBytes()).strip();
            report.append("uptime after the cold starts: ").append(before).append('\n');

            // Throughput: fill, then start one pod.
            ServiceBusClientBuilder clients = new ServiceBusClientBuilder().connectionString(standIn.connectionString());
            ServiceBusSenderAsyncClient sender = clients.sender().queueName(queue).buildAsyncClient();
            ServiceBusReceiverAsyncClient receiver = clients.receiver().queueName(REPLIES)
                    .receiveMode(ServiceBusReceiveMode.RECEIVE_AND_DELETE).buildAsyncClient();
            CountDownLatch done = new CountDownLatch(n);
            Disposable sub = receiver.receiveMessages().subscribe(m -> countReply(m, done));
            try {
                List<ServiceBusMessage> requests = IntStream.range(0, n).mapToObj(i -> new ServiceBusMessage(
                        BinaryData.fromString("{\"record\":" + record(i) + "}")).setMessageId("c" + i)
                        .setReplyTo(REPLIES).setTimeToLive(Duration.ofMinutes(30)).setContentType("application/json")).toList();
                Flux.fromIterable(requests).flatMap(sender::sendMessage, 64).then().block(Duration.ofMinutes(10));
                int port = freePort();
                Process p = start(cached, env, port, "capacity");
                try {
                    awaitReady(p, port, Duration.ofSeconds(60));
                    long t0 = System.nanoTime();
                    assertThat(done.await(10, TimeUnit.MINUTES)).as("all replies").isTrue();
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    String metrics = get(port, "/metrics");
                    report.append(String.format(Locale.ROOT,
                            "throughput, one pod (NEARLINE_CONCURRENCY=%s, NEARLINE_BATCH_MAX=%s), %d requests: %.0f records/s%n",
                            env.get("NEARLINE_CONCURRENCY"), env.get("NEARLINE_BATCH_MAX"), n, n / seconds));
                    report.append(String.format(Locale.ROOT,
                            "latency per message, receive -> settled: p50 <= %.1f ms, p99 <= %.1f ms (histogram bucket bounds)%n",
                            quantile(metrics, "nearline_worker_end_to_end_seconds", 0.50) * 1e3,
                            quantile(metrics, "nearline_worker_end_to_end_seconds", 0.99) * 1e3));
                    report.append(String.format(Locale.ROOT,
                            "scoring per batch call: p50 <= %.2f ms, p99 <= %.2f ms; mean batch %.1f records%n",
                            quantile(metrics, "nearline_worker_score_seconds", 0.50) * 1e3,
                            quantile(metrics, "nearline_worker_score_seconds", 0.99) * 1e3,
                            mean(metrics, "nearline_worker_batch_size")));
                } finally {
                    p.destroy();
                    p.waitFor(30, TimeUnit.SECONDS);
                    p.destroyForcibly();
                }
            } finally {
                sub.dispose();
                receiver.close();
                sender.close();
            }
        }
        String uptime = new String(new ProcessBuilder("uptime").start().getInputStream().readAllBytes()).strip();
        report.append("uptime after: ").append(uptime).append('\n');
        Files.writeString(GuideLayout.MODULE.resolve("target/worker-capacity.txt"), report);
        System.out.print(report);
    }

    private static void countReply(ServiceBusReceivedMessage m, CountDownLatch done) {
        if ("OK".equals(m.getApplicationProperties().get("nearline-status"))) {
            done.countDown();
        }
    }

    /** The entry point without the native cache: main class instead of -jar, ONNX Runtime's jar after the worker's. */
    private static List<String> extractingCommand(List<String> cached) throws Exception {
        Path ortJar = Path.of(ai.onnxruntime.OrtEnvironment.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> cmd = new ArrayList<>();
        for (int i = 0; i < cached.size(); i++) {
            String a = cached.get(i);
            if (a.startsWith("-Donnxruntime.native.path=")) {
                continue;
            }
            if (a.equals("-jar")) {
                cmd.add("-cp");
                cmd.add(cached.get(++i) + java.io.File.pathSeparator + ortJar);
                cmd.add("dev.nearline.keda.WorkerMain");
                continue;
            }
            cmd.add(a);
        }
        return cmd;
    }

    /** {pipeline loaded ms, ready ms} after process start. */
    private long[] coldStart(List<String> cmd, Map<String, String> env, int run) throws Exception {
        int port = freePort();
        long launched = System.currentTimeMillis();
        Process p = start(cmd, env, port, "coldstart-" + run);
        try {
            awaitReady(p, port, Duration.ofSeconds(60));
            long ready = System.currentTimeMillis() - launched;
            long loaded = -1;
            for (String line : Files.readAllLines(log("coldstart-" + run))) {
                if (line.contains("worker running")) {
                    loaded = java.time.OffsetDateTime.parse(line.substring(0, 28),
                            java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ")).toInstant().toEpochMilli() - launched;
                    break;
                }
            }
            return new long[] {loaded, ready};
        } finally {
            p.destroy();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    private static Path log(String name) {
        return GuideLayout.MODULE.resolve("target/" + name + ".log");
    }

    private static Process start(List<String> cmd, Map<String, String> env, int port, String name) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log(name).toFile());
        pb.environment().clear();
        pb.environment().putAll(env);
        pb.environment().put("NEARLINE_HTTP_PORT", Integer.toString(port));
        return pb.start();
    }

    /** Polls readiness every 5 ms (a bound, not a sleep-for-sync: the wait ends on the event). */
    private static void awaitReady(Process p, int port, Duration max) throws Exception {
        long end = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < end) {
            if (!p.isAlive()) {
                throw new AssertionError("worker exited with " + p.exitValue());
            }
            try {
                HttpResponse<Void> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            p.waitFor(5, TimeUnit.MILLISECONDS);
        }
        throw new AssertionError("not ready within " + max);
    }

    private static String get(int port, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    /** The upper bound of the Prometheus histogram bucket holding quantile {@code q}. */
    static double quantile(String metrics, String name, double q) {
        TreeMap<Double, Double> buckets = new TreeMap<>();
        for (String line : metrics.split("\n")) {
            if (line.startsWith(name + "_bucket{")) {
                int le = line.indexOf("le=\"") + 4;
                String bound = line.substring(le, line.indexOf('"', le));
                double v = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                buckets.merge(bound.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(bound), v, Double::sum);
            }
        }
        double total = buckets.isEmpty() ? 0 : buckets.lastEntry().getValue();
        for (var b : buckets.entrySet()) {
            if (b.getValue() >= q * total) {
                return b.getKey();
            }
        }
        return Double.NaN;
    }

    private static double mean(String metrics, String name) {
        double sum = Double.NaN;
        double count = Double.NaN;
        for (String line : metrics.split("\n")) {
            if (line.startsWith(name + "_sum")) {
                sum = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            } else if (line.startsWith(name + "_count")) {
                count = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum / count;
    }

    private static String stats(long[][] t, int column) {
        long[] v = Arrays.stream(t).mapToLong(r -> r[column]).sorted().toArray();
        return String.format(Locale.ROOT, "%d (%d-%d)", v[v.length / 2], v[0], v[v.length - 1]);
    }

    private static String record(int i) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(i * 31L + 7);
        return IntStream.range(0, 30).mapToObj(f -> String.format(Locale.ROOT, "\"f%d\":%.4f", f, r.nextDouble(-2, 2)))
                .collect(java.util.stream.Collectors.joining(",", "{", "}"));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
