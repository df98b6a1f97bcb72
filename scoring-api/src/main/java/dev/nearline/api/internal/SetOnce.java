package dev.nearline.api.internal;

import org.jspecify.annotations.Nullable;

/**
 * The one "each option set at most once" check of Nearline's builders (in the spirit of Caffeine's
 * {@code requireState}): setting an option twice is a programming error, reported as
 * {@link IllegalStateException} naming the option and, where known, the value it already has.
 */
public final class SetOnce {
    private SetOnce() {
    }

    /**
     * Returns {@code value} if {@code current} is unset (null).
     *
     * @throws IllegalStateException {@code "<property> was already set to <current>"}
     */
    public static <T> T check(@Nullable T current, T value, String property) {
        if (current != null) {
            throw new IllegalStateException(property + " was already set to " + current);
        }
        return value;
    }

    /**
     * Returns {@code value} if {@code current} equals {@code unset}.
     *
     * @throws IllegalStateException {@code "<property> was already set to <current>"}
     */
    public static int check(int current, int unset, int value, String property) {
        if (current != unset) {
            throw new IllegalStateException(property + " was already set to " + current);
        }
        return value;
    }

    /**
     * For options whose current value is not worth printing.
     *
     * @throws IllegalStateException {@code "<property> was already set"} if {@code alreadySet}
     */
    public static void check(boolean alreadySet, String property) {
        if (alreadySet) {
            throw new IllegalStateException(property + " was already set");
        }
    }

    /**
     * For a builder's {@code build()}, which may run once.
     *
     * @throws IllegalStateException {@code "build() was already called on this builder"} if {@code built}
     */
    public static void checkNotBuilt(boolean built) {
        if (built) {
            throw new IllegalStateException("build() was already called on this builder");
        }
    }
}
