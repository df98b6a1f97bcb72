package dev.nearline.core.internal;

import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensors;
import dev.nearline.core.internal.Generations.Generation;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * An asynchronous record in the micro-batcher (preprocessed on the caller's thread before it was queued):
 * finishes the pipeline on the dispatcher thread and completes its future. It owns the record's in-flight
 * count from the moment it is queued and gives it back when it completes.
 *
 * @param <I> record type
 * @param <O> result type
 */
final class BatchedRecord<I, O> extends MicroBatcher.Request {
    private final Engine<I, O> engine;
    private final Generation generation;
    private final Object record;
    private final Tensors pre;
    final CompletableFuture<O> future = new CompletableFuture<>();

    BatchedRecord(Engine<I, O> engine, Generation generation, Step step, Tensors inputs, Object record, Tensors pre, long deadline,
                  long submitted) {
        super(step, inputs, deadline, submitted);
        this.engine = engine;
        this.generation = generation;
        this.record = record;
        this.pre = pre;
    }

    @Override
    protected void complete(@Nullable Tensors outputs, @Nullable ScoringException error, long dequeuedNanos,
                            long inferNanos) {
        try {
            if (error != null) {
                fail(error);
                return;
            }
            long t0 = engine.timed ? engine.ticker.read() : 0;
            O result = engine.finish(generation, record, pre, Objects.requireNonNull(outputs), deadline);
            if (engine.timed) {
                Objects.requireNonNull(engine.events).recordScored(engine.name, dequeuedNanos - enqueuedNanos, 0,
                        inferNanos, engine.ticker.read() - t0);
            }
            future.complete(result);
        } catch (ScoringException e) {
            fail(e);
        } catch (Throwable e) { // NOPMD: the future fails, the dispatcher thread lives on
            fail(Failures.internal("pipeline '" + engine.name + "'", e));
        } finally {
            generation.exit(1);
        }
    }

    private void fail(ScoringException e) {
        engine.failed(e, enqueuedNanos);
        future.completeExceptionally(e);
    }
}
