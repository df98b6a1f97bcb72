package dev.nearline.durable;

import java.util.List;
import java.util.Objects;

/**
 * The output of a batch scoring orchestration, as the status endpoint shows it once the job has
 * completed. Every record is counted once, as succeeded or failed; per-record results (outputs and
 * errors alike) are JSON lines in the payload store, one file per chunk, and the
 * {@code results} HTTP function of the app serves them in record order.
 *
 * @param jobId         the orchestration instance id
 * @param records       records in the batch
 * @param succeeded     records scored
 * @param failed        records that failed
 * @param chunks        chunks the batch was split into
 * @param errors        the first failed records, in record order, at most {@code NEARLINE_MAX_REPORTED_ERRORS}
 * @param errorsOmitted failed records not listed in {@code errors}
 */
public record BatchReport(String jobId, int records, int succeeded, int failed, int chunks, List<RecordError> errors,
                          int errorsOmitted) {

    /** Copies the list and checks that the counts add up. */
    public BatchReport {
        Objects.requireNonNull(jobId, "jobId");
        errors = List.copyOf(errors);
        if (succeeded + failed != records || errors.size() + errorsOmitted != failed) {
            throw new IllegalArgumentException("counts do not add up: " + succeeded + " + " + failed + " != " + records
                    + " or " + errors.size() + " + " + errorsOmitted + " != " + failed);
        }
    }
}
