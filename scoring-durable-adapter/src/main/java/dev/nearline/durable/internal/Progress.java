package dev.nearline.durable.internal;

/**
 * A batch orchestration's custom status, shown in {@code customStatus} of the status endpoint while
 * the job runs.
 *
 * @param chunksDone  chunks finished
 * @param chunks      all chunks
 * @param recordsDone records finished
 * @param records     all records
 * @param succeeded   records scored so far
 * @param failed      records failed so far
 */
public record Progress(int chunksDone, int chunks, int recordsDone, int records, int succeeded, int failed) {
}
