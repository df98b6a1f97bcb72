package dev.nearline.durable.internal;

import com.azure.core.util.BinaryData;
import com.azure.messaging.servicebus.ServiceBusClientBuilder;
import com.azure.messaging.servicebus.ServiceBusMessage;
import com.azure.messaging.servicebus.ServiceBusSenderClient;
import dev.nearline.core.internal.Redaction;
import dev.nearline.core.internal.wire.QueueReply;
import dev.nearline.durable.Reply;
import dev.nearline.durable.ReplySender;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Sends replies with the Azure Service Bus SDK: one connection (the builder's shared one) and one
 * sender per reply queue, created on first use. The Service Bus output binding of Functions cannot set
 * a message's {@code CorrelationId}, hence the SDK. Thread-safe.
 */
public final class ServiceBusReplySender implements ReplySender {
    private final ServiceBusClientBuilder builder;
    private final Map<String, ServiceBusSenderClient> senders = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /**
     * A sender on the namespace of {@code connectionString}; nothing connects until the first reply.
     *
     * @throws IllegalArgumentException when it is not a Service Bus connection string; the message names the
     *     missing or malformed part, never a value
     */
    public ServiceBusReplySender(String connectionString) {
        String problem = Redaction.connectionStringProblem(connectionString, List.of(
                List.of("Endpoint", "SharedAccessKeyName", "SharedAccessKey"), List.of("Endpoint", "SharedAccessSignature")));
        if (problem != null) {
            throw new IllegalArgumentException("the reply connection string is not a Service Bus connection string: "
                    + problem);
        }
        try {
            this.builder = new ServiceBusClientBuilder().connectionString(connectionString);
        } catch (IllegalArgumentException | NullPointerException e) {
            // The SDK's message can quote a part of the connection string.
            throw new IllegalArgumentException("the reply connection string was rejected by the Service Bus SDK ("
                    + e.getClass().getSimpleName() + ")");
        }
    }

    @Override
    public void send(Reply reply) {
        if (closed) {
            throw new IllegalStateException("reply sender is closed");
        }
        senders.computeIfAbsent(reply.to(), q -> builder.sender().queueName(q).buildClient()).sendMessage(toMessage(reply));
    }

    /** The Service Bus message of {@code reply}, as the queue wire format ({@link QueueReply}) has it. */
    public static ServiceBusMessage toMessage(Reply reply) {
        ServiceBusMessage m = new ServiceBusMessage(BinaryData.fromString(reply.body()));
        m.setMessageId(reply.messageId());
        m.setCorrelationId(reply.correlationId());
        m.setContentType(QueueReply.CONTENT_TYPE);
        m.setSubject(QueueReply.SUBJECT);
        m.getApplicationProperties().putAll(reply.properties());
        return m;
    }

    @Override
    public void close() {
        closed = true;
        for (ServiceBusSenderClient s : senders.values()) {
            s.close();
        }
        senders.clear();
    }
}
