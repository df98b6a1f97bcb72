package dev.nearline.core.internal;

import dev.nearline.api.Model;
import dev.nearline.api.RowBatch;
import dev.nearline.api.RowPostprocessor;
import dev.nearline.api.RowPreprocessor;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.api.Tensors;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One record of a synchronous {@code score} on a row of one (see {@link RowPlan#forOne}): the preprocessor writes
 * the record straight into the model's reused input buffer, the model runs, and the postprocessor reads the
 * (pinned) output in place, so that a record makes no tensors of its own. The record fails as it would on the
 * per-record path: the preprocessor's and postprocessor's errors are the same, and whenever the row cannot show
 * the model's verdict (the model offers no row batch, the record is not one row, the call fails, an output is not
 * one row) the caller scores the record on the per-record path, which gives its usual answer or message.
 * Stateless; thread-safe.
 *
 * @param <I> record type
 * @param <O> result type
 */
final class RowOne<I, O> {
    /** What {@link #score} returns when the record must take the per-record path. */
    static final Object PER_RECORD = new Object();
    /**
     * What {@link #score} returns when the model offers no row batch, or its outputs are not one row per record:
     * no later record need try (the record itself takes the per-record path).
     */
    static final Object NO_ROWS = new Object();

    private final Engine<I, O> engine;

    RowOne(Engine<I, O> engine) {
        this.engine = engine;
    }

    /**
     * Scores {@code record} on a row, reporting to the listener as the per-record path does when {@code time}
     * (from {@code start}) or when it is timed, and feeding the model call's time to {@code policy} unless it is
     * null; returns the result, {@link #PER_RECORD} or {@link #NO_ROWS}.
     *
     * @throws ScoringException what the stages report, or DEADLINE_EXCEEDED, as on the per-record path
     */
    @SuppressWarnings("unchecked")
    Object score(RowPlan plan, I record, long deadline, boolean time, long start, @Nullable BatchPolicy policy) {
        Step step = plan.step;
        Model model = Objects.requireNonNull(step.model());
        RowBatch batch;
        try {
            batch = model.newRowBatch(1);
        } catch (Throwable e) { // NOPMD: the per-record path will tell the record what went wrong
            return PER_RECORD;
        }
        if (batch == null) {
            return NO_ROWS;
        }
        try (batch) {
            StepRunner<I, O> runner = engine.runner;
            EngineRowWriter writer = new EngineRowWriter(plan);
            try {
                ((RowPreprocessor<Object>) runner.preprocessor()).preprocessRow(record, writer.at(batch.row(0)));
                writer.checkComplete();
            } catch (EngineRowWriter.NotARow e) {
                return PER_RECORD;
            } catch (Throwable e) { // NOPMD: one record's failure, an Error included, stays with that record
                throw Failures.preprocessing(engine.name, e);
            }
            runner.checkDeadline(deadline, step);
            Duration timeout = deadline == Deadlines.NONE ? null
                    : Duration.ofNanos(Math.max(1, deadline - engine.ticker.read()));
            boolean measure = time || engine.timed || policy != null;
            long t1 = measure ? engine.ticker.read() : 0;
            Tensors out;
            try {
                out = batch.run(1, timeout);
            } catch (Throwable e) { // NOPMD: the per-record path repeats the call and reports its failure
                return PER_RECORD;
            }
            if (!plan.outputsHaveRows(out, 1)) {
                return NO_ROWS; // an output not by rows: no later record tries either (each would run twice)
            }
            long t2 = measure ? engine.ticker.read() : 0;
            if (policy != null) {
                policy.recordInline(t2 - t1);
            }
            if (engine.timed) {
                Objects.requireNonNull(engine.events).stepCompleted(engine.name, step.name(), 1, time ? t2 - t1 : -1);
            }
            runner.checkBeforePostprocessor(deadline);
            O result;
            try {
                result = ((RowPostprocessor<? extends O>) runner.postprocessor()).postprocessRow(out, 0);
            } catch (ScoringException e) {
                throw e;
            } catch (Throwable e) { // NOPMD: see above
                throw Failures.internal("pipeline '" + engine.name + "': postprocessor failed on outputs " + out, e);
            }
            if (result == null) {
                throw new ScoringException(Kind.INTERNAL, "pipeline '" + engine.name + "': postprocessor returned null");
            }
            if (time) {
                Objects.requireNonNull(engine.events).recordScored(engine.name, 0, t1 - start, t2 - t1,
                        engine.ticker.read() - t2);
            } else if (engine.timed) {
                Objects.requireNonNull(engine.events).recordScored(engine.name, -1, -1, -1, -1);
            }
            return result;
        }
    }
}
