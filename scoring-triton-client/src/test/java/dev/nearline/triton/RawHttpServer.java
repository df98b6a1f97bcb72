package dev.nearline.triton;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A KServe v2 REST server written on raw sockets, for misbehaviour at the HTTP wire level that a real
 * HTTP server library will not produce: chunked or unframed floods, a Content-Length that lies, a body
 * that stalls, a status line that is not HTTP. It serves one JSON-only model {@value #MODEL} (input
 * {@code x} FP32 [-1, 2], output {@code score} FP32 [-1, 1]); metadata requests always answer properly,
 * inference requests answer as {@link #answer(Answer)} says. One thread per connection; counts what it
 * wrote and the connections it accepted.
 */
final class RawHttpServer implements AutoCloseable {
    static final String MODEL = "m";
    /** What the flood answers would send in all, unless the client hangs up first. */
    static final long FLOOD_BYTES = 96L << 20;
    private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*\"([^\"]*)\"");

    /** How an inference request is answered. */
    enum Answer {
        /** A correct answer: score 0.5 for the one row. */
        OK,
        /** 200, chunked, {@link #FLOOD_BYTES} of a JSON string that never ends. */
        CHUNKED_FLOOD,
        /** 200, no Content-Length, Connection: close, then {@link #FLOOD_BYTES}. */
        UNFRAMED_FLOOD,
        /** 200, Content-Length: 40, then {@link #FLOOD_BYTES} on the same connection. */
        LYING_LENGTH,
        /** 200, a Content-Length of 1 GiB (the body never comes). */
        HUGE_LENGTH,
        /** 200, headers and half the body, then nothing until the client hangs up or the server closes. */
        STALL_MID_BODY,
        /** 200, Content-Length for the whole body, half of it, then the connection closes. */
        TRUNCATED_THEN_CLOSE,
        /** A status line that is not HTTP. */
        BAD_STATUS_LINE,
        /** Closes the connection without a byte. */
        CLOSE_WITHOUT_ANSWER,
        /** A correct-looking answer with two rows for the one asked. */
        EXTRA_ROW,
        /** A 200 whose JSON is cut short, properly framed. */
        MALFORMED_JSON
    }

    private final ServerSocket server;
    private final Thread acceptor;
    private final List<Socket> sockets = new ArrayList<>();
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger inferRequests = new AtomicInteger();
    private final AtomicLong floodBytes = new AtomicLong();
    private volatile Answer answer = Answer.OK;
    private volatile CountDownLatch stall = new CountDownLatch(1);
    private volatile boolean closed;

    RawHttpServer() throws IOException {
        server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        acceptor = new Thread(this::acceptLoop, "raw-http-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    String url() {
        return "http://127.0.0.1:" + port();
    }

    void answer(Answer answer) {
        this.answer = answer;
    }

    /** Lets stalled answers end (they close their connection). */
    void releaseStalled() {
        CountDownLatch s = stall;
        stall = new CountDownLatch(1);
        s.countDown();
    }

    /** Body bytes written by flood answers so far. */
    long floodBytes() {
        return floodBytes.get();
    }

    /** Connections the server still serves (each ends when the client hangs up or the answer closes it). */
    int openConnections() {
        synchronized (sockets) {
            return sockets.size();
        }
    }

    int accepted() {
        return accepted.get();
    }

    int inferRequests() {
        return inferRequests.get();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                return;
            }
            accepted.incrementAndGet();
            synchronized (sockets) {
                sockets.add(s);
            }
            Thread t = new Thread(() -> serve(s), "raw-http-conn");
            t.setDaemon(true);
            t.start();
        }
    }

    private void serve(Socket s) {
        try (s; InputStream in = new BufferedInputStream(s.getInputStream()); OutputStream out = s.getOutputStream()) {
            while (!closed) {
                String requestLine = line(in);
                if (requestLine == null || requestLine.isEmpty()) {
                    return;
                }
                long length = 0;
                for (String h; (h = line(in)) != null && !h.isEmpty(); ) {
                    if (h.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                        length = Long.parseLong(h.substring(15).trim());
                    }
                }
                byte[] body = in.readNBytes((int) length);
                String[] parts = requestLine.split(" ");
                if (!respond(parts[0], parts[1], new String(body, StandardCharsets.UTF_8), out)) {
                    return;
                }
            }
        } catch (IOException e) {
            // the client hung up
        } finally {
            synchronized (sockets) {
                sockets.remove(s);
            }
        }
    }

    /** Answers one request; false to close the connection. */
    private boolean respond(String method, String path, String body, OutputStream out) throws IOException {
        String base = "/v2/models/" + MODEL;
        if (method.equals("GET")) {
            if (path.equals("/v2")) {
                return json(out, 200, "{\"name\":\"raw\",\"version\":\"0\",\"extensions\":[]}");
            }
            if (path.equals(base)) {
                return json(out, 200, "{\"name\":\"m\",\"platform\":\"raw\",\"inputs\":[{\"name\":\"x\",\"datatype\":"
                        + "\"FP32\",\"shape\":[-1,2]}],\"outputs\":[{\"name\":\"score\",\"datatype\":\"FP32\","
                        + "\"shape\":[-1,1]}]}");
            }
            if (path.endsWith("/ready") || path.startsWith("/v2/health")) {
                return json(out, 200, "");
            }
            return json(out, 404, "{\"error\":\"unknown path\"}");
        }
        inferRequests.incrementAndGet();
        Matcher m = ID.matcher(body);
        String id = m.find() ? m.group(1) : "";
        String ok = "{\"model_name\":\"m\",\"id\":\"" + id + "\",\"outputs\":[{\"name\":\"score\",\"datatype\":\"FP32\","
                + "\"shape\":[1,1],\"data\":[0.5]}]}";
        switch (answer) {
            case OK:
                return json(out, 200, ok);
            case EXTRA_ROW:
                return json(out, 200, ok.replace("[1,1]", "[2,1]").replace("[0.5]", "[999.0,0.5]"));
            case MALFORMED_JSON:
                return json(out, 200, ok.substring(0, ok.length() / 2));
            case CHUNKED_FLOOD:
                write(out, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
                flood(out, true);
                return false;
            case UNFRAMED_FLOOD:
                write(out, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n");
                flood(out, false);
                return false;
            case LYING_LENGTH:
                write(out, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n");
                flood(out, false);
                return false;
            case HUGE_LENGTH:
                write(out, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n{");
                awaitStall();
                return false;
            case STALL_MID_BODY:
                write(out, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + ok.length()
                        + "\r\n\r\n" + ok.substring(0, ok.length() / 2));
                awaitStall();
                return false;
            case TRUNCATED_THEN_CLOSE:
                write(out, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + ok.length()
                        + "\r\n\r\n" + ok.substring(0, ok.length() / 2));
                return false;
            case BAD_STATUS_LINE:
                write(out, "SPDY/9 two hundred\r\n\r\n");
                return false;
            case CLOSE_WITHOUT_ANSWER:
                return false;
            default:
                throw new AssertionError(answer);
        }
    }

    private void awaitStall() {
        try {
            stall.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void flood(OutputStream out, boolean chunked) throws IOException {
        byte[] chunk = new byte[64 << 10];
        Arrays.fill(chunk, (byte) 'a');
        chunk[0] = '"';
        byte[] size = (Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] crlf = {'\r', '\n'};
        for (long sent = 0; sent < FLOOD_BYTES && !closed; sent += chunk.length) {
            if (chunked) {
                out.write(size);
            }
            out.write(chunk);
            if (chunked) {
                out.write(crlf);
            }
            floodBytes.addAndGet(chunk.length);
            chunk[0] = 'a';
        }
        out.flush();
    }

    private static boolean json(OutputStream out, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        write(out, "HTTP/1.1 " + status + (status == 200 ? " OK" : " Not Found") + "\r\nContent-Type: application/json"
                + "\r\nContent-Length: " + b.length + "\r\n\r\n");
        out.write(b);
        out.flush();
        return true;
    }

    private static void write(OutputStream out, String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int c; (c = in.read()) >= 0; ) {
            if (c == '\n') {
                String s = b.toString(StandardCharsets.ISO_8859_1);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            b.write(c);
        }
        return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() {
        closed = true;
        releaseStalled();
        try {
            server.close();
        } catch (IOException e) {
            // ignore
        }
        List<Socket> all;
        synchronized (sockets) {
            all = new ArrayList<>(sockets);
        }
        for (Socket s : all) {
            try {
                s.close();
            } catch (IOException e) {
                // ignore
            }
        }
        try {
            acceptor.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
