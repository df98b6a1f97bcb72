package dev.nearline.core.internal;

import dev.nearline.api.Ticker;
import dev.nearline.core.Pipeline.BatchMode;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Decides whether a synchronous {@code score} call joins a micro-batch or runs inline on its own thread,
 * from a throughput model fed by measurements.
 *
 * <p>Inline, each caller runs its own model call: about {@code min(inFlight, processors) / inline}
 * records per second, where {@code inline} is the time of one inline model call (a low percentile, see {@link #track}). Batched, the
 * model runs on the dispatcher threads at {@code batched} per record (the same percentile of the per-record
 * time of the batches themselves, by batch size), and every record also costs its caller a hand-off (a park, an
 * unpark and two context switches, {@value #HANDOFF_NANOS} ns of CPU as measured on a 2-core machine):
 * about {@code min(dispatchers / batched, processors / (batched + handoff))} records per second. In
 * {@link BatchMode#AUTO} a call batches when more records are in flight than there are processors and the
 * batched estimate, for the batch size the records in flight would make, beats the inline one by
 * {@value #MARGIN}×. A model whose inline call costs about a hand-off never batches, not even to
 * measure; otherwise, while no batch of about the expected size has been measured, eligible calls batch
 * so that one is.
 *
 * <p>The first calls (about {@value #COLD_CALLS}, and at least the first second) run inline and are not
 * timed: they run while the JIT compiler is still at work, several times slower than later, and a model
 * measured then would look worth batching when it is not (and a batching episode then leaves compiled
 * code shaped for the batched path, measurably slower inline for seconds). Inline calls are timed only while the policy is not batching: with many callers on few cores,
 * batching fills the machine with wake-ups that make an occasional inline call look several times
 * slower than it is when everyone runs inline, and an estimate fed by those calls would talk the policy
 * out of batching because it batches. The first {@value #WARM_SAMPLES} inline calls are all timed and
 * must be seen before any call batches (the estimate starts as the fastest of them), and a batch size's estimate is used once {@value #WARM_BATCHES}
 * batches of it were measured. Each estimate is only fed while its mode is chosen, so about one eligible
 * decision in {@value #REWARM_EVERY} forgets the estimate of the mode not chosen (inline: a new warm-up;
 * batched: the expected size's buckets), so that a measurement from a bad moment (the JIT compiler still
 * at work, a dispatcher descheduled behind busy callers, another load) cannot fix the choice forever. Racy updates of the estimates are harmless.
 * Thread-safe.
 */
public final class BatchPolicy {
    /** CPU cost of handing a record to a dispatcher and back. */
    static final long HANDOFF_NANOS = 7_000;
    /** How much faster batching must be estimated to be. */
    static final double MARGIN = 1.25;
    /** Inline calls timed before any call may batch. */
    static final int WARM_SAMPLES = 64;
    /** Calls, at least, that run inline unmeasured before anything is measured (the JIT compiler's time). */
    static final int COLD_CALLS = 16384;
    /** Time, at least, from the policy's creation before anything is measured. */
    static final long COLD_NANOS = 1_000_000_000L;
    /** Eligible decisions, on average, before the first re-warm. */
    static final int FIRST_REWARM_EVERY = 512;
    /** Batches of a size measured before their estimate is used. */
    static final int WARM_BATCHES = 8;
    /** About one eligible decision in this many forgets the estimate of the mode not chosen. */
    static final int REWARM_EVERY = 8192;
    private static final double STEP = 1.1;
    private static final int BUCKETS = 31;

    private final BatchMode mode;
    private final int processors;
    private final int dispatchers;
    private final int maxBatchSize;
    private volatile double inlineNanos = -1;
    private volatile int inlineSamples;
    /**
     * One less than how many eligible decisions pass, on average, between two resets of the mode not chosen:
     * {@value #FIRST_REWARM_EVERY} until the first re-warm (the first warm-up ran while the JIT compiler was
     * still at work, so its estimate is the least trustworthy), {@value #REWARM_EVERY} after.
     */
    private volatile int rewarmMask = FIRST_REWARM_EVERY - 1;
    /** Whether decisions re-warm at random (tests of one decision at a time turn it off). */
    boolean randomRewarm = true;
    /**
     * Whether the warmed-up inline estimate is so small that even a free batched call could not pay for the
     * hand-off ({@code inline <= MARGIN * HANDOFF_NANOS}); written only when it changes.
     */
    private volatile boolean tooSmall;
    private final Ticker ticker;
    /** The cold phase lasts at least until then ({@link #ticker}): compiling takes time as well as calls. */
    private final long coldUntil;
    private final AtomicInteger coldTicks = new AtomicInteger();
    /** False while the policy is in its first calls, which run inline and are not measured. */
    private final AtomicBoolean warm = new AtomicBoolean();
    /** Whether the last eligible call was told to batch; written only when it changes. */
    private volatile boolean batching;
    /** Per-record batched nanoseconds by batch size bucket (floor(log2(size))), as raw double bits; 0 = none. */
    private final AtomicLongArray batched = new AtomicLongArray(BUCKETS);
    /** Batches measured per bucket, counting up to {@value #WARM_BATCHES}. */
    private final AtomicIntegerArray batchedCounts = new AtomicIntegerArray(BUCKETS);

    /**
     * A policy in {@code mode} for {@code processors} processors and {@code dispatchers} dispatcher threads
     * making batches of at most {@code maxBatchSize} records.
     */
    public BatchPolicy(BatchMode mode, int processors, int dispatchers, int maxBatchSize) {
        this(mode, processors, dispatchers, maxBatchSize, Ticker.system());
    }

    /** As {@link #BatchPolicy(BatchMode, int, int, int)}, timing the cold phase with {@code ticker}. */
    public BatchPolicy(BatchMode mode, int processors, int dispatchers, int maxBatchSize, Ticker ticker) {
        this.ticker = ticker;
        this.coldUntil = ticker.read() + COLD_NANOS;
        this.mode = mode;
        this.processors = Math.max(1, processors);
        this.dispatchers = Math.max(1, dispatchers);
        this.maxBatchSize = Math.max(1, maxBatchSize);
    }

    /**
     * Whether {@link #batchSync} could say yes: false for {@link BatchMode#NEVER} and for a model measured too
     * small to ever batch, so that callers skip reading the in-flight count (a cache line every call
     * writes) when the answer is known.
     */
    public boolean mayBatch() {
        return mode == BatchMode.ALWAYS || (mode == BatchMode.AUTO && (!warm.get() || !tooSmall));
    }

    /** Whether this synchronous call should join a batch, given the records in flight now (itself included). */
    public boolean batchSync(int inFlight) {
        switch (mode) {
            case ALWAYS:
                return true;
            case NEVER:
                return false;
            default:
                if (!warm.get()) {
                    // one call in 256 ticks a shared counter: near-deterministic length, rare shared writes
                    if ((ThreadLocalRandom.current().nextInt() & 255) == 0
                            && coldTicks.incrementAndGet() >= COLD_CALLS / 256
                            && ticker.read() - coldUntil >= 0) {
                        warmedUp(); // nothing was measured while cold: no estimate to reset
                    }
                    return false;
                }
                boolean eligible = inFlight > processors;
                boolean batch = eligible && pays(inFlight);
                if (batch != batching) {
                    batching = batch;
                }
                if (eligible && randomRewarm && (ThreadLocalRandom.current().nextInt() & rewarmMask) == 0) {
                    if (batch) {
                        rewarm();
                    } else {
                        forgetBatches(expectedBatch(inFlight));
                    }
                }
                return batch;
        }
    }

    /** The throughput model: whether batching is estimated to beat inline scoring at {@code inFlight}. */
    boolean pays(int inFlight) {
        double inline = inlineNanos;
        if (inlineSamples < WARM_SAMPLES) {
            return false; // run inline and measure first
        }
        double inlineRate = Math.min(inFlight, processors) / inline;
        if (processors / (double) HANDOFF_NANOS <= MARGIN * inlineRate) {
            return false; // even a free model call could not pay for the hand-off
        }
        double perRecord = batchedNanos(expectedBatch(inFlight));
        if (perRecord <= 0) {
            return true; // no batch of about this size measured yet: batch to measure one
        }
        double batchedRate = Math.min(dispatchers / perRecord, processors / (perRecord + HANDOFF_NANOS));
        return batchedRate > MARGIN * inlineRate;
    }

    /**
     * Whether to time this inline call to feed the estimate: every call until {@value #WARM_SAMPLES} were
     * timed, then about one in 64, and none while eligible calls batch.
     */
    public boolean sampleInline() {
        return mode == BatchMode.AUTO && !batching && warm.get()
                && (inlineSamples < WARM_SAMPLES || (ThreadLocalRandom.current().nextInt() & 63) == 0);
    }

    /** Ends the cold phase: the JIT compiler has had its calls; measure from now on. */
    void warmedUp() {
        warm.set(true);
    }

    /**
     * Forgets the batch measurements for about {@code size} records, so that the next eligible calls batch
     * to measure them again: the estimate is only fed while batching, so one taken at a bad moment (a
     * dispatcher descheduled behind busy callers) would otherwise keep the policy inline forever.
     */
    void forgetBatches(int size) {
        int b = bucket(size);
        for (int k = Math.max(0, b - 1); k <= b; k++) {
            batchedCounts.set(k, 0);
            batched.set(k, 0);
        }
    }

    /**
     * Measures inline calls afresh: no call batches until {@value #WARM_SAMPLES} more inline calls were timed.
     * While batching, inline calls are not timed, so an estimate taken while the JIT compiler was still
     * warming up (or before the load changed) would otherwise never be corrected.
     */
    void rewarm() {
        rewarmMask = REWARM_EVERY - 1;
        inlineSamples = 0;
        inlineNanos = -1;
        tooSmall = false;
        batching = false;
    }

    /** Forgets every measurement: the model changed (a hot swap). */
    public void reset() {
        rewarm();
        for (int b = 0; b < BUCKETS; b++) {
            batchedCounts.set(b, 0);
            batched.set(b, 0);
        }
    }

    /** Feeds the duration of one inline model call. */
    public void recordInline(long nanos) {
        if (nanos <= 0) {
            return;
        }
        int n = inlineSamples;
        double v = n < WARM_SAMPLES ? lowest(inlineNanos, nanos) : track(inlineNanos, nanos, STEP);
        inlineNanos = v;
        if (n < WARM_SAMPLES) {
            inlineSamples = n + 1;
        }
        boolean small = n + 1 >= WARM_SAMPLES && v <= MARGIN * HANDOFF_NANOS;
        if (small != tooSmall) {
            tooSmall = small;
        }
    }

    /** Feeds the duration of one batched model call over {@code size} records. */
    public void recordBatch(int size, long nanos) {
        if (mode != BatchMode.AUTO || size < 1 || nanos <= 0) {
            return;
        }
        int b = bucket(size);
        int n = batchedCounts.get(b);
        double v = Double.longBitsToDouble(batched.get(b));
        double perRecord = (double) nanos / size;
        batched.set(b, Double.doubleToRawLongBits(n < WARM_BATCHES ? lowest(v, perRecord) : track(v, perRecord, STEP)));
        if (n < WARM_BATCHES) {
            batchedCounts.set(b, n + 1);
        }
    }

    /**
     * The lowest sample so far: how estimates start. Interference only ever adds time (a slow first call
     * in the interpreter, a thread descheduled mid-call), so the fastest of a few calls is the best guess
     * of what a call costs.
     */
    static double lowest(double estimate, double sample) {
        return estimate <= 0 ? sample : Math.min(estimate, sample);
    }

    /**
     * One step of a running 10th percentile: the estimate moves towards each sample by a fixed factor,
     * {@code step^0.9} down and {@code step^0.1} up, so it settles where one sample in ten is below it. A
     * low quantile is the cost of a call without interference: with many callers on few cores, a thread
     * descheduled in the middle of a call (for milliseconds), or running on caches another thread just
     * evicted, makes that call look slow, and such calls must not move the estimate more than a normal one.
     */
    static double track(double estimate, double sample, double step) {
        if (estimate <= 0) {
            return sample;
        }
        if (sample > estimate) {
            return Math.min(sample, estimate * Math.pow(step, 0.1));
        }
        return sample < estimate ? Math.max(sample, estimate / Math.pow(step, 0.9)) : estimate;
    }

    /** The current inline estimate in nanoseconds, or -1 before the first sample; for tests. */
    double inlineNanos() {
        return inlineNanos;
    }

    /**
     * The per-record batched estimate for batches of about {@code size} records: the measurement for its
     * size bucket (sizes within a factor of two) or else the bucket below, each once {@value #WARM_BATCHES}
     * batches were measured; 0 when neither was.
     */
    double batchedNanos(int size) {
        int b = bucket(size);
        if (batchedCounts.get(b) < WARM_BATCHES) {
            b--;
        }
        return b < 0 || batchedCounts.get(b) < WARM_BATCHES ? 0 : Math.max(0, Double.longBitsToDouble(batched.get(b)));
    }

    private int expectedBatch(int inFlight) {
        return Math.max(1, Math.min(maxBatchSize, inFlight / dispatchers));
    }

    private static int bucket(int size) {
        return Math.min(BUCKETS - 1, 31 - Integer.numberOfLeadingZeros(size));
    }
}
