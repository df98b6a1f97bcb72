package dev.nearline.core.internal;

import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.api.Tensors;
import dev.nearline.core.internal.Generations.Generation;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * A synchronous record in the micro-batcher: the dispatcher only hands over the model outputs and wakes the
 * caller, which runs the rest of the pipeline itself. Lighter than a future: one park and one unpark.
 *
 * <p>The record's in-flight count moves with it: while the caller waits, it belongs to this request; if the
 * caller takes the result, it is the caller's again (the caller still runs later steps on the generation's
 * models); if the caller gives up (deadline, interrupt), it stays with the request, which gives it back when
 * the dispatcher is done with the record. So the count is given back exactly once, and never while a model
 * still has the record.
 */
final class WaitingRecord extends MicroBatcher.Request {
    private static final int WAITING = 0;
    private static final int DONE = 1;
    private static final int ABANDONED = 2;
    private final Engine<?, ?> engine;
    private final Generation generation;
    private final Thread waiter = Thread.currentThread();
    private final AtomicInteger state = new AtomicInteger(WAITING);
    @Nullable Tensors outputs;
    @Nullable ScoringException error;
    long dequeuedNanos;
    long inferNanos;

    WaitingRecord(Engine<?, ?> engine, Generation generation, Step step, Tensors inputs, long deadline, long submitted) {
        super(step, inputs, deadline, submitted);
        this.engine = engine;
        this.generation = generation;
    }

    @Override
    protected void complete(@Nullable Tensors outputs, @Nullable ScoringException error, long dequeuedNanos,
                            long inferNanos) {
        this.outputs = outputs;
        this.error = error;
        this.dequeuedNanos = dequeuedNanos;
        this.inferNanos = inferNanos;
        if (state.compareAndSet(WAITING, DONE)) { // publishes the fields; the caller owns the count again
            LockSupport.unpark(waiter);
        } else {
            generation.exit(1); // the caller gave up: the count was left with this request
        }
    }

    /**
     * Waits until the record completes (the count is then the caller's again) or its deadline passes.
     *
     * @throws ScoringException DEADLINE_EXCEEDED at the deadline, UNAVAILABLE when interrupted; the count then
     *     stays with this request
     */
    void await(long deadline) {
        while (state.get() != DONE) {
            if (Thread.interrupted()) {
                if (state.compareAndSet(WAITING, ABANDONED)) {
                    Thread.currentThread().interrupt();
                    throw new ScoringException(Kind.UNAVAILABLE, "pipeline '" + engine.name
                            + "': interrupted while waiting for a batch");
                }
                Thread.currentThread().interrupt(); // completed meanwhile: keep the result and the flag
                return;
            }
            if (deadline == Engine.NO_DEADLINE) {
                LockSupport.park(this);
                continue;
            }
            long left = deadline - engine.ticker.read();
            if (left <= 0) {
                if (state.compareAndSet(WAITING, ABANDONED)) {
                    throw new ScoringException(Kind.DEADLINE_EXCEEDED, "pipeline '" + engine.name
                            + "': deadline passed while waiting for a batch at step '" + step.name() + "'");
                }
                return; // completed meanwhile
            }
            LockSupport.parkNanos(this, left);
        }
    }
}
