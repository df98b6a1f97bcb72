package dev.nearline.api;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A model backend: ONNX Runtime in-process, a remote Triton server, or your own. Implementations are
 * thread-safe ({@link #predict} is called from many threads at once) and own native or remote
 * resources until {@link #close()}. The engine validates inputs against {@link #signature()} before
 * calling {@link #predict}, so backends may assume names, types, ranks and fixed dimensions are right.
 *
 * <p>Failures are reported as {@link ScoringException}: {@code INVALID_INPUT} when the backend rejects
 * the values, {@code UNAVAILABLE} when it is down, {@code INTERNAL} otherwise.
 */
public interface Model extends AutoCloseable {

    /** The inputs this model takes and the outputs it returns. */
    ModelSignature signature();

    /** Runs the model on one record's tensors; the caller owns the returned tensors. */
    Tensors predict(Tensors inputs);

    /**
     * Runs the model on one record's tensors, within {@code timeout}: the engine passes the time left
     * before the record's deadline. Remote backends bound their request (and retries) by it and fail with
     * {@code DEADLINE_EXCEEDED} when it passes; the default ignores it and calls {@link #predict(Tensors)},
     * which suits in-process backends whose calls cannot be interrupted safely.
     */
    default Tensors predict(Tensors inputs, Duration timeout) {
        return predict(inputs);
    }

    /**
     * Whether {@link #predictBatch} may combine records into one call, and along which axis. The engine
     * calls {@code predictBatch} with more than one record only when this declares a batch axis, or when it
     * is {@link Batching#undeclared() undeclared} and a probe showed batched answers equal single ones (see
     * {@link Batching}). The default is undeclared. Must return the same value on every call.
     */
    default Batching batching() {
        return Batching.undeclared();
    }

    /**
     * Runs the model on several records. The default calls {@link #predict} per record; backends
     * override it with one call along the batch axis of {@link #batching()} when that is cheaper. Element
     * {@code i} of the result belongs to element {@code i} of {@code batch}. If the batched call fails, the
     * whole call throws; the engine then retries the records one by one so that a bad record fails alone.
     */
    default List<Tensors> predictBatch(List<Tensors> batch) {
        List<Tensors> out = new ArrayList<>(batch.size());
        for (Tensors t : batch) {
            out.add(predict(t));
        }
        return out;
    }

    /**
     * As {@link #predictBatch(List, Duration)} ({@link #predictBatch(List)} when {@code timeout} is null), but
     * only as one call over the records combined: null when this model would run these records one by one
     * (they cannot be combined). The engine's batching probe calls it, because answers from per-record calls
     * prove nothing about a batch axis. The default calls {@code predictBatch}, which is right for a model whose
     * {@code predictBatch} either always combines the records or never does; a model whose {@code predictBatch}
     * falls back to per-record calls for some batches must override it.
     */
    default @org.jspecify.annotations.Nullable List<Tensors> predictCombined(List<Tensors> batch,
            @org.jspecify.annotations.Nullable Duration timeout) {
        return timeout == null ? predictBatch(batch) : predictBatch(batch, timeout);
    }

    /**
     * A batch of up to {@code capacity} rows that the engine fills in place and runs as one call (see
     * {@link RowBatch}), or null when this model cannot offer one (the default; the engine then makes
     * batches of per-record {@link Tensors} as before). Called for models that batch along axis 0, and with a
     * {@code capacity} of 1 for one record of a synchronous {@code score}, which is no batch, for any model
     * whose batching is not along another axis.
     */
    default @org.jspecify.annotations.Nullable RowBatch newRowBatch(int capacity) {
        return null;
    }

    /**
     * Runs the model without blocking the caller when the backend can (a remote call); the default
     * runs {@link #predict} on the calling thread and returns a completed future.
     */
    default CompletableFuture<Tensors> predictAsync(Tensors inputs) {
        try {
            return CompletableFuture.completedFuture(predict(inputs));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * As {@link #predictBatch(List)}, within {@code timeout} (see {@link #predict(Tensors, Duration)}); the
     * default ignores the timeout.
     */
    default List<Tensors> predictBatch(List<Tensors> batch, Duration timeout) {
        return predictBatch(batch);
    }

    /**
     * Releases the model's resources. Idempotent. The caller must make sure no {@code predict} call is
     * running (the engine does); calls made after closing fail with {@code UNAVAILABLE}.
     */
    @Override
    void close();
}
