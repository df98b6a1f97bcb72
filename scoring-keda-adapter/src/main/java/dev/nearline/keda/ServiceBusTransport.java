package dev.nearline.keda;

import com.azure.core.credential.TokenCredential;
import com.azure.core.util.BinaryData;
import com.azure.messaging.servicebus.ServiceBusClientBuilder;
import com.azure.messaging.servicebus.ServiceBusMessage;
import com.azure.messaging.servicebus.ServiceBusReceivedMessage;
import com.azure.messaging.servicebus.ServiceBusReceiverAsyncClient;
import com.azure.messaging.servicebus.ServiceBusSenderAsyncClient;
import com.azure.messaging.servicebus.models.DeadLetterOptions;
import com.azure.messaging.servicebus.models.ServiceBusReceiveMode;
import dev.nearline.core.internal.wire.Wire;
import dev.nearline.keda.internal.PullSubscriber;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Transport} on Azure Service Bus ({@code azure-messaging-servicebus}): peek-lock receive from a
 * queue or a topic subscription with bounded, pull-driven demand (prefetch 0 by default, because
 * prefetched messages sit locked while nobody renews them), settlement on the receiving link, explicit
 * lock renewal, and replies through one sender per reply entity. All clients share one AMQP connection.
 *
 * <p>Delivery counts and lock expiry are the service's: DeliveryCount is 1 on the first delivery,
 * LockedUntil is set by the service. Thread-safe; {@link #close()} abandons messages received but never
 * handed out, then closes the clients (the SDK's own close does not wait for settlements in flight:
 * {@link QueueWorker#shutdown()} drains first).
 */
public final class ServiceBusTransport implements Transport {
    private static final Logger log = LoggerFactory.getLogger(ServiceBusTransport.class);
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

    private final ServiceBusClientBuilder clients;
    private final ServiceBusReceiverAsyncClient receiver;
    private final String entity;
    /** What {@link #probe()} opens a sender link to: the queue, or the topic of the subscription. */
    private final String requestSendEntity;
    private final @Nullable Duration replyTimeToLive;
    private final Map<String, ServiceBusSenderAsyncClient> senders = new ConcurrentHashMap<>();
    private final Object subscribeLock = new Object();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile @Nullable PullSubscriber<ServiceBusReceivedMessage> subscriber;
    private volatile boolean probed;

    private ServiceBusTransport(Builder b) {
        this.clients = new ServiceBusClientBuilder();
        if (b.connectionString != null) {
            clients.connectionString(b.connectionString);
        } else {
            clients.fullyQualifiedNamespace(Objects.requireNonNull(b.namespace))
                    .credential(Objects.requireNonNull(b.credential));
        }
        ServiceBusClientBuilder.ServiceBusReceiverClientBuilder rb = clients.receiver()
                .receiveMode(ServiceBusReceiveMode.PEEK_LOCK)
                .disableAutoComplete()
                .maxAutoLockRenewDuration(Duration.ZERO) // the worker renews what it is actually scoring
                .prefetchCount(b.prefetch);
        if (b.queue != null) {
            rb.queueName(b.queue);
            entity = b.queue;
            requestSendEntity = b.queue;
        } else {
            rb.topicName(Objects.requireNonNull(b.topic)).subscriptionName(Objects.requireNonNull(b.subscription));
            entity = b.topic + "/subscriptions/" + b.subscription;
            requestSendEntity = b.topic;
        }
        this.receiver = rb.buildAsyncClient();
        this.replyTimeToLive = b.replyTimeToLive;
    }

    /** A builder: pick a credential and an entity, then {@link Builder#build()}. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public List<InboundMessage> receive(int maxMessages, Duration maxWait) throws InterruptedException {
        if (maxMessages < 1) {
            throw new IllegalArgumentException("maxMessages must be at least 1, got " + maxMessages);
        }
        PullSubscriber<ServiceBusReceivedMessage> s = subscriber();
        List<ServiceBusReceivedMessage> got = s.pull(maxMessages, maxWait);
        Throwable error = s.error();
        if (got.isEmpty() && error != null) {
            synchronized (subscribeLock) {
                if (subscriber == s) {
                    subscriber = null; // the next call subscribes again
                }
            }
            throw new IllegalStateException("receiving from '" + entity + "' failed: " + error, error);
        }
        List<InboundMessage> out = new ArrayList<>(got.size());
        for (ServiceBusReceivedMessage m : got) {
            out.add(toInbound(m));
        }
        return out;
    }

    @Override
    public CompletableFuture<Void> reply(Reply reply) {
        if (closed.get()) {
            return closedFuture();
        }
        ServiceBusMessage m = new ServiceBusMessage(BinaryData.fromBytes(reply.body()))
                .setMessageId(reply.messageId())
                .setCorrelationId(reply.correlationId())
                .setContentType(Reply.CONTENT_TYPE)
                .setSubject(Reply.SUBJECT);
        if (reply.sessionId() != null) {
            m.setSessionId(reply.sessionId());
        }
        if (replyTimeToLive != null) {
            m.setTimeToLive(replyTimeToLive);
        }
        m.getApplicationProperties().putAll(reply.properties());
        try {
            return sender(reply.to()).sendMessage(m).toFuture();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public CompletableFuture<Void> complete(InboundMessage message) {
        return settle(() -> receiver.complete(native_(message)).toFuture());
    }

    @Override
    public CompletableFuture<Void> abandon(InboundMessage message) {
        return settle(() -> receiver.abandon(native_(message)).toFuture());
    }

    @Override
    public CompletableFuture<Void> deadLetter(InboundMessage message, String reason, String description) {
        DeadLetterOptions options = new DeadLetterOptions().setDeadLetterReason(reason)
                .setDeadLetterErrorDescription(Wire.errorDescription(description));
        return settle(() -> receiver.deadLetter(native_(message), options).toFuture());
    }

    @Override
    public CompletableFuture<Instant> renewLock(InboundMessage message) {
        if (closed.get()) {
            return closedFuture();
        }
        try {
            return receiver.renewMessageLock(native_(message)).map(OffsetDateTime::toInstant).toFuture();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * Proves the connection, the credential and the request entity: asks the request entity's sender link
     * for its maximum message size. While the connection is up that is answered locally from the open link;
     * once it is down, the SDK has to reconnect and attach the link again, which fails or hangs until the
     * broker is back. The credential therefore needs Send on the request entity, not only Listen.
     */
    @Override
    public CompletableFuture<Void> probe() {
        if (closed.get()) {
            return closedFuture();
        }
        try {
            return sender(requestSendEntity).createMessageBatch().toFuture().thenAccept(batch -> {
                if (!probed) {
                    probed = true;
                    log.info("connected to Service Bus entity '{}'", entity);
                }
            });
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public boolean isConnected() {
        PullSubscriber<ServiceBusReceivedMessage> s = subscriber;
        return probed && !closed.get() && (s == null || s.error() == null);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        PullSubscriber<ServiceBusReceivedMessage> s;
        synchronized (subscribeLock) {
            s = subscriber;
            subscriber = null;
        }
        if (s != null) {
            List<CompletableFuture<Void>> released = new ArrayList<>();
            for (ServiceBusReceivedMessage m : s.drainUnclaimed()) {
                released.add(receiver.abandon(m).toFuture());
            }
            try {
                CompletableFuture.allOf(released.toArray(new CompletableFuture<?>[0]))
                        .get(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                log.warn("releasing {} unclaimed messages from '{}' failed; they are redelivered when their locks "
                        + "expire: {}", released.size(), entity, e.toString());
            }
            s.dispose();
        }
        for (ServiceBusSenderAsyncClient sender : senders.values()) {
            closeQuietly(sender::close);
        }
        closeQuietly(receiver::close);
    }

    @Override
    public String toString() {
        return "ServiceBusTransport[" + entity + "]";
    }

    private PullSubscriber<ServiceBusReceivedMessage> subscriber() {
        PullSubscriber<ServiceBusReceivedMessage> s = subscriber;
        if (s != null) {
            return s;
        }
        synchronized (subscribeLock) {
            if (closed.get()) {
                throw new IllegalStateException("transport for '" + entity + "' is closed");
            }
            if (subscriber == null) {
                PullSubscriber<ServiceBusReceivedMessage> fresh = new PullSubscriber<>();
                receiver.receiveMessages().subscribe(fresh);
                subscriber = fresh;
            }
            return Objects.requireNonNull(subscriber);
        }
    }

    private ServiceBusSenderAsyncClient sender(String to) {
        return senders.computeIfAbsent(to, name -> clients.sender().queueName(name).buildAsyncClient());
    }

    private <T> CompletableFuture<T> closedFuture() {
        return CompletableFuture.failedFuture(new IllegalStateException("transport for '" + entity + "' is closed"));
    }

    private CompletableFuture<Void> settle(java.util.function.Supplier<CompletableFuture<Void>> call) {
        if (closed.get()) {
            return closedFuture();
        }
        try {
            return call.get();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static ServiceBusReceivedMessage native_(InboundMessage m) {
        if (!(m.handle() instanceof ServiceBusReceivedMessage)) {
            throw new IllegalArgumentException("message " + m.messageId() + " was not received by a ServiceBusTransport");
        }
        return (ServiceBusReceivedMessage) m.handle();
    }

    private static InboundMessage toInbound(ServiceBusReceivedMessage m) {
        Map<String, String> props = new HashMap<>();
        m.getApplicationProperties().forEach((k, v) -> {
            if (k != null && v != null) {
                props.put(k, v.toString());
            }
        });
        OffsetDateTime enqueued = m.getEnqueuedTime();
        OffsetDateTime lockedUntil = m.getLockedUntil();
        String id = m.getMessageId();
        return new InboundMessage(id == null ? "" : id, m.getReplyTo(), m.getReplyToSessionId(), m.getBody().toBytes(),
                m.getDeliveryCount(), enqueued == null ? null : enqueued.toInstant(),
                lockedUntil == null ? null : lockedUntil.toInstant(), props, m);
    }

    private void closeQuietly(Runnable close) {
        try {
            close.run();
        } catch (RuntimeException e) {
            log.debug("closing a client of '{}' failed: {}", entity, e.toString());
        }
    }

    /**
     * Options of a {@link ServiceBusTransport}: exactly one of {@link #connectionString} and
     * {@link #namespace}, exactly one of {@link #queue} and {@link #subscription}. Not thread-safe.
     */
    public static final class Builder {
        private @Nullable String connectionString;
        private @Nullable String namespace;
        private @Nullable TokenCredential credential;
        private @Nullable String queue;
        private @Nullable String topic;
        private @Nullable String subscription;
        private int prefetch;
        private @Nullable Duration replyTimeToLive;

        private Builder() {
        }

        /** Authenticates with a connection string (a SAS key with Listen and Send rights). */
        public Builder connectionString(String connectionString) {
            requireNoCredential();
            this.connectionString = Objects.requireNonNull(connectionString, "connectionString");
            return this;
        }

        /**
         * Authenticates with a token credential (in AKS: workload identity through
         * {@code DefaultAzureCredential}) against {@code fullyQualifiedNamespace}, such as
         * {@code my-ns.servicebus.windows.net}.
         */
        public Builder namespace(String fullyQualifiedNamespace, TokenCredential credential) {
            requireNoCredential();
            this.namespace = Objects.requireNonNull(fullyQualifiedNamespace, "fullyQualifiedNamespace");
            this.credential = Objects.requireNonNull(credential, "credential");
            return this;
        }

        /** Receives requests from a queue. */
        public Builder queue(String name) {
            requireNoEntity();
            this.queue = Objects.requireNonNull(name, "name");
            return this;
        }

        /** Receives requests from a topic subscription. */
        public Builder subscription(String topic, String subscription) {
            requireNoEntity();
            this.topic = Objects.requireNonNull(topic, "topic");
            this.subscription = Objects.requireNonNull(subscription, "subscription");
            return this;
        }

        /**
         * Messages the client may lock ahead of demand. Default 0: prefetched messages hold locks that
         * nobody renews (azure-sdk-for-java #25203).
         */
        public Builder prefetch(int messages) {
            if (messages < 0) {
                throw new IllegalArgumentException("prefetch must not be negative, got " + messages);
            }
            this.prefetch = messages;
            return this;
        }

        /** Time-to-live of replies; default: the reply entity's default. */
        public Builder replyTimeToLive(Duration ttl) {
            if (ttl.isNegative() || ttl.isZero()) {
                throw new IllegalArgumentException("replyTimeToLive must be positive, got " + ttl);
            }
            this.replyTimeToLive = ttl;
            return this;
        }

        /**
         * Creates the transport; it connects on the first receive.
         *
         * @throws IllegalStateException if no credential or no entity was given
         */
        public ServiceBusTransport build() {
            if (connectionString == null && namespace == null) {
                throw new IllegalStateException("set connectionString(...) or namespace(...)");
            }
            if (queue == null && topic == null) {
                throw new IllegalStateException("set queue(...) or subscription(...)");
            }
            return new ServiceBusTransport(this);
        }

        private void requireNoCredential() {
            if (connectionString != null || namespace != null) {
                throw new IllegalStateException("the credential was already set");
            }
        }

        private void requireNoEntity() {
            if (queue != null || topic != null) {
                throw new IllegalStateException("the request entity was already set");
            }
        }
    }
}
