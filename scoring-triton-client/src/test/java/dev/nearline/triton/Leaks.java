package dev.nearline.triton;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntPredicate;
import java.util.function.IntSupplier;

/**
 * Counts what a client may leave behind: live threads by name prefix, and TCP connections this machine
 * holds open to a server port (from /proc/net/tcp and tcp6, so Linux only). Waits are bounded polls for
 * the count to settle, never sleeps that assume a timing.
 */
final class Leaks {
    /** Thread name prefix of every thread the client itself starts (REST I/O and decoding, gRPC executor). */
    static final String CLIENT_THREADS = "nearline-triton-";

    private Leaks() {
    }

    /** Live threads whose name starts with {@code prefix}. */
    static int threads(String prefix) {
        int n = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith(prefix)) {
                n++;
            }
        }
        return n;
    }

    /** Whether connection counting works here (Linux /proc). */
    static boolean canCountSockets() {
        return Files.isReadable(Path.of("/proc/net/tcp"));
    }

    /**
     * Connections open from a client to 127.0.0.1:{@code serverPort}: sockets whose remote port is it, in
     * state ESTABLISHED or CLOSE_WAIT (the client has not closed its end). A socket the client closed is
     * in FIN_WAIT or TIME_WAIT and holds no descriptor, so it does not count.
     */
    static int clientConnections(int serverPort) {
        int n = 0;
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            List<String> lines;
            try {
                lines = Files.readAllLines(Path.of(table));
            } catch (IOException e) {
                continue;
            }
            for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                String[] f = line.trim().split("\\s+");
                if (f.length < 4) {
                    continue;
                }
                String remote = f[2];
                int port = Integer.parseInt(remote.substring(remote.indexOf(':') + 1), 16);
                String state = f[3].toUpperCase(Locale.ROOT);
                if (port == serverPort && (state.equals("01") || state.equals("08"))) {
                    n++;
                }
            }
        }
        return n;
    }

    /** Polls {@code value} every 10 ms until {@code settled} holds or {@code patience} passes; returns the last value. */
    static int await(IntSupplier value, IntPredicate settled, Duration patience) {
        long end = System.nanoTime() + patience.toNanos();
        int v = value.getAsInt();
        while (!settled.test(v) && System.nanoTime() < end) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
            v = value.getAsInt();
        }
        return v;
    }
}
