package dev.nearline.keda;

import com.azure.core.util.BinaryData;
import com.azure.messaging.servicebus.ServiceBusClientBuilder;
import com.azure.messaging.servicebus.ServiceBusMessage;
import com.azure.messaging.servicebus.ServiceBusReceivedMessage;
import com.azure.messaging.servicebus.ServiceBusReceiverClient;
import com.azure.messaging.servicebus.ServiceBusSenderAsyncClient;
import com.azure.messaging.servicebus.models.ServiceBusReceiveMode;
import com.azure.messaging.servicebus.models.SubQueue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import reactor.core.publisher.Flux;

/**
 * The client side of the tests, on the real Service Bus SDK: sends requests (one message per send, since
 * the stand-in cannot unpack batches) and reads replies and dead letters. Closes its clients.
 */
final class Requester implements AutoCloseable {
    static final Duration TTL = Duration.ofMinutes(10);

    private final ServiceBusClientBuilder clients;
    private final String requestQueue;
    private final String replyQueue;
    private final ServiceBusSenderAsyncClient sender;
    private final ServiceBusReceiverClient replies;

    Requester(String connectionString, String requestQueue, String replyQueue) {
        this.clients = new ServiceBusClientBuilder().connectionString(connectionString);
        this.requestQueue = requestQueue;
        this.replyQueue = replyQueue;
        this.sender = clients.sender().queueName(requestQueue).buildAsyncClient();
        // Authorize both links now, before a worker opens its own connection (see ServiceBusStandIn).
        this.sender.createMessageBatch().block(Duration.ofSeconds(30));
        this.replies = clients.receiver().queueName(replyQueue).receiveMode(ServiceBusReceiveMode.RECEIVE_AND_DELETE)
                .buildClient();
        // also drops replies a previous run left behind (on a real namespace)
        this.replies.receiveMessages(500, Duration.ofMillis(500)).forEach(m -> { });
    }

    /** A request message with the worker's envelope around {@code recordJson}. */
    ServiceBusMessage request(String messageId, String recordJson) {
        return raw(messageId, "{\"record\":" + recordJson + "}");
    }

    /** A request message with exactly {@code body}. */
    ServiceBusMessage raw(String messageId, String body) {
        ServiceBusMessage m = new ServiceBusMessage(BinaryData.fromString(body)).setContentType("application/json")
                .setReplyTo(replyQueue).setTimeToLive(TTL);
        if (messageId != null) {
            m.setMessageId(messageId);
        }
        return m;
    }

    /** Sends every message, up to 64 sends at a time, and waits for the broker to accept them. */
    void send(List<ServiceBusMessage> messages) {
        Flux.fromIterable(messages).flatMap(sender::sendMessage, 64).then().block(Duration.ofMinutes(5));
    }

    void send(ServiceBusMessage message) {
        send(List.of(message));
    }

    /** Receives (and deletes) replies until {@code count} arrived or {@code timeout} passed. */
    List<ServiceBusReceivedMessage> replies(int count, Duration timeout) {
        List<ServiceBusReceivedMessage> out = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (out.size() < count && System.nanoTime() < deadline) {
            long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
            replies.receiveMessages(Math.min(500, count - out.size()), Duration.ofMillis(Math.min(left, 1000)))
                    .forEach(out::add);
        }
        return out;
    }

    /** Receives (and deletes) dead-lettered requests until {@code count} arrived or {@code timeout} passed. */
    List<ServiceBusReceivedMessage> deadLetters(int count, Duration timeout) {
        List<ServiceBusReceivedMessage> out = new ArrayList<>();
        try (ServiceBusReceiverClient dlq = clients.receiver().queueName(requestQueue).subQueue(SubQueue.DEAD_LETTER_QUEUE)
                .receiveMode(ServiceBusReceiveMode.RECEIVE_AND_DELETE).buildClient()) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (out.size() < count && System.nanoTime() < deadline) {
                dlq.receiveMessages(count - out.size(), Duration.ofMillis(500)).forEach(out::add);
            }
        }
        return out;
    }

    @Override
    public void close() {
        sender.close();
        replies.close();
    }
}
