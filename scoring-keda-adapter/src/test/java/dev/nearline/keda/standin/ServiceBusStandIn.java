package dev.nearline.keda.standin;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.activemq.artemis.api.core.QueueConfiguration;
import org.apache.activemq.artemis.api.core.RoutingType;
import org.apache.activemq.artemis.api.core.SimpleString;
import org.apache.activemq.artemis.core.config.Configuration;
import org.apache.activemq.artemis.core.config.DivertConfiguration;
import org.apache.activemq.artemis.core.config.impl.ConfigurationImpl;
import org.apache.activemq.artemis.core.server.ComponentConfigurationRoutingType;
import org.apache.activemq.artemis.core.server.JournalType;
import org.apache.activemq.artemis.core.server.embedded.EmbeddedActiveMQ;
import org.apache.activemq.artemis.core.settings.impl.AddressSettings;

/**
 * An Azure Service Bus stand-in for tests: an embedded ActiveMQ Artemis broker (AMQP 1.0 on a free
 * loopback port) that the real {@code azure-messaging-servicebus} SDK can use through
 * {@link #connectionString()}, with a claims-based-security responder and the {@link ServiceBusShims}
 * broker plugin.
 *
 * <p>What works: send (one message per call), peek-lock receive, complete, abandon (counts a delivery),
 * dead-letter into {@code <queue>/$deadletterqueue}, max delivery count to the dead-letter queue.
 * What does not, so tests must not rely on it: batched sends ({@code sendMessages}), sessions, lock
 * renewal and every other {@code $management} operation, dead-letter reason fields (null here), lock
 * expiry ({@code LockedUntil} is null), duplicate detection. Delivery counts start at 0, not 1 as on Azure:
 * give a queue one more delivery attempt than the worker's {@code maxDeliveryCount} to line the two up.
 * Messages need a time-to-live (the SDK's receive path needs the AMQP header that a TTL brings).
 *
 * <p>Token replies go to {@code $cbs}, one anycast queue that every SDK connection listens on, so two
 * connections that authorize links at the same moment can take each other's reply; the loser waits for its
 * CBS timeout. Tests therefore open one connection's links before starting the next (the {@code Requester}
 * authorizes all of its links up front). Giving each connection a private reply address needs a rewrite
 * of the SDK's link attach inside Artemis, which was tried and did not work with the SDK.
 */
public final class ServiceBusStandIn implements AutoCloseable {
    static final String CBS = "$cbs";
    static final String CBS_INTERCEPT = "$cbs-intercept";
    private static final String HOST = "127.0.0.1";

    private final EmbeddedActiveMQ broker;
    private final CbsResponder cbs;
    private final int port;

    private ServiceBusStandIn(EmbeddedActiveMQ broker, CbsResponder cbs, int port) {
        this.broker = broker;
        this.cbs = cbs;
        this.port = port;
    }

    /** A builder: declare the queues, then {@link Builder#start()}. */
    public static Builder builder() {
        return new Builder();
    }

    /** The dead-letter queue of {@code queue}, as the SDK names it for {@code SubQueue.DEAD_LETTER_QUEUE}. */
    public static String deadLetterQueue(String queue) {
        return queue + "/$deadletterqueue";
    }

    /** A connection string for the SDK (plain AMQP, no TLS, any key). */
    public String connectionString() {
        return "Endpoint=sb://" + HOST + ":" + port + ";SharedAccessKeyName=standin;SharedAccessKey=unused;"
                + "UseDevelopmentEmulator=true";
    }

    /** The broker's AMQP port. */
    public int port() {
        return port;
    }

    /** Messages waiting in {@code queue} (not counting those delivered and unsettled). */
    public long messageCount(String queue) {
        org.apache.activemq.artemis.core.server.Queue q = broker.getActiveMQServer().locateQueue(SimpleString.of(queue));
        if (q == null) {
            throw new IllegalArgumentException("no queue '" + queue + "'");
        }
        return q.getMessageCount();
    }

    /** Messages delivered to consumers of {@code queue} and not yet settled. */
    public long deliveringCount(String queue) {
        org.apache.activemq.artemis.core.server.Queue q = broker.getActiveMQServer().locateQueue(SimpleString.of(queue));
        if (q == null) {
            throw new IllegalArgumentException("no queue '" + queue + "'");
        }
        return q.getDeliveringCount();
    }

    @Override
    public void close() {
        try {
            cbs.close();
        } finally {
            try {
                broker.stop();
            } catch (Exception e) {
                throw new IllegalStateException("stopping the embedded broker failed", e);
            }
        }
    }

    /** Queues of a stand-in. Not thread-safe. */
    public static final class Builder {
        private final Map<String, Integer> queues = new LinkedHashMap<>();

        private Builder() {
        }

        /**
         * Declares a queue and its dead-letter queue; after {@code maxDeliveryAttempts} failed deliveries
         * (abandons) the broker moves a message to the dead-letter queue.
         */
        public Builder queue(String name, int maxDeliveryAttempts) {
            if (queues.putIfAbsent(name, maxDeliveryAttempts) != null) {
                throw new IllegalArgumentException("queue '" + name + "' declared twice");
            }
            return this;
        }

        /** Starts the broker and the CBS responder. */
        public ServiceBusStandIn start() throws Exception {
            int port = freePort();
            Configuration config = new ConfigurationImpl()
                    .setName("servicebus-standin")
                    .setPersistenceEnabled(false)
                    .setSecurityEnabled(false)
                    .setJournalType(JournalType.NIO)
                    .setJMXManagementEnabled(false)
                    .addAcceptorConfiguration("amqp", "tcp://" + HOST + ":" + port
                            + "?protocols=AMQP;saslMechanisms=ANONYMOUS,PLAIN");
            config.addAddressSetting("#", new AddressSettings().setAutoCreateQueues(false).setAutoCreateAddresses(false));
            List<String> names = new ArrayList<>(List.of(CBS, CBS_INTERCEPT));
            for (Map.Entry<String, Integer> q : queues.entrySet()) {
                String dlq = deadLetterQueue(q.getKey());
                config.addAddressSetting(q.getKey(), new AddressSettings()
                        .setAutoCreateQueues(false).setAutoCreateAddresses(false)
                        .setDeadLetterAddress(SimpleString.of(dlq))
                        .setMaxDeliveryAttempts(q.getValue())
                        .setRedeliveryDelay(0));
                names.add(q.getKey());
                names.add(dlq);
            }
            for (String name : names) {
                config.addQueueConfiguration(QueueConfiguration.of(name).setAddress(name)
                        .setRoutingType(RoutingType.ANYCAST));
            }
            // The SDK both sends put-token requests to $cbs and listens on $cbs for the answers: divert the
            // requests to a queue only the responder reads.
            config.addDivertConfiguration(new DivertConfiguration().setName("cbs-put-token").setAddress(CBS)
                    .setForwardingAddress(CBS_INTERCEPT).setExclusive(true).setFilterString("operation = 'put-token'")
                    .setRoutingType(ComponentConfigurationRoutingType.PASS));
            config.registerBrokerPlugin(new ServiceBusShims());
            EmbeddedActiveMQ broker = new EmbeddedActiveMQ().setConfiguration(config);
            broker.start();
            try {
                return new ServiceBusStandIn(broker, CbsResponder.start(HOST, port), port);
            } catch (Exception | Error e) {
                broker.stop();
                throw e;
            }
        }

        private static int freePort() throws IOException {
            try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName(HOST))) {
                return s.getLocalPort();
            }
        }
    }
}
