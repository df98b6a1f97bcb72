package dev.nearline.keda.standin;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP relay between the clients of a test and the {@link ServiceBusStandIn}, which the test can cut:
 * {@link #cut()} resets every relayed connection and, until {@link #restore()}, resets every new one as
 * soon as it is accepted, the way a broker restart or a network partition looks to a client. The broker
 * itself keeps running, so it keeps its messages (the stand-in is not persistent) and returns the ones
 * that the cut connections held locked to their queues. Clients that connect through
 * {@link #connectionString()} are cut; clients on the stand-in's own connection string are not. Its
 * threads are daemons; {@link #close()} stops them.
 */
public final class NetworkCut implements AutoCloseable {
    private final ServerSocket listener;
    private final int brokerPort;
    private final String brokerConnectionString;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger accepted = new AtomicInteger();
    private final Thread acceptor;
    private volatile boolean cut;
    private volatile boolean closed;

    private NetworkCut(ServerSocket listener, ServiceBusStandIn standIn) {
        this.listener = listener;
        this.brokerPort = standIn.port();
        this.brokerConnectionString = standIn.connectionString();
        this.acceptor = new Thread(this::accept, "network-cut-accept");
        this.acceptor.setDaemon(true);
    }

    /** A relay to {@code standIn}, listening on a free loopback port. */
    public static NetworkCut in(ServiceBusStandIn standIn) throws IOException {
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        NetworkCut relay = new NetworkCut(s, standIn);
        relay.acceptor.start();
        return relay;
    }

    /** The stand-in's connection string with the relay's port: clients using it can be cut off. */
    public String connectionString() {
        return brokerConnectionString.replace(":" + brokerPort + ";", ":" + listener.getLocalPort() + ";");
    }

    /** Connections accepted so far, cut ones included. */
    public int connectionsAccepted() {
        return accepted.get();
    }

    /** Resets every relayed connection and every later one until {@link #restore()}. */
    public void cut() {
        cut = true;
        for (Socket s : open) {
            reset(s);
        }
    }

    /** Relays new connections again. */
    public void restore() {
        cut = false;
    }

    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException e) {
            // closing anyway
        }
        for (Socket s : open) {
            reset(s);
        }
    }

    private void accept() {
        while (!closed) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            accepted.incrementAndGet();
            if (cut) {
                reset(client);
                continue;
            }
            Socket broker = new Socket();
            try {
                broker.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), brokerPort), 5_000);
            } catch (IOException e) {
                reset(client);
                reset(broker);
                continue;
            }
            open.add(client);
            open.add(broker);
            pump(client, broker, "network-cut-up");
            pump(broker, client, "network-cut-down");
            if (cut) { // cut while connecting: do not let this one through either
                reset(client);
                reset(broker);
            }
        }
    }

    private void pump(Socket from, Socket to, String name) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // reset or closed: take the other side down too
            } finally {
                reset(from);
                reset(to);
            }
        }, name);
        t.setDaemon(true);
        t.start();
    }

    /** Closes with a TCP reset rather than an orderly close, as a dropped connection looks. */
    private void reset(Socket s) {
        open.remove(s);
        try {
            if (!s.isClosed() && s.isConnected()) {
                s.setSoLinger(true, 0);
            }
        } catch (SocketException e) {
            // already gone
        }
        try {
            s.close();
        } catch (IOException e) {
            // already gone
        }
    }
}
