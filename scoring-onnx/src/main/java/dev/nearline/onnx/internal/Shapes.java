package dev.nearline.onnx.internal;

import dev.nearline.api.Tensor;

/** Shape arithmetic shared by the pool sizing and the batch paths. Stateless. */
final class Shapes {
    private Shapes() {
    }

    /** The product of {@code shape}, or -1 when a dimension is negative or it exceeds {@link Integer#MAX_VALUE}. */
    static long elements(long[] shape) {
        for (long d : shape) {
            if (d < 0) {
                return -1;
            }
            if (d == 0) {
                return 0;
            }
        }
        long n = 1;
        for (long d : shape) {
            if (d > Integer.MAX_VALUE) {
                return -1;
            }
            n *= d; // both factors within the int range: no long overflow
            if (n > Integer.MAX_VALUE) {
                return -1;
            }
        }
        return n;
    }

    /** A copy of {@code shape} with its first dimension set to {@code first}. */
    static long[] withFirst(long[] shape, long first) {
        long[] s = shape.clone();
        s[0] = first;
        return s;
    }

    /** Whether {@code a} and {@code b} have the same rank and the same dimensions apart from {@code axis}. */
    static boolean sameDimsExcept(Tensor a, Tensor b, int axis) {
        if (a.rank() != b.rank()) {
            return false;
        }
        for (int d = 0; d < a.rank(); d++) {
            if (d != axis && a.dim(d) != b.dim(d)) {
                return false;
            }
        }
        return true;
    }
}
