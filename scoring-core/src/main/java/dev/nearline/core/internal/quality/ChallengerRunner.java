package dev.nearline.core.internal.quality;

import dev.nearline.api.Tensors;
import dev.nearline.core.ManagedScorer;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores a sample of the champion's records with the challenger, off the caller's path: the scoring thread
 * only decides whether the record is in the sample (a hash of its id) and offers it to a bounded queue; when
 * the queue is full the record is dropped and counted, so the champion never waits for the challenger. A few
 * daemon threads ({@code nearline-<pipeline>-challenger-N}) take records from the queue and score them with the
 * challenger's own scorer, whose models this runner owns and closes. Whatever the challenger does (throws, an
 * {@link Error} included, blocks, is slow) stays on those threads and is counted. Thread-safe.
 */
public final class ChallengerRunner {
    private static final Logger log = LoggerFactory.getLogger(ChallengerRunner.class);
    private final String pipeline;
    private final ManagedScorer<Tensors, Tensors> scorer;
    private final PredictionReader reader;
    /** A record is sampled when the mixed hash of its id, as an unsigned 32-bit number, is below this. */
    private final long sampleBelow;
    private final ThreadPoolExecutor executor;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicBoolean warned = new AtomicBoolean();
    final LongAdder sampled = new LongAdder();
    final LongAdder scored = new LongAdder();
    final LongAdder dropped = new LongAdder();
    final LongAdder failed = new LongAdder();
    private final Tracker tracker;

    /**
     * A runner of {@code scorer} (the challenger's steps, from the champion's preprocessed tensors to its outputs)
     * on the fraction {@code sample} of the records, with {@code threads} threads and a queue of
     * {@code queueCapacity} records.
     */
    public ChallengerRunner(String pipeline, Tracker tracker, ManagedScorer<Tensors, Tensors> scorer,
                            PredictionReader reader, double sample, int threads, int queueCapacity) {
        this.pipeline = pipeline;
        this.tracker = tracker;
        this.scorer = scorer;
        this.reader = reader;
        this.sampleBelow = (long) Math.floor(sample * (1L << 32));
        AtomicInteger n = new AtomicInteger();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r, "nearline-" + pipeline + "-challenger-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        this.executor = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.NANOSECONDS,
                new ArrayBlockingQueue<>(queueCapacity), factory, new ThreadPoolExecutor.AbortPolicy());
        executor.prestartAllCoreThreads();
    }

    /** Whether the record with {@code id} is in the sample: the same answer for the same id, on every machine. */
    boolean inSample(String id) {
        return hash(id) < sampleBelow;
    }

    /**
     * Whether the record with {@code id} is in a sample of the fraction {@code sample}, as a runner decides it:
     * from {@link String#hashCode()} (specified by the JDK, so the same on every machine), mixed.
     */
    public static boolean inSample(String id, double sample) {
        return hash(id) < (long) Math.floor(sample * (1L << 32));
    }

    private static long hash(String id) {
        int h = id.hashCode() * 0x9E3779B9; // spread the bits: nearby ids have nearby hash codes
        h ^= h >>> 16;
        return Integer.toUnsignedLong(h);
    }

    /** Offers a sampled record; false (counted as dropped) when the queue is full or the runner is closed. */
    boolean offer(Pending p, Tensors inputs) {
        if (closed.get()) {
            dropped.increment();
            return false;
        }
        try {
            executor.execute(() -> run(p, inputs));
            sampled.increment();
            return true;
        } catch (RejectedExecutionException full) {
            dropped.increment();
            return false;
        }
    }

    private void run(Pending p, Tensors inputs) {
        try {
            Tensors out = scorer.score(inputs);
            boolean ok;
            if (p.probabilities != null) {
                float[] v = reader.vector(out);
                ok = v != null && v.length == p.probabilities.length;
                p.challengerProbabilities = v;
            } else {
                float v = reader.scalar(out);
                ok = !Float.isNaN(v);
                p.challengerScore = v;
            }
            if (!ok) {
                failed.increment();
                warnOnce("the challenger's prediction is unreadable: expected " + reader.expectation() + ", got "
                        + out, null);
                return;
            }
            scored.increment();
            tracker.challengerScored(p);
        } catch (Throwable e) { // NOPMD: the challenger's failures, an Error included, stay here, counted
            failed.increment();
            warnOnce("the challenger failed: " + e, e);
        }
    }

    private void warnOnce(String what, Throwable e) {
        if (warned.compareAndSet(false, true)) {
            log.warn("pipeline '{}': {} (logged once; later failures are counted only)", pipeline, what, e);
        }
    }

    /** Records waiting for a challenger thread. */
    int queued() {
        return executor.getQueue().size();
    }

    /**
     * Stops taking records, drops those still queued (counted), waits up to {@code grace} for the running ones,
     * then closes the challenger's scorer, which closes its models once their last call returns. Idempotent.
     */
    void close(Duration grace) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        executor.shutdown();
        int discarded = executor.getQueue().drainTo(new java.util.ArrayList<>());
        sampled.add(-discarded);
        dropped.add(discarded);
        try {
            if (!executor.awaitTermination(grace.toNanos(), TimeUnit.NANOSECONDS)) {
                log.warn("pipeline '{}': the challenger is still scoring after {}; its models close when it returns",
                        pipeline, grace);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            scorer.close();
        } catch (RuntimeException e) {
            log.warn("pipeline '{}': closing the challenger failed", pipeline, e);
        }
    }
}
