package dev.nearline.triton.internal;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Named daemon threads for the transports, one pool per transport, shut down when it closes. */
final class DaemonThreads {
    private static final AtomicInteger POOLS = new AtomicInteger();

    private DaemonThreads() {
    }

    /**
     * A cached pool of daemon threads named {@code <prefix>-<pool>-<thread>}. Its tasks are short
     * (completing futures, decoding responses); no thread waits for a response.
     */
    static ExecutorService cachedPool(String prefix) {
        return Executors.newCachedThreadPool(factory(prefix));
    }

    /**
     * Stops {@code pool} now and waits (at most a second: its tasks are short) for its threads to end, so
     * that a closed transport leaves no thread behind.
     */
    static void shutdown(ExecutorService pool) {
        pool.shutdownNow();
        try {
            pool.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A factory of daemon threads named {@code <prefix>-<pool>-<thread>}, a new pool number per call. */
    static ThreadFactory factory(String prefix) {
        int pool = POOLS.incrementAndGet();
        AtomicInteger threads = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + pool + "-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
