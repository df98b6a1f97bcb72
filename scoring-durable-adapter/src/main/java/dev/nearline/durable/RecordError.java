package dev.nearline.durable;

import dev.nearline.api.ScoringException;
import java.util.Objects;

/**
 * One record of a batch that could not be scored.
 *
 * @param index   the record's position in the batch, from 0
 * @param kind    why it failed; {@code INVALID_INPUT} is the record's fault, other kinds remained after
 *                the chunk's retries ran out
 * @param message what was wrong, naming the field or tensor (at most 300 characters)
 */
public record RecordError(int index, ScoringException.Kind kind, String message) {

    /** Checks the index and that kind and message are present. */
    public RecordError {
        if (index < 0) {
            throw new IllegalArgumentException("index must be >= 0, got " + index);
        }
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(message, "message");
    }
}
