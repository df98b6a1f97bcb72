package dev.nearline.core.internal;

import dev.nearline.api.ScoringException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * The bounded pool that runs {@code scoreAsync} records when they do not go through the micro-batcher. Created
 * by the first record that needs it, so a cold start pays nothing for it; daemon threads that time out when
 * idle. Thread-safe.
 */
final class AsyncPool {
    private final String pipeline;
    private final int threads;
    private final int queueCapacity;
    private volatile @Nullable ThreadPoolExecutor executor;
    private boolean shutdown;

    AsyncPool(String pipeline, int threads, int queueCapacity) {
        this.pipeline = pipeline;
        this.threads = threads;
        this.queueCapacity = queueCapacity;
    }

    /** Queues {@code task}; false when the queue is full or the pool is shut down. */
    boolean execute(AsyncTask<?, ?> task) {
        ThreadPoolExecutor e = executor();
        if (e == null) {
            return false;
        }
        try {
            e.execute(task);
            return true;
        } catch (RejectedExecutionException full) {
            return false;
        }
    }

    /** Records waiting for a thread. */
    int depth() {
        ThreadPoolExecutor e = executor;
        return e == null ? 0 : e.getQueue().size();
    }

    /**
     * Stops intake and fails every queued task with {@code error}; running tasks are not interrupted.
     */
    void shutdown(ScoringException error) {
        ThreadPoolExecutor e;
        synchronized (this) {
            shutdown = true;
            e = executor;
        }
        if (e == null) {
            return;
        }
        e.shutdown();
        List<Runnable> queued = new ArrayList<>();
        e.getQueue().drainTo(queued);
        for (Runnable r : queued) {
            ((AsyncTask<?, ?>) r).fail(error);
        }
    }

    private @Nullable ThreadPoolExecutor executor() {
        ThreadPoolExecutor e = executor;
        if (e != null) {
            return e;
        }
        synchronized (this) {
            if (shutdown) {
                return null;
            }
            if (executor == null) {
                AtomicInteger n = new AtomicInteger();
                ThreadPoolExecutor created = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                        new ArrayBlockingQueue<>(queueCapacity), r -> {
                            Thread t = new Thread(r, "nearline-" + pipeline + "-" + n.incrementAndGet());
                            t.setDaemon(true);
                            return t;
                        }, new ThreadPoolExecutor.AbortPolicy());
                created.allowCoreThreadTimeOut(true);
                executor = created;
            }
            return executor;
        }
    }
}
