package dev.nearline.durable.internal;

/**
 * The input of one scoring activity: a reference to a chunk of a batch, never the records themselves.
 *
 * @param jobId      the batch
 * @param chunk      chunk number, from 0
 * @param firstIndex batch index of the chunk's first record
 * @param count      records in the chunk
 * @param salvage    the last call after retries ran out: report retryable failures per record instead
 *                   of failing the activity, so the chunk's good results are kept
 */
public record ChunkTask(String jobId, int chunk, int firstIndex, int count, boolean salvage) {
}
