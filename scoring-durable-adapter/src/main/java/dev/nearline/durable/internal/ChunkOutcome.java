package dev.nearline.durable.internal;

import dev.nearline.api.ScoringException;
import dev.nearline.core.internal.wire.Wire;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What one scoring activity returns to the orchestrator: the chunk's summary, or the kind and reason of
 * the failure that kept the chunk from being scored. The kind travels as data in the activity's output
 * because a failed activity reaches the orchestrator only as the host's failure text, which Nearline
 * neither controls nor parses; an activity that throws anyway (it crashed, the host stopped it) counts as
 * {@code INTERNAL}. Immutable.
 *
 * @param summary the counts and first errors of a scored chunk, or {@code null} for a failure
 * @param failure the kind of the failure, or {@code null} for a scored chunk
 * @param message the failure's reason, at most {@link Wire#MAX_MESSAGE_CHARS} characters, or
 *                {@code null} for a scored chunk
 */
public record ChunkOutcome(@Nullable ChunkSummary summary, ScoringException.@Nullable Kind failure,
                           @Nullable String message) {

    /** Requires exactly one of summary and failure; clips the message. */
    public ChunkOutcome {
        if ((summary == null) == (failure == null)) {
            throw new IllegalArgumentException("a chunk outcome has either a summary or a failure kind, got "
                    + (summary == null ? "neither" : "both"));
        }
        message = failure == null ? null : Wire.errorDescription(message);
    }

    /** A scored chunk. */
    public static ChunkOutcome scored(ChunkSummary summary) {
        return new ChunkOutcome(Objects.requireNonNull(summary, "summary"), null, null);
    }

    /** A chunk that could not be scored. */
    public static ChunkOutcome failed(ScoringException.Kind kind, @Nullable String message) {
        return new ChunkOutcome(null, Objects.requireNonNull(kind, "kind"), message);
    }
}
