package dev.nearline.api;

import org.jspecify.annotations.Nullable;

/**
 * Whether a model's {@link Model#predictBatch} may combine records into one call, and along which axis.
 * A dynamic first dimension is not proof of a batch axis: in a sequence model it is the time axis, and
 * concatenating two records there makes one longer sequence whose answers differ from scoring each record
 * alone. So a model says what it does, and the engine combines records only when it is allowed:
 *
 * <ul>
 *   <li>{@link #alongAxis(int)}: records are concatenated along that axis of every input, and every output
 *       is split along the same axis; the engine batches freely.</li>
 *   <li>{@link #none()}: records must never share a call; the engine calls {@link Model#predict} per
 *       record, and micro-batching is off for the step.</li>
 *   <li>{@link #undeclared()} (the default): the engine proves it before it relies on it. The first batch
 *       with at least two different records is scored both one by one and as a batch; only if every output
 *       agrees (exactly for integers, strings and booleans; for floating point within 1e-6 plus a relative 1e-5,
 *       NaN equal to NaN) does
 *       the step batch from then on. Otherwise batching is off for the step, with one INFO log line naming
 *       the step and the first output that differed. The answers of the probing batch are the one-by-one
 *       answers either way.</li>
 * </ul>
 *
 * <p>Immutable.
 */
public final class Batching {
    private static final int UNDECLARED = -2;
    private static final int NONE = -1;
    private static final Batching UNDECLARED_INSTANCE = new Batching(UNDECLARED);
    private static final Batching NONE_INSTANCE = new Batching(NONE);
    private static final Batching AXIS_0 = new Batching(0);

    private final int axis;

    private Batching(int axis) {
        this.axis = axis;
    }

    /** The model does not say; the engine probes before it batches (see the class description). */
    public static Batching undeclared() {
        return UNDECLARED_INSTANCE;
    }

    /** Records must never share a model call. */
    public static Batching none() {
        return NONE_INSTANCE;
    }

    /**
     * Records are concatenated along {@code axis} of every input and outputs split along it.
     *
     * @throws IllegalArgumentException if {@code axis} is negative
     */
    public static Batching alongAxis(int axis) {
        if (axis < 0) {
            throw new IllegalArgumentException("batch axis must not be negative, got " + axis);
        }
        return axis == 0 ? AXIS_0 : new Batching(axis);
    }

    /** Whether the model said either way ({@link #alongAxis} or {@link #none}). */
    public boolean isDeclared() {
        return axis != UNDECLARED;
    }

    /** Whether the model declared a batch axis. */
    public boolean isBatchable() {
        return axis >= 0;
    }

    /**
     * The declared batch axis.
     *
     * @throws IllegalStateException if no axis was declared ({@link #isBatchable()} is false)
     */
    public int axis() {
        if (axis < 0) {
            throw new IllegalStateException("no batch axis declared: " + this);
        }
        return axis;
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof Batching && ((Batching) o).axis == axis;
    }

    @Override
    public int hashCode() {
        return Integer.hashCode(axis);
    }

    /** {@code undeclared}, {@code none} or {@code axis N}. */
    @Override
    public String toString() {
        return axis == UNDECLARED ? "undeclared" : axis == NONE ? "none" : "axis " + axis;
    }
}
