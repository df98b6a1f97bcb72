package dev.nearline.core.internal.quality;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.jspecify.annotations.Nullable;

/**
 * One kept prediction, waiting for its label. Its fate is decided once, by whoever first claims it: the label
 * ({@link #LABELLED}) or the store when it replaces, evicts or expires it ({@link #DROPPED}). The challenger
 * adds its own prediction independently ({@link #CHALLENGER_DONE}); the pair is compared with the label by
 * whichever of the two comes second. Fields without {@code volatile} are written before the state change that
 * publishes them.
 */
final class Pending {
    static final int LABELLED = 1;
    static final int DROPPED = 2;
    /** With DROPPED: dropped because the time-to-live had passed. */
    static final int EXPIRED = 4;
    static final int CHALLENGER_DONE = 8;
    /** Set after LABELLED once {@link #label} is written. */
    static final int LABEL_READY = 16;
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(Pending.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final String id;
    final long seq;
    final long nanos;
    final VersionQuality version;
    /** The prediction of a binary classifier or a regression; NaN for a multi-class one. */
    final float score;
    final float @Nullable [] probabilities;
    /** Written before LABELLED. */
    double label;
    /** Written before CHALLENGER_DONE. */
    float challengerScore = Float.NaN;
    float @Nullable [] challengerProbabilities;
    @SuppressWarnings("unused")
    private volatile int state;

    Pending(String id, long seq, long nanos, VersionQuality version, float score, float @Nullable [] probabilities) {
        this.id = id;
        this.seq = seq;
        this.nanos = nanos;
        this.version = version;
        this.score = score;
        this.probabilities = probabilities;
    }

    int state() {
        return (int) STATE.getVolatile(this);
    }

    /** Sets LABELLED (or DROPPED) unless the fate is decided; returns the state before, or -1 when it was decided. */
    int claim(int fate) {
        while (true) {
            int s = state();
            if ((s & (LABELLED | DROPPED)) != 0) {
                return -1;
            }
            if (STATE.compareAndSet(this, s, s | fate)) {
                return s;
            }
        }
    }

    /** Sets {@code bits}; returns the state before. */
    int set(int bits) {
        return (int) STATE.getAndBitwiseOr(this, bits);
    }
}
