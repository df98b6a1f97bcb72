package dev.nearline.examples.keda;

import com.azure.core.util.BinaryData;
import com.azure.messaging.servicebus.ServiceBusClientBuilder;
import com.azure.messaging.servicebus.ServiceBusMessage;
import com.azure.messaging.servicebus.ServiceBusReceivedMessage;
import com.azure.messaging.servicebus.ServiceBusReceiverClient;
import com.azure.messaging.servicebus.ServiceBusSenderClient;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * Sends one scoring request to the worker's queue and waits for its reply: the request/reply pattern
 * of the queue worker, client side.
 *
 * <pre>
 * SERVICEBUS_CONNECTION_STRING=... NEARLINE_REQUEST_QUEUE=scoring-requests NEARLINE_REPLY_QUEUE=scoring-replies \
 *   java -cp worker.jar dev.nearline.examples.keda.ScoreClient '{"f0": 0.5, "f1": -1.2}'
 * </pre>
 *
 * <p>The reply queue is session-enabled: every client takes its own session (ReplyToSessionId), so many
 * clients share one reply queue and each receives only its own replies. Requests carry a MessageId; the
 * reply's CorrelationId is that MessageId. Delivery is at-least-once: after a worker crash a request may be
 * scored twice and answered twice, with the same reply MessageId ({@code "r:" + request MessageId}) and
 * the same answer, so the client keeps the first reply per CorrelationId and drops the rest (or the reply
 * queue's duplicate detection drops them).
 */
public final class ScoreClient {
    private ScoreClient() {
    }

    /**
     * Sends {@code args[0]} (a record as JSON) and prints the reply.
     *
     * @param args {@code [recordJson]}
     */
    public static void main(String[] args) {
        String record = args.length > 0 ? args[0] : "{\"f0\": 0.5, \"f1\": -1.2}";
        String connection = require("SERVICEBUS_CONNECTION_STRING");
        String requests = require("NEARLINE_REQUEST_QUEUE");
        String replies = require("NEARLINE_REPLY_QUEUE");
        String session = "client-" + UUID.randomUUID();
        String messageId = UUID.randomUUID().toString();
        Duration timeout = Duration.ofSeconds(30);

        ServiceBusClientBuilder clients = new ServiceBusClientBuilder().connectionString(connection);
        try (ServiceBusSenderClient sender = clients.sender().queueName(requests).buildClient();
             ServiceBusReceiverClient receiver = clients.sessionReceiver().queueName(replies).disableAutoComplete()
                     .buildClient().acceptSession(session)) {
            long deadline = Instant.now().plus(timeout).toEpochMilli();
            sender.sendMessage(new ServiceBusMessage(BinaryData.fromString(
                    "{\"record\": " + record + ", \"deadlineMs\": " + deadline + "}"))
                    .setMessageId(messageId)
                    .setReplyTo(replies)
                    .setReplyToSessionId(session)
                    .setContentType("application/json")
                    .setTimeToLive(timeout));
            ServiceBusReceivedMessage reply = awaitReply(receiver, messageId, timeout);
            System.out.println(reply == null ? "no reply within " + timeout
                    : reply.getApplicationProperties().get("nearline-status") + " " + reply.getBody());
        }
    }

    /** Receives from this client's session until the reply correlated to {@code messageId} arrives. */
    private static ServiceBusReceivedMessage awaitReply(ServiceBusReceiverClient receiver, String messageId,
                                                        Duration timeout) {
        Instant end = Instant.now().plus(timeout);
        while (Instant.now().isBefore(end)) {
            for (ServiceBusReceivedMessage m : receiver.receiveMessages(10, Duration.ofSeconds(1))) {
                receiver.complete(m); // a duplicate (same CorrelationId) of an answered request is dropped here
                if (Objects.equals(m.getCorrelationId(), messageId)) {
                    return m;
                }
            }
        }
        return null;
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
