package dev.nearline.api;

import java.util.Arrays;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The declared name, data type and shape of a model input or output. A dimension of -1 is dynamic
 * (any extent); a {@code null} shape means the model does not declare one, so any shape is
 * accepted. Immutable.
 *
 * @param name  tensor name as the model declares it
 * @param type  element type
 * @param shape dimensions with -1 for dynamic axes, or {@code null} when unknown
 */
public record TensorSpec(String name, DataType type, long @Nullable [] shape) {

    /** Validates and copies the shape. */
    public TensorSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        if (shape != null) {
            shape = shape.clone();
            for (long d : shape) {
                if (d < -1) {
                    throw new IllegalArgumentException("tensor '" + name + "' has invalid dimension " + d
                            + " in " + Arrays.toString(shape) + " (use -1 for a dynamic axis)");
                }
            }
        }
    }

    /** A spec with a known shape. */
    public static TensorSpec of(String name, DataType type, long... shape) {
        return new TensorSpec(name, type, shape);
    }

    /** A copy of the declared shape, or {@code null} when unknown. */
    @Override
    public long @Nullable [] shape() {
        return shape == null ? null : shape.clone();
    }

    /** Whether the shape is declared. */
    public boolean hasShape() {
        return shape != null;
    }

    /**
     * Why {@code tensor} does not fit this spec, or {@code null} when it fits: the type must be equal,
     * and with a declared shape the rank must be equal and every fixed dimension must match. Does not
     * allocate when the tensor fits.
     */
    public @Nullable String mismatch(Tensor tensor) {
        boolean ok = tensor.type() == type;
        if (ok && shape != null) {
            if (tensor.rank() != shape.length) {
                ok = false;
            } else {
                for (int i = 0; i < shape.length; i++) {
                    if (shape[i] >= 0 && shape[i] != tensor.dim(i)) {
                        ok = false;
                        break;
                    }
                }
            }
        }
        if (ok) {
            return null;
        }
        return "'" + name + "' expects " + describe() + ", got " + tensor.type() + " " + Arrays.toString(tensor.shape());
    }

    /** Type and shape as messages print them, such as {@code FP32 [-1, 30]}. */
    public String describe() {
        return type + " " + (shape == null ? "[any shape]" : Arrays.toString(shape));
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof TensorSpec && name.equals(((TensorSpec) o).name) && type == ((TensorSpec) o).type
                && Arrays.equals(shape, ((TensorSpec) o).shape);
    }

    @Override
    public int hashCode() {
        return (name.hashCode() * 31 + type.hashCode()) * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + ": " + describe();
    }
}
