package dev.nearline.onnx.internal;

/**
 * Whether runs write into pinned (preallocated, reused) output tensors: undecided until a first unpinned
 * run shows whether the outputs have the shapes the model declares, then on or off; a pinned run that
 * fails where an unpinned one works turns it off for good. The slot pool and the batch runner each keep
 * their own decision.
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
