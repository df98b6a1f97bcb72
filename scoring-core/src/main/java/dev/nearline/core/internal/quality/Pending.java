package dev.nearline.core.internal.quality;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.jspecify.annotations.Nullable;

/**
 * A prediction sampled for the challenger: what the champion predicted, and, once they are known, the
 * challenger's prediction and the label. The two arrive independently (the label on a thread that gives
 * feedback, the challenger's prediction on a challenger thread); whichever comes second compares the two
 * models on the label. Fields without {@code volatile} are written before the state change that publishes them.
 */
final class Pending {
    static final int CHALLENGER_DONE = 1;
    /** Set once {@link #label} is written. */
    static final int LABEL_READY = 2;
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(Pending.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final VersionQuality version;
    /** The champion's prediction of a binary classifier or a regression; NaN for a multi-class one. */
    final float score;
    final float @Nullable [] probabilities;
    /** Written before LABEL_READY. */
    double label;
    /** Written before CHALLENGER_DONE. */
    float challengerScore = Float.NaN;
    float @Nullable [] challengerProbabilities;
    @SuppressWarnings("unused")
    private volatile int state;

    Pending(VersionQuality version, float score, float @Nullable [] probabilities) {
        this.version = version;
        this.score = score;
        this.probabilities = probabilities;
    }

    /** Sets {@code bits}; returns the state before. */
    int set(int bits) {
        return (int) STATE.getAndBitwiseOr(this, bits);
    }
}
