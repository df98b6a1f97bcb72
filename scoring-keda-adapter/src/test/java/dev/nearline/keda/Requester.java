package dev.nearline.keda;

import com.azure.core.amqp.AmqpRetryOptions;
import com.azure.core.util.BinaryData;
import com.azure.messaging.servicebus.ServiceBusClientBuilder;
import com.azure.messaging.servicebus.ServiceBusMessage;
import com.azure.messaging.servicebus.ServiceBusReceivedMessage;
import com.azure.messaging.servicebus.ServiceBusReceiverAsyncClient;
import com.azure.messaging.servicebus.ServiceBusReceiverClient;
import com.azure.messaging.servicebus.ServiceBusSenderClient;
import com.azure.messaging.servicebus.ServiceBusSenderAsyncClient;
import com.azure.messaging.servicebus.models.ServiceBusReceiveMode;
import com.azure.messaging.servicebus.models.SubQueue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import reactor.core.Disposable;
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
    private final ServiceBusReceiverAsyncClient replyReceiver;
    private final Disposable replySubscription;
    private final LinkedBlockingQueue<ServiceBusReceivedMessage> arrived = new LinkedBlockingQueue<>();

    Requester(String connectionString, String requestQueue, String replyQueue) {
        this.requestQueue = requestQueue;
        this.replyQueue = replyQueue;
        // The stand-in answers every connection's token requests on one shared $cbs queue, so a link that
        // authorizes at the moment another connection's does (a transport of the previous test still
        // winding down) can lose its answer and wait for the SDK's timeout; seen in about one clean CI run
        // in three. So every attempt is bounded, and a failed one is retried on a fresh connection.
        Links links = null;
        for (int attempt = 1; links == null; attempt++) {
            try {
                links = open(connectionString);
            } catch (RuntimeException e) {
                if (attempt == 3) {
                    throw e;
                }
                arrived.clear();
            }
        }
        this.clients = links.clients;
        this.sender = links.sender;
        this.replyReceiver = links.replyReceiver;
        this.replySubscription = links.replySubscription;
    }

    /** The clients of one connection, each link proven to work. */
    private record Links(ServiceBusClientBuilder clients, ServiceBusSenderAsyncClient sender,
                         ServiceBusReceiverAsyncClient replyReceiver, Disposable replySubscription) {
    }

    private Links open(String connectionString) {
        ServiceBusClientBuilder clients = new ServiceBusClientBuilder().connectionString(connectionString)
                .retryOptions(new AmqpRetryOptions().setTryTimeout(Duration.ofSeconds(10)).setMaxRetries(1));
        ServiceBusSenderAsyncClient sender = clients.sender().queueName(requestQueue).buildAsyncClient();
        ServiceBusReceiverAsyncClient replyReceiver = null;
        Disposable subscription = null;
        try {
            sender.createMessageBatch().block(Duration.ofSeconds(25)); // opens and authorizes the send link
            // One subscription for the requester's life: with receive-and-delete, every reply the broker hands
            // over lands in this queue (a sync receive whose window closed could drop late ones).
            replyReceiver = clients.receiver().queueName(replyQueue).receiveMode(ServiceBusReceiveMode.RECEIVE_AND_DELETE)
                    .buildAsyncClient();
            subscription = replyReceiver.receiveMessages().subscribe(arrived::add);
            // Authorize the reply link now, before a worker opens its own connection (see ServiceBusStandIn):
            // a marker sent to the reply queue comes back only once the link is up. Also drops leftovers.
            String marker = "requester-ready-" + java.util.UUID.randomUUID();
            try (ServiceBusSenderClient probe = clients.sender().queueName(replyQueue).buildClient()) {
                probe.sendMessage(new ServiceBusMessage("ready").setMessageId(marker).setTimeToLive(TTL));
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(25).toNanos();
            while (true) {
                ServiceBusReceivedMessage m = arrived.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (m == null) {
                    throw new IllegalStateException("reply link to " + replyQueue + " did not come up");
                }
                if (marker.equals(m.getMessageId())) {
                    return new Links(clients, sender, replyReceiver, subscription);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close(subscription, replyReceiver, sender);
            throw new IllegalStateException(e);
        } catch (RuntimeException e) {
            close(subscription, replyReceiver, sender);
            throw e;
        }
    }

    private static void close(Disposable subscription, ServiceBusReceiverAsyncClient receiver,
                              ServiceBusSenderAsyncClient sender) {
        if (subscription != null) {
            subscription.dispose();
        }
        if (receiver != null) {
            receiver.close();
        }
        sender.close();
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

    /** Replies received so far and until {@code count} arrived or {@code timeout} passed (receive-and-delete). */
    List<ServiceBusReceivedMessage> replies(int count, Duration timeout) {
        List<ServiceBusReceivedMessage> out = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (out.size() < count) {
                ServiceBusReceivedMessage m = arrived.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (m == null) {
                    break;
                }
                out.add(m);
                arrived.drainTo(out, count - out.size());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out;
    }

    /** Receives (and deletes) dead-lettered requests until {@code count} arrived or {@code timeout} passed. */
    List<ServiceBusReceivedMessage> deadLetters(int count, Duration timeout) {
        List<ServiceBusReceivedMessage> out = new ArrayList<>();
        // peek-lock: a message delivered after a receive window closed stays locked to this link and goes
        // back to the queue when the link closes, instead of being lost
        try (ServiceBusReceiverClient dlq = clients.receiver().queueName(requestQueue).subQueue(SubQueue.DEAD_LETTER_QUEUE)
                .receiveMode(ServiceBusReceiveMode.PEEK_LOCK).disableAutoComplete().buildClient()) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (out.size() < count && System.nanoTime() < deadline) {
                dlq.receiveMessages(count - out.size(), Duration.ofMillis(500)).forEach(m -> {
                    dlq.complete(m);
                    out.add(m);
                });
            }
        }
        return out;
    }

    @Override
    public void close() {
        replySubscription.dispose();
        replyReceiver.close();
        sender.close();
    }
}
