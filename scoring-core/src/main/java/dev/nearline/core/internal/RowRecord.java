package dev.nearline.core.internal;

import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensors;
import dev.nearline.core.internal.Generations.Generation;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * An asynchronous record that the micro-batcher scores on the columnar path: queued as it came (the dispatcher
 * writes it into its row, so the caller's thread does no preprocessing) and completed with its result. It owns
 * the record's in-flight count from the moment it is queued and gives it back once, when it completes.
 *
 * @param <I> record type
 * @param <O> result type
 */
final class RowRecord<I, O> extends MicroBatcher.Request {
    private final Engine<I, O> engine;
    final Generation generation;
    final @Nullable I record;
    final CompletableFuture<O> future = new CompletableFuture<>();
    private boolean done;

    RowRecord(Engine<I, O> engine, Generation generation, Step step, @Nullable I record, long deadline, long submitted) {
        super(step, null, deadline, submitted);
        this.engine = engine;
        this.generation = generation;
        this.record = record;
    }

    @Override
    protected boolean byRows() {
        return true;
    }

    /** Only failures arrive here (closed, expired in the queue): results come through {@link #succeed}. */
    @Override
    protected void complete(@Nullable Tensors outputs, @Nullable ScoringException error, long dequeuedNanos,
                            long inferNanos) {
        fail(error != null ? error : new ScoringException(ScoringException.Kind.INTERNAL, "pipeline '" + engine.name
                + "': a columnar record completed without a result"));
    }

    /** Completes the record with its result, scored on the dispatcher. */
    void succeed(O result, long dequeuedNanos, long inferNanos) {
        if (done) {
            return;
        }
        done = true;
        try {
            if (engine.timed) {
                Objects.requireNonNull(engine.events).recordScored(engine.name, dequeuedNanos - enqueuedNanos, 0,
                        inferNanos, 0);
            }
            future.complete(result);
        } finally {
            generation.exit(1);
        }
    }

    /** Completes the record with its failure. */
    void fail(ScoringException e) {
        if (done) {
            return;
        }
        done = true;
        try {
            engine.failed(e, enqueuedNanos);
            future.completeExceptionally(e);
        } finally {
            generation.exit(1);
        }
    }

    /** Scores a micro-batch of {@link RowRecord}s on the columnar path, on a dispatcher thread. */
    @SuppressWarnings("unchecked")
    static <I, O> void score(Engine<I, O> engine, MicroBatcher.Request[] batch, int n, long dequeued) {
        RowRecord<I, O> first = (RowRecord<I, O>) batch[0];
        RowPlan plan = engine.rowPlan(first.generation);
        Object[] records = new Object[n];
        long[] deadlines = new long[n];
        for (int i = 0; i < n; i++) {
            RowRecord<I, O> r = (RowRecord<I, O>) batch[i];
            records[i] = r.record;
            deadlines[i] = r.deadline;
        }
        Object[] results = new Object[n];
        ScoringException[] errors = new ScoringException[n];
        long[] infer = new long[n];
        boolean done = plan != null
                && new RowCall<>(engine, plan).run(records, n, Deadlines.NONE, deadlines, results, errors, infer);
        for (int i = 0; i < n; i++) {
            RowRecord<I, O> r = (RowRecord<I, O>) batch[i];
            try {
                if (!done) { // the batched call failed: one by one, so that a bad record fails alone
                    long s0 = engine.ticker.read();
                    O result = engine.scoreOne(r.record, first.generation.steps, r.deadline);
                    r.succeed(result, dequeued, engine.ticker.read() - s0);
                } else if (errors[i] != null) {
                    r.fail(errors[i]);
                } else {
                    r.succeed((O) Objects.requireNonNull(results[i]), dequeued, infer[i]);
                }
            } catch (ScoringException e) {
                r.fail(e);
            } catch (Throwable e) { // NOPMD: the future fails; the dispatcher lives on
                r.fail(Failures.internal("pipeline '" + engine.name + "'", e));
            }
        }
    }

}
