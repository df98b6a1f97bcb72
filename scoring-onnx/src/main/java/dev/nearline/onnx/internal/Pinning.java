package dev.nearline.onnx.internal;

/**
 * Whether runs write into pinned (preallocated, reused) output tensors; a pinned run that fails where an
 * unpinned one works turns it off for good. The batch runner starts undecided until a first unpinned batch
 * shows whether the outputs have the shapes the model declares (a batch's shapes depend on its rows); the
 * slot pool of single records starts on, since ONNX Runtime refuses pinned outputs of the wrong shape
 * (see {@link SlotPool}). Each keeps its own decision.
 */
enum Pinning {
    /** No unpinned run has confirmed the declared output shapes yet. */
    UNDECIDED,
    /** Outputs are written into pinned tensors. */
    ON,
    /** ONNX Runtime allocates the outputs of every run. */
    OFF;

    /** {@link #ON} when the outputs matched the declared shapes, else {@link #OFF}. */
    static Pinning decided(boolean outputsAsDeclared) {
        return outputsAsDeclared ? ON : OFF;
    }
}
