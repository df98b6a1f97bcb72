package dev.nearline.keda.standin;

import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.activemq.artemis.core.server.plugin.ActiveMQServerConnectionPlugin;
import org.apache.activemq.artemis.protocol.amqp.broker.ActiveMQProtonRemotingConnection;
import org.apache.activemq.artemis.protocol.amqp.proton.handler.EventHandler;
import org.apache.activemq.artemis.protocol.amqp.proton.handler.ProtonHandler;
import org.apache.activemq.artemis.spi.core.protocol.RemotingConnection;
import org.apache.qpid.proton.amqp.UnsignedLong;
import org.apache.qpid.proton.amqp.messaging.Modified;
import org.apache.qpid.proton.engine.Delivery;
import org.apache.qpid.proton.engine.Link;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.engine.Sender;
import org.apache.qpid.proton.engine.Session;

/**
 * A broker plugin that makes stock Artemis AMQP behave the way the Azure Service Bus SDK expects, on
 * every AMQP connection:
 * <ul>
 *   <li>links into the broker advertise a maximum message size (the SDK computes a send limit of 0 bytes
 *       without one);</li>
 *   <li>delivery tags are 16 unique bytes, because the SDK reads them as lock tokens (Artemis' 1-8 byte
 *       tags all map to the same token and settlements collide);</li>
 *   <li>the broker echoes the client's outcome when it settles (the SDK waits for that);</li>
 *   <li>an abandon ({@code Modified} without {@code delivery-failed}) counts as a failed delivery, as on
 *       Service Bus, so that the maximum delivery count dead-letters a message.</li>
 * </ul>
 * It reaches into Artemis internals ({@code ProtonHandler.handlers}, {@code AMQPSessionContext.tagCache},
 * {@code AmqpTransferTagGenerator.tagPool}) that were checked on Artemis 2.44.0 only: keep the version pinned.
 */
final class ServiceBusShims implements ActiveMQServerConnectionPlugin {
    /** What Service Bus Standard allows per message. */
    static final UnsignedLong MAX_MESSAGE_SIZE = UnsignedLong.valueOf(256 * 1024);

    @Override
    public void afterCreateConnection(RemotingConnection connection) {
        if (!(connection instanceof ActiveMQProtonRemotingConnection)) {
            return;
        }
        ProtonHandler handler = ((ActiveMQProtonRemotingConnection) connection).getAmqpConnection().getHandler();
        handlersOf(handler).add(0, new CountAbandonAsFailure());
        handler.addEventHandler(new SdkExpectations());
    }

    @SuppressWarnings("unchecked")
    private static List<EventHandler> handlersOf(ProtonHandler handler) {
        try {
            Field f = ProtonHandler.class.getDeclaredField("handlers");
            f.setAccessible(true);
            return (List<EventHandler>) f.get(handler);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("Artemis internals changed (ProtonHandler.handlers); the stand-in is "
                    + "written for Artemis 2.44.0", e);
        }
    }

    /** Runs before Artemis' own handler, so that Artemis sees the abandon as a failed delivery. */
    private static final class CountAbandonAsFailure implements EventHandler {
        @Override
        public void onDelivery(Delivery delivery) {
            if (delivery.getLink() instanceof Sender && delivery.getRemoteState() instanceof Modified) {
                Modified modified = (Modified) delivery.getRemoteState();
                if (modified.getDeliveryFailed() == null) {
                    modified.setDeliveryFailed(true);
                }
            }
        }
    }

    /** Message size on attach, unique lock tokens per session, outcome echo. */
    private static final class SdkExpectations implements EventHandler {
        @Override
        public void onRemoteOpen(Link link) {
            if (link instanceof Receiver) {
                link.setMaxMessageSize(MAX_MESSAGE_SIZE);
            }
        }

        @Override
        public void onLocalOpen(Link link) {
            if (link instanceof Receiver) {
                link.setMaxMessageSize(MAX_MESSAGE_SIZE);
            }
        }

        @Override
        public void onRemoteOpen(Session session) throws Exception {
            Object context = session.getContext();
            if (context == null) {
                return;
            }
            Field cache = findField(context.getClass(), "tagCache");
            Object generator = cache.get(context);
            Field pool = findField(generator.getClass(), "tagPool");
            pool.set(generator, new LockTokenTags());
        }

        @Override
        public void onDelivery(Delivery delivery) {
            if (delivery.getLink() instanceof Sender && delivery.getRemoteState() != null
                    && delivery.getLocalState() == null) {
                delivery.disposition(delivery.getRemoteState());
            }
        }

        private static Field findField(Class<?> type, String name) throws NoSuchFieldException {
            for (Class<?> c = type; c != null; c = c.getSuperclass()) {
                try {
                    Field f = c.getDeclaredField(name);
                    f.setAccessible(true);
                    return f;
                } catch (NoSuchFieldException e) {
                    // look in the superclass
                }
            }
            throw new NoSuchFieldException(type.getName() + "." + name + " (Artemis internals changed?)");
        }
    }

    /**
     * Stands in for the tag generator's pool: every poll yields a new unique 16-byte tag (a random
     * per-process prefix and a counter) and returned tags are dropped. Artemis calls only
     * {@code pollFirst}, {@code size} and {@code offerLast} on it.
     */
    private static final class LockTokenTags extends ArrayDeque<byte[]> {
        private static final long serialVersionUID = 1L;
        private static final long PREFIX = ThreadLocalRandom.current().nextLong();
        private static final AtomicLong COUNTER = new AtomicLong();

        @Override
        public byte[] pollFirst() {
            return ByteBuffer.allocate(16).putLong(PREFIX).putLong(COUNTER.incrementAndGet()).array();
        }

        @Override
        public int size() {
            return Integer.MAX_VALUE; // "full": Artemis never hands a tag back
        }

        @Override
        public boolean offerLast(byte[] tag) {
            return false;
        }
    }
}
