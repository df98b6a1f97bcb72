package dev.nearline.keda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.azure.messaging.servicebus.ServiceBusMessage;
import com.azure.messaging.servicebus.ServiceBusReceivedMessage;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worker takes labels from a feedback queue through the real Service Bus SDK against the embedded-Artemis
 * stand-in, joins them with the predictions it made for requests, and exports the quality metrics on
 * {@code /metrics} with the others.
 */
class FeedbackServiceBusTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    @TempDir
    static Path dir;
    private static dev.nearline.keda.standin.ServiceBusStandIn standIn;
    private static Path pipeline;

    @BeforeAll
    static void start() throws Exception {
        standIn = dev.nearline.keda.standin.ServiceBusStandIn.builder().queue("scored", 4).queue("scored-replies", 4)
                .queue("labels", 4).queue("labels-replies", 4).start();
        Path plain = TinyPipeline.write(dir);
        pipeline = dir.resolve("quality-pipeline.json");
        Files.writeString(pipeline, Files.readString(plain).replace("\"postprocessor\":{\"type\":\"score\"}}",
                "\"postprocessor\":{\"type\":\"score\",\"threshold\":0.5},"
                        + "\"quality\":{\"id\":\"txId\",\"window\":100,\"alerts\":{\"auc\":0.2}}}"));
    }

    @AfterAll
    static void stop() {
        standIn.close();
    }

    private static Map<String, String> env() {
        Map<String, String> env = new HashMap<>();
        env.put("NEARLINE_PIPELINE", pipeline.toString());
        env.put("SERVICEBUS_CONNECTION_STRING", standIn.connectionString());
        env.put("NEARLINE_REQUEST_QUEUE", "scored");
        env.put("NEARLINE_FEEDBACK_QUEUE", "labels");
        env.put("NEARLINE_HTTP_PORT", "0");
        env.put("NEARLINE_REPLY_TTL_MS", "600000");
        env.put("NEARLINE_LOCK_RENEWAL_MARGIN_MS", "0");
        env.put("NEARLINE_BATCH_WAIT_MS", "200");
        env.put("NEARLINE_DRAIN_TIMEOUT_MS", "10000");
        env.put("NEARLINE_MAX_DELIVERY_COUNT", "3");
        return env;
    }

    /** Record {@code i} of the tiny pipeline with its id. */
    private static String record(int i) {
        return "{\"txId\":\"t" + i + "\"," + TinyPipeline.record(i).substring(1);
    }

    private static String metrics(int port) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    /** The value of the first Prometheus sample of {@code name} whose labels contain every one of {@code labels}. */
    private static double sample(String metrics, String name, String... labels) {
        Pattern line = Pattern.compile("^" + Pattern.quote(name) + "\\{([^}]*)\\} (\\S+)$", Pattern.MULTILINE);
        Matcher m = line.matcher(metrics);
        while (m.find()) {
            boolean all = true;
            for (String l : labels) {
                all &= m.group(1).contains(l);
            }
            if (all) {
                return Double.parseDouble(m.group(2));
            }
        }
        return Double.NaN;
    }

    @Test
    void worker_feedbackQueue_joinsLabelsWithItsPredictions_deadLettersMalformedOnes_andExportsQuality()
            throws Exception {
        int n = 200;
        try (Requester scoring = new Requester(standIn.connectionString(), "scored", "scored-replies");
             Requester feedback = new Requester(standIn.connectionString(), "labels", "labels-replies")) {
            WorkerMain.Running running = WorkerMain.start(WorkerConfig.fromEnvironment(env()), null,
                    FeedbackConfig.fromEnvironment(env()));
            try {
                int port = running.httpPort();
                scoring.send(IntStream.range(0, n).mapToObj(i -> scoring.request("m" + i, record(i))).toList());
                List<ServiceBusReceivedMessage> replies = scoring.replies(n, Duration.ofMinutes(1));
                assertThat(replies).hasSize(n);
                // Labels: one message per label for most, one array for the rest, one unknown id, one malformed.
                List<ServiceBusMessage> labels = new ArrayList<>();
                for (int i = 0; i < 150; i++) {
                    labels.add(feedback.raw("l" + i, "{\"id\":\"t" + i + "\",\"label\":" + (i % 3 == 0 ? 1 : 0) + "}"));
                }
                labels.add(feedback.raw("batch", IntStream.range(150, n)
                        .mapToObj(i -> "{\"id\":\"t" + i + "\",\"label\":" + (i % 2 == 0) + "}")
                        .collect(Collectors.joining(",", "[", "]"))));
                labels.add(feedback.raw("unknown", "{\"id\":\"never-scored\",\"label\":1}"));
                labels.add(feedback.raw("malformed", "{\"id\":\"t1\",\"lable\":1}"));
                feedback.send(labels);

                // The worker opens its request and feedback connections at once; on the stand-in their token
                // replies share one queue (see ServiceBusStandIn), so the feedback link may lose its answer and
                // authorize again after the SDK's one-minute try timeout: allow for that one retry.
                await().atMost(Duration.ofMinutes(3)).until(() ->
                        sample(metrics(port), "nearline_quality_labels_total", "outcome=\"joined\"") == n);
                await().atMost(Duration.ofSeconds(30)).until(() -> sample(metrics(port),
                        "nearline_worker_feedback_messages_total", "outcome=\"deadletter\"") == 1);
                String m = metrics(port);
                assertThat(sample(m, "nearline_quality_labels_total", "outcome=\"unknown\"")).isEqualTo(1);
                assertThat(sample(m, "nearline_worker_feedback_messages_total", "outcome=\"complete\"")).isEqualTo(152);
                assertThat(sample(m, "nearline_quality_labelled", "version=\"1\"", "window=\"records\"",
                        "model=\"champion\"")).isEqualTo(100);
                double auc = sample(m, "nearline_quality_auc", "version=\"1\"", "window=\"records\"",
                        "model=\"champion\"");
                assertThat(auc).isBetween(0.0, 1.0);
                assertThat(m).contains("nearline_worker_messages_settled_total").contains("nearline_request_success_total");
                List<ServiceBusReceivedMessage> dead = feedback.deadLetters(1, Duration.ofSeconds(30));
                assertThat(dead).extracting(ServiceBusReceivedMessage::getMessageId).containsExactly("malformed");
                assertThat(standIn.messageCount("labels")).as("every feedback message settled").isZero();
            } finally {
                running.shutdown();
            }
        }
    }

    @Test
    void start_feedbackQueueButNoQualityObject_failsNamingBoth() throws IOException {
        Map<String, String> env = env();
        env.put("NEARLINE_PIPELINE", TinyPipeline.write(Files.createDirectories(dir.resolve("plain"))).toString());
        assertThatThrownBy(() -> WorkerMain.start(WorkerConfig.fromEnvironment(env), null, FeedbackConfig.fromEnvironment(env)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("NEARLINE_FEEDBACK_QUEUE")
                .hasMessageContaining("\"quality\"");
    }

    @Test
    void feedbackConfig_fromEnvironment_readsQueueOrSubscriptionAndNamesConflicts() {
        assertThat(FeedbackConfig.fromEnvironment(Map.of())).isNull();
        assertThat(FeedbackConfig.fromEnvironment(Map.of("NEARLINE_FEEDBACK_QUEUE", "labels")))
                .isEqualTo(FeedbackConfig.queue("labels"));
        assertThat(FeedbackConfig.fromEnvironment(Map.of("NEARLINE_FEEDBACK_TOPIC", "t",
                "NEARLINE_FEEDBACK_SUBSCRIPTION", "s"))).isEqualTo(new FeedbackConfig(null, "t", "s"));
        assertThatThrownBy(() -> FeedbackConfig.fromEnvironment(Map.of("NEARLINE_FEEDBACK_QUEUE", "q",
                "NEARLINE_FEEDBACK_TOPIC", "t"))).hasMessageContaining("both set");
        assertThatThrownBy(() -> FeedbackConfig.fromEnvironment(Map.of("NEARLINE_FEEDBACK_TOPIC", "t")))
                .hasMessageContaining("NEARLINE_FEEDBACK_SUBSCRIPTION is required");
    }
}
