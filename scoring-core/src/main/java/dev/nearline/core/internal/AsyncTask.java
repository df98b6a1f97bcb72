package dev.nearline.core.internal;

import dev.nearline.api.ScoringException;
import dev.nearline.core.internal.Generations.Generation;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A record queued for the async pool. It owns the record's in-flight count from the moment it is queued and
 * gives it back exactly once: when it has run, or when {@link #fail} (close) takes it off the queue.
 *
 * @param <I> record type
 * @param <O> result type
 */
final class AsyncTask<I, O> implements Runnable {
    private final Engine<I, O> engine;
    private final Generation generation;
    private final I record;
    private final long deadline;
    private final long submitted;
    private final AtomicBoolean finished = new AtomicBoolean();
    final CompletableFuture<O> future = new CompletableFuture<>();

    AsyncTask(Engine<I, O> engine, Generation generation, I record, long deadline, long submitted) {
        this.engine = engine;
        this.generation = generation;
        this.record = record;
        this.deadline = deadline;
        this.submitted = submitted;
    }

    /** Fails the task without running it (the scorer closed while it was queued). */
    void fail(ScoringException e) {
        if (finished.compareAndSet(false, true)) {
            try {
                engine.failed(e, submitted);
                future.completeExceptionally(e);
            } finally {
                generation.exit(1);
            }
        }
    }

    @Override
    public void run() {
        if (!finished.compareAndSet(false, true)) {
            return;
        }
        try {
            future.complete(engine.runQueued(generation, record, deadline, submitted));
        } catch (ScoringException e) {
            engine.failed(e, submitted);
            future.completeExceptionally(e);
        } catch (Throwable e) { // NOPMD: the future fails; the pool thread lives on
            ScoringException err = Failures.internal("pipeline '" + engine.name + "'", e);
            engine.failed(err, submitted);
            future.completeExceptionally(err);
        } finally {
            generation.exit(1);
        }
    }
}
