package dev.nearline.durable.internal;

import dev.nearline.durable.RecordError;
import java.util.List;

/**
 * What one scored chunk adds to its batch (in a {@link ChunkOutcome}): counts and the first record
 * errors, small enough for the orchestration history (the full results are in the payload store).
 *
 * @param chunk     chunk number
 * @param count     records in the chunk
 * @param succeeded records scored
 * @param failed    records that failed
 * @param errors    the first failures, at most {@link #MAX_ERRORS}, in record order
 */
public record ChunkSummary(int chunk, int count, int succeeded, int failed, List<RecordError> errors) {
    /** Most errors a summary lists; keeps each history event a few tens of kilobytes at most. */
    public static final int MAX_ERRORS = 100;

    /** Copies the list. */
    public ChunkSummary {
        errors = List.copyOf(errors);
        if (succeeded + failed != count || errors.size() > failed) {
            throw new IllegalArgumentException("inconsistent summary of chunk " + chunk + ": " + succeeded + " + " + failed
                    + " != " + count + " or " + errors.size() + " errors");
        }
    }
}
