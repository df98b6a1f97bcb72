package dev.nearline.keda.standin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.qpid.proton.Proton;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Source;
import org.apache.qpid.proton.amqp.messaging.Target;
import org.apache.qpid.proton.engine.BaseHandler;
import org.apache.qpid.proton.engine.Connection;
import org.apache.qpid.proton.engine.Delivery;
import org.apache.qpid.proton.engine.Event;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.engine.Sender;
import org.apache.qpid.proton.engine.Session;
import org.apache.qpid.proton.message.Message;
import org.apache.qpid.proton.reactor.Reactor;

/**
 * Answers the SDK's claims-based-security requests: every {@code put-token} request that the broker
 * diverts from {@code $cbs} to {@code $cbs-intercept} gets a {@code status-code: 200} reply on
 * {@code $cbs}, correlated by the request's message id. Tokens are not checked: the stand-in has no
 * security. Runs a proton-j reactor on its own daemon thread; {@link #close()} stops it.
 */
final class CbsResponder implements AutoCloseable {
    private static final int CREDIT = 100;

    private final Thread thread;
    private final CountDownLatch linked = new CountDownLatch(2);
    private final Reactor reactor;
    private volatile boolean stopping;
    private volatile Connection connection;

    private CbsResponder(String host, int port) throws IOException {
        this.reactor = Proton.reactor(new Handler(host, port));
        this.thread = new Thread(reactor::run, "cbs-responder");
        this.thread.setDaemon(true);
    }

    /** Connects to the broker at {@code host:port} and waits until both links are attached. */
    static CbsResponder start(String host, int port) throws IOException, InterruptedException {
        CbsResponder r = new CbsResponder(host, port);
        r.thread.start();
        if (!r.linked.await(10, TimeUnit.SECONDS)) {
            r.close();
            throw new IllegalStateException("CBS responder could not attach to the broker at " + host + ":" + port);
        }
        return r;
    }

    @Override
    public void close() {
        stopping = true;
        reactor.wakeup();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private final class Handler extends BaseHandler {
        private final String host;
        private final int port;
        private Sender replies;
        private long tag;

        Handler(String host, int port) {
            this.host = host;
            this.port = port;
        }

        @Override
        public void onReactorInit(Event e) {
            Connection c = e.getReactor().connectionToHost(host, port, this);
            connection = c;
            c.setContainer("nearline-cbs-responder");
            c.open();
            Session s = c.session();
            s.open();
            Receiver requests = s.receiver("cbs-requests");
            Source source = new Source();
            source.setAddress(ServiceBusStandIn.CBS_INTERCEPT);
            requests.setSource(source);
            requests.open();
            requests.flow(CREDIT);
            replies = s.sender("cbs-replies");
            Target target = new Target();
            target.setAddress(ServiceBusStandIn.CBS);
            replies.setTarget(target);
            replies.open();
        }

        @Override
        public void onLinkRemoteOpen(Event e) {
            linked.countDown();
        }

        @Override
        public void onReactorQuiesced(Event e) {
            if (stopping && connection != null) {
                connection.close();
                connection = null;
                e.getReactor().stop();
            }
        }

        @Override
        public void onDelivery(Event e) {
            Delivery d = e.getDelivery();
            if (!(d.getLink() instanceof Receiver) || !d.isReadable() || d.isPartial()) {
                return;
            }
            Receiver requests = (Receiver) d.getLink();
            byte[] buffer = new byte[d.pending()];
            int read = requests.recv(buffer, 0, buffer.length);
            requests.advance();
            Message request = Message.Factory.create();
            request.decode(buffer, 0, read);

            Message reply = Message.Factory.create();
            reply.setCorrelationId(request.getMessageId());
            reply.setApplicationProperties(new ApplicationProperties(Map.of("status-code", 200,
                    "status-description", "OK")));
            byte[] out = new byte[1024];
            int length = reply.encode(out, 0, out.length);
            Delivery sent = replies.delivery(Long.toString(tag++).getBytes(StandardCharsets.US_ASCII));
            replies.send(out, 0, length);
            replies.advance();
            sent.settle();

            d.disposition(Accepted.getInstance());
            d.settle();
            requests.flow(1);
        }
    }
}
