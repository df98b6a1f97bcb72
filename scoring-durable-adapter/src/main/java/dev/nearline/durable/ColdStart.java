package dev.nearline.durable;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * How long the first use of a worker process's scorer took, as {@link NearlineFunctions#coldStart()}
 * reports it (and logs it once): loading the pipeline (reading the file, creating the model sessions),
 * the optional warm-up record, and the first record scored for a caller.
 *
 * @param pipelineLoad from the first request for the scorer to the scorer being built
 * @param warmUp       scoring the warm-up record, when one is configured
 * @param firstRecord  scoring the first caller's record, once one was scored
 */
public record ColdStart(Duration pipelineLoad, @Nullable Duration warmUp, @Nullable Duration firstRecord) {

    /** Requires the load time. */
    public ColdStart {
        Objects.requireNonNull(pipelineLoad, "pipelineLoad");
    }

    /** {@link #warmUp()} as an optional. */
    public Optional<Duration> warmUpTime() {
        return Optional.ofNullable(warmUp);
    }

    /** {@link #firstRecord()} as an optional. */
    public Optional<Duration> firstRecordTime() {
        return Optional.ofNullable(firstRecord);
    }
}
