package dev.nearline.durable.internal;

import java.util.Locale;

/**
 * The input of a batch orchestration: where its records are and the policy it runs with, fixed when the
 * job starts so that every replay sees the same values (the orchestrator reads no app settings).
 *
 * @param jobId             the orchestration instance id, also the payload folder
 * @param records           number of records
 * @param chunkSize         records per chunk
 * @param chunks            number of chunks
 * @param maxParallelChunks chunks in flight at once
 * @param maxAttempts       attempts per chunk for retryable failures
 * @param firstRetryMillis  delay before the first retry
 * @param maxRetryMillis    longest delay between attempts
 * @param maxReportedErrors record errors listed in the report
 */
public record BatchJob(String jobId, int records, int chunkSize, int chunks, int maxParallelChunks, int maxAttempts,
                       long firstRetryMillis, long maxRetryMillis, int maxReportedErrors) {

    /** Checks the invariants the orchestrator relies on. */
    public BatchJob {
        if (records < 0 || chunkSize < 1 || chunks != (records + chunkSize - 1) / chunkSize || maxParallelChunks < 1
                || maxAttempts < 1 || firstRetryMillis < 1 || maxRetryMillis < firstRetryMillis || maxReportedErrors < 0) {
            throw new IllegalArgumentException("inconsistent batch job " + jobId + ": records=" + records + " chunkSize="
                    + chunkSize + " chunks=" + chunks);
        }
    }

    /** The task of chunk {@code chunk}. */
    public ChunkTask task(int chunk, boolean salvage) {
        int first = chunk * chunkSize;
        return new ChunkTask(jobId, chunk, first, Math.min(chunkSize, records - first), salvage);
    }

    /** Payload key of a chunk's records: a JSON array. */
    public static String recordsKey(String jobId, int chunk) {
        return jobId + "/records-" + String.format(Locale.ROOT, "%06d", chunk) + ".json";
    }

    /** Payload key of a chunk's results: JSON lines, one per record, in record order. */
    public static String resultsKey(String jobId, int chunk) {
        return jobId + "/results-" + String.format(Locale.ROOT, "%06d", chunk) + ".jsonl";
    }
}
