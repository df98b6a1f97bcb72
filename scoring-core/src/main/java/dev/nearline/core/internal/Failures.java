package dev.nearline.core.internal;

import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;

/**
 * Turns whatever a stage throws into the one exception a scorer reports. An {@link Error} thrown while one
 * record is processed (a {@link StackOverflowError} from a deeply nested value, an {@link OutOfMemoryError}
 * from a huge one, a {@link LinkageError} from a broken plugin) fails that record and nothing else: it never
 * reaches a caller, a batch-mate or a pool thread.
 */
final class Failures {
    private Failures() {
    }

    /**
     * INTERNAL for a stage failure that is not the record's fault as far as the engine can tell; a stack
     * overflow or memory exhaustion is named as such.
     */
    static ScoringException internal(String what, Throwable e) {
        if (e instanceof StackOverflowError) {
            return new ScoringException(Kind.INTERNAL, what + ": stack overflow", e);
        }
        if (e instanceof OutOfMemoryError) {
            return new ScoringException(Kind.INTERNAL, what + ": out of memory", e);
        }
        return new ScoringException(Kind.INTERNAL, what + ": " + e, e);
    }

    /**
     * The failure of a preprocessor: the record is what it works on, so a runtime exception or a stack
     * overflow (a record nested too deeply for the stage) is INVALID_INPUT; running out of memory may be
     * the process's state rather than the record's, so it stays retryable (INTERNAL).
     */
    static ScoringException preprocessing(String pipeline, Throwable e) {
        if (e instanceof ScoringException) {
            return (ScoringException) e;
        }
        if (e instanceof StackOverflowError) {
            return new ScoringException(Kind.INVALID_INPUT, "pipeline '" + pipeline
                    + "': the record is nested too deeply for the preprocessor", e);
        }
        if (e instanceof RuntimeException) {
            return new ScoringException(Kind.INVALID_INPUT, "pipeline '" + pipeline
                    + "': preprocessor rejected the record: " + e.getMessage(), e);
        }
        return internal("pipeline '" + pipeline + "': preprocessor failed", e);
    }
}
