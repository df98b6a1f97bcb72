package dev.nearline.triton;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on 127.0.0.1 in front of a real server, for connection faults the server itself would not
 * produce: {@link #dropAll()} resets every connection at once (as a server restart or a load balancer
 * does), and {@link #refuse(boolean)} makes it reset each new connection right after accepting it. Two
 * pump threads per connection; everything stops on {@link #close()}.
 */
final class DroppingProxy implements AutoCloseable {
    private final ServerSocket server;
    private final int targetPort;
    private final Thread acceptor;
    private final List<Socket> sockets = new ArrayList<>();
    private final AtomicInteger accepted = new AtomicInteger();
    private volatile boolean refuse;
    private volatile boolean closed;

    DroppingProxy(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        this.acceptor = new Thread(this::acceptLoop, "test-proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** Connections accepted so far. */
    int accepted() {
        return accepted.get();
    }

    /** Whether new connections are reset as soon as they are accepted. */
    void refuse(boolean refuse) {
        this.refuse = refuse;
    }

    /** Resets every open connection, both sides. */
    void dropAll() {
        for (Socket s : takeAll()) {
            reset(s);
        }
    }

    /** Closes every open connection with a FIN, as a server does that closes an idle connection. */
    void closeAll() {
        for (Socket s : takeAll()) {
            try {
                s.close();
            } catch (IOException e) {
                // already closed
            }
        }
    }

    private List<Socket> takeAll() {
        synchronized (sockets) {
            List<Socket> all = new ArrayList<>(sockets);
            sockets.clear();
            return all;
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return;
            }
            accepted.incrementAndGet();
            if (refuse) {
                reset(client);
                continue;
            }
            Socket upstream;
            try {
                upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                upstream.setTcpNoDelay(true);
                client.setTcpNoDelay(true);
            } catch (IOException e) {
                reset(client);
                continue;
            }
            synchronized (sockets) {
                sockets.add(client);
                sockets.add(upstream);
            }
            pump(client, upstream);
            pump(upstream, client);
        }
    }

    private void pump(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16 << 10];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // a side closed or was reset: end both
            } finally {
                reset(from);
                reset(to);
            }
        }, "test-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void reset(Socket s) {
        try {
            s.setSoLinger(true, 0); // RST, not FIN: the peer learns at once
        } catch (IOException e) {
            // already closed
        }
        try {
            s.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            // ignore
        }
        dropAll();
        try {
            acceptor.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
