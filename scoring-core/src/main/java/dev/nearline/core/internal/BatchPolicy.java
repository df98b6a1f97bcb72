package dev.nearline.core.internal;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Decides whether a synchronous {@code score} call joins a micro-batch or runs inline on its own thread.
 * Handing a record to a dispatcher thread and back costs a few microseconds of CPU and a context switch
 * (about 7 us measured on a 2-core machine), so batching only pays when one model call costs clearly more
 * than that and other records are in flight to batch with. In {@link Mode#AUTO} the policy measures both
 * costs as it goes (exponential moving averages: the inline model time from a sample of inline calls, the
 * hand-off as the time from a batch's completion to its waiting caller running again) and batches when {@code inline > 2 x hand-off} and more records are in
 * flight than there are processors. Racy updates of the averages are harmless. Thread-safe.
 */
public final class BatchPolicy {
    /** When synchronous calls batch. */
    public enum Mode {
        /** Decide from measured model and hand-off costs (the default). */
        AUTO,
        /** Always join a batch. */
        ALWAYS,
        /** Never: synchronous calls always run inline; only async calls batch. */
        NEVER
    }

    private static final double ALPHA = 0.1;
    private static final double INITIAL_HANDOFF_NANOS = 7_000;

    private final Mode mode;
    private final int processors = Runtime.getRuntime().availableProcessors();
    private volatile double inlineNanos = -1;
    private volatile double handoffNanos = INITIAL_HANDOFF_NANOS;

    /** A policy in {@code mode}. */
    public BatchPolicy(Mode mode) {
        this.mode = mode;
    }

    /** Whether this synchronous call should join a batch, given the records in flight now (itself included). */
    public boolean batchSync(int inFlight) {
        switch (mode) {
            case ALWAYS:
                return true;
            case NEVER:
                return false;
            default:
                double inline = inlineNanos;
                if (inline < 0 || inFlight <= processors) {
                    return false;
                }
                // A few calls stay inline to keep the inline estimate fresh.
                return inline > 2 * handoffNanos && ThreadLocalRandom.current().nextInt(64) != 0;
        }
    }

    /** Whether to time this inline call to feed the estimate (about one call in 16). */
    public boolean sampleInline() {
        return mode == Mode.AUTO && (inlineNanos < 0 || ThreadLocalRandom.current().nextInt(16) == 0);
    }

    /** Feeds the duration of one inline model call. */
    public void recordInline(long nanos) {
        double v = inlineNanos;
        inlineNanos = v < 0 ? nanos : v + ALPHA * (nanos - v);
    }

    /** Feeds the hand-off cost of one batched synchronous call (completion to the caller running again). */
    public void recordHandoff(long nanos) {
        if (nanos > 0) {
            handoffNanos = handoffNanos + ALPHA * (nanos - handoffNanos);
        }
    }

    /** The current inline estimate in nanoseconds, or -1 before the first sample. */
    public double inlineNanos() {
        return inlineNanos;
    }

    /** The current hand-off estimate in nanoseconds. */
    public double handoffNanos() {
        return handoffNanos;
    }
}
