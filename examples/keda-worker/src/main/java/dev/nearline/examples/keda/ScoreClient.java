package dev.nearline.examples.keda;

import com.azure.core.util.BinaryData;
import com.azure.messaging.servicebus.ServiceBusClientBuilder;
import com.azure.messaging.servicebus.ServiceBusMessage;
import com.azure.messaging.servicebus.ServiceBusReceivedMessage;
import com.azure.messaging.servicebus.ServiceBusReceiverClient;
import com.azure.messaging.servicebus.ServiceBusSenderClient;
import com.azure.messaging.servicebus.models.ServiceBusReceiveMode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Sends scoring requests to the worker's queue and prints each reply: the request/reply pattern of the
 * queue worker, client side.
 *
 * <pre>
 * export SERVICEBUS_CONNECTION_STRING='Endpoint=sb://...'   # Send on the request queue, Listen on the reply queue
 * export NEARLINE_REQUEST_QUEUE=scoring-requests NEARLINE_REPLY_QUEUE=scoring-replies
 * java -cp target/image/app/worker.jar dev.nearline.examples.keda.ScoreClient            # one demo record
 * java -cp target/image/app/worker.jar dev.nearline.examples.keda.ScoreClient '{"f0": 0.5, ..., "f29": -1.2}'
 * java -cp target/image/app/worker.jar dev.nearline.examples.keda.ScoreClient - &lt; records.jsonl   # one record per line
 * </pre>
 *
 * <p>Prints one line per record, in input order: the request's MessageId, the reply's
 * {@code nearline-status} ({@code OK} or {@code ERROR}, or {@code TIMEOUT} when no reply came within
 * {@code NEARLINE_CLIENT_TIMEOUT_MS}, default 60000) and the reply body. Exits 0 when every record got a
 * reply, 1 otherwise, 2 on a usage error.
 *
 * <p>With {@code NEARLINE_REPLY_SESSIONS=true} (the default) the reply queue is session-enabled: every
 * client takes its own session (ReplyToSessionId), so many clients share one reply queue and each receives
 * only its own replies. With {@code false} the reply queue has no sessions and belongs to this client
 * alone; replies to requests of an earlier run that are still in it are dropped. Requests carry a
 * MessageId; the reply's CorrelationId is that MessageId. Delivery is at-least-once: after a worker crash a
 * request may be scored twice and answered twice, with the same reply MessageId ({@code "r:" + request
 * MessageId}) and the same answer, so the client keeps the first reply per CorrelationId and drops the
 * rest (or the reply queue's duplicate detection drops them).
 */
public final class ScoreClient {
    private static final int FEATURES = 30;
    /** Replies asked for per receive call: the SDK buffers what it is granted, so ask for a bounded number. */
    private static final int RECEIVE_BATCH = 100;

    private ScoreClient() {
    }

    /**
     * Sends the records and prints the replies.
     *
     * @param args records as JSON, or {@code -} to read one record per line from standard input; none
     *     sends {@link #demoRecord()}
     */
    public static void main(String[] args) throws IOException {
        List<String> records = records(args);
        String connection = require("SERVICEBUS_CONNECTION_STRING");
        String requests = require("NEARLINE_REQUEST_QUEUE");
        String replies = require("NEARLINE_REPLY_QUEUE");
        boolean sessions = !"false".equalsIgnoreCase(System.getenv("NEARLINE_REPLY_SESSIONS"));
        Duration timeout = Duration.ofMillis(Long.parseLong(env("NEARLINE_CLIENT_TIMEOUT_MS", "60000")));
        int answered = run(connection, requests, replies, sessions, records, timeout, System.out);
        System.exit(answered == records.size() ? 0 : 1);
    }

    /**
     * A record the deployed pipeline ({@code k8s/configmap-pipeline.yaml}) accepts: the 30 numeric
     * features {@code f0} to {@code f29} it reads, none of which has a default.
     */
    public static String demoRecord() {
        return IntStream.range(0, FEATURES)
                .mapToObj(i -> String.format(Locale.ROOT, "\"f%d\": %.2f", i, Math.sin(i + 1.0)))
                .collect(Collectors.joining(", ", "{", "}"));
    }

    private static List<String> records(String[] args) throws IOException {
        List<String> records = new ArrayList<>();
        if (args.length == 1 && args[0].equals("-")) {
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (!line.isBlank()) {
                    records.add(line.strip());
                }
            }
        } else {
            records.addAll(List.of(args));
        }
        if (records.isEmpty() && args.length == 0) {
            records.add(demoRecord());
        }
        return records;
    }

    /** Sends {@code records}, waits for their replies and prints them; returns how many were answered. */
    static int run(String connection, String requestQueue, String replyQueue, boolean sessions, List<String> records,
                   Duration timeout, PrintStream out) {
        String session = "client-" + UUID.randomUUID();
        Map<String, String> answers = new LinkedHashMap<>();
        List<String> ids = new ArrayList<>();
        ServiceBusClientBuilder clients = new ServiceBusClientBuilder().connectionString(connection);
        // Receive-and-delete: a reply is this client's alone and is used as soon as it is read, so there is
        // nothing to settle and no lock to renew.
        try (ServiceBusSenderClient sender = clients.sender().queueName(requestQueue).buildClient();
             ServiceBusReceiverClient receiver = sessions
                     ? clients.sessionReceiver().queueName(replyQueue).receiveMode(ServiceBusReceiveMode.RECEIVE_AND_DELETE)
                             .buildClient().acceptSession(session)
                     : clients.receiver().queueName(replyQueue).receiveMode(ServiceBusReceiveMode.RECEIVE_AND_DELETE)
                             .buildClient()) {
            if (!sessions) {
                // A queue of our own: whatever is in it now answers an earlier run. Drop it, which also
                // opens the reply link before the first reply can arrive.
                receiver.receiveMessages(RECEIVE_BATCH, Duration.ofSeconds(1)).forEach(m -> { });
            }
            long deadline = Instant.now().plus(timeout).toEpochMilli();
            for (String record : records) {
                String messageId = UUID.randomUUID().toString();
                ids.add(messageId);
                ServiceBusMessage request = new ServiceBusMessage(BinaryData.fromString(
                        "{\"record\": " + record + ", \"deadlineMs\": " + deadline + "}"))
                        .setMessageId(messageId)
                        .setReplyTo(replyQueue)
                        .setContentType("application/json")
                        .setTimeToLive(timeout);
                if (sessions) {
                    request.setReplyToSessionId(session);
                }
                sender.sendMessage(request);
            }
            awaitReplies(receiver, ids, answers, deadline);
        }
        for (String id : ids) {
            out.println(id + " " + answers.getOrDefault(id, "TIMEOUT no reply within " + timeout));
        }
        return answers.size();
    }

    /** Receives until every request in {@code ids} has a reply or the deadline passed. */
    private static void awaitReplies(ServiceBusReceiverClient receiver, List<String> ids, Map<String, String> answers,
                                     long deadlineMillis) {
        Set<String> sent = new HashSet<>(ids);
        while (answers.size() < ids.size() && System.currentTimeMillis() < deadlineMillis) {
            int wanted = Math.min(RECEIVE_BATCH, ids.size() - answers.size());
            for (ServiceBusReceivedMessage m : receiver.receiveMessages(wanted, Duration.ofSeconds(1))) {
                // a duplicate (same CorrelationId) of an answered request is dropped here
                String id = m.getCorrelationId();
                if (id != null && sent.contains(id)) {
                    answers.putIfAbsent(id, m.getApplicationProperties().get("nearline-status") + " " + m.getBody());
                }
            }
        }
    }

    private static String env(String name, String defaultValue) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? defaultValue : v;
    }

    private static String require(String name) {
        String v = System.getenv(name);
        if (v == null || v.isBlank()) {
            System.err.println(name + " is required");
            System.exit(2);
        }
        return v;
    }
}
