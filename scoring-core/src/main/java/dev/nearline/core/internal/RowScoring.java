package dev.nearline.core.internal;

import dev.nearline.api.Model;
import dev.nearline.api.Outcome;
import dev.nearline.api.RowBatch;
import dev.nearline.api.RowPostprocessor;
import dev.nearline.api.RowPreprocessor;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.api.Tensors;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One {@code scoreAll} on the columnar path (see {@link RowPlan}): each record is written straight into its row
 * of the model's batch buffers, the model runs once over the rows, and each result is read from its row of the
 * outputs in place; no per-record tensors. A record the preprocessor rejects fails alone with the message the
 * per-record path gives. If the batched call fails, or an output does not have one row per record, this returns
 * null and the caller takes the per-record path, which isolates a bad record. Used once, on the caller's
 * thread.
 *
 * @param <I> record type
 * @param <O> result type
 */
final class RowScoring<I, O> {
    private final Engine<I, O> engine;
    private final RowPlan plan;
    private final List<? extends I> records;
    private final long deadline;

    RowScoring(Engine<I, O> engine, RowPlan plan, List<? extends I> records, long deadline) {
        this.engine = engine;
        this.plan = plan;
        this.records = records;
        this.deadline = deadline;
    }

    @SuppressWarnings("unchecked")
    @Nullable List<Outcome<O>> run() {
        int n = records.size();
        Step step = plan.step;
        Model model = Objects.requireNonNull(step.model());
        RowPreprocessor<? super I> pre = (RowPreprocessor<? super I>) engine.runner.preprocessor();
        RowPostprocessor<? extends O> post = (RowPostprocessor<? extends O>) engine.runner.postprocessor();
        boolean timed = engine.timed;
        long start = timed ? engine.ticker.read() : 0;
        RowBatch offered;
        try {
            offered = model.newRowBatch(n);
        } catch (Throwable e) { // NOPMD: the per-record path will tell the record what went wrong
            return null;
        }
        @Nullable ScoringException[] errors = new ScoringException[n];
        O[] results = (O[]) new Object[n];
        try (RowBatch batch = offered != null ? offered : new HeapRowBatch(model, plan, n)) {
            EngineRowWriter writer = new EngineRowWriter(plan);
            int[] index = new int[n];
            int rows = 0;
            boolean[] alone = null; // records that are not one row: scored on their own after the batch
            for (int i = 0; i < n; i++) {
                I record = records.get(i);
                if (record == null) {
                    errors[i] = ScoringException.invalidInput("pipeline '" + engine.name + "': record is null");
                    continue;
                }
                try {
                    pre.preprocessRow(record, writer.at(batch.row(rows)));
                    writer.checkComplete();
                    index[rows++] = i;
                } catch (EngineRowWriter.NotARow e) {
                    alone = alone == null ? new boolean[n] : alone;
                    alone[i] = true;
                } catch (Throwable e) { // NOPMD: one record's failure, an Error included, stays with that record
                    errors[i] = Failures.preprocessing(engine.name, e);
                }
            }
            long t1 = timed ? engine.ticker.read() : 0;
            if (rows > 0) {
                Tensors out = runRows(batch, rows, index, errors);
                if (out == null) {
                    return null;
                }
                long t2 = timed ? engine.ticker.read() : 0;
                for (int r = 0; r < rows; r++) {
                    int i = index[r];
                    if (errors[i] != null) {
                        continue;
                    }
                    try {
                        engine.runner.checkBeforePostprocessor(deadline);
                        O result = post.postprocessRow(out, r);
                        if (result == null) {
                            throw new ScoringException(Kind.INTERNAL, "pipeline '" + engine.name
                                    + "': postprocessor returned null");
                        }
                        results[i] = result;
                    } catch (ScoringException e) {
                        errors[i] = e;
                    } catch (Throwable e) { // NOPMD: see above
                        errors[i] = Failures.internal("pipeline '" + engine.name + "': postprocessor failed on row "
                                + r + " of outputs " + out, e);
                    }
                }
                scoreAlone(alone, results, errors);
                return BatchScoring.outcomes(engine, results, errors, start, t1, t2);
            }
            scoreAlone(alone, results, errors);
            return BatchScoring.outcomes(engine, results, errors, start, t1, t1);
        }
    }

    /** Scores each record marked in {@code alone} on the per-record path. */
    private void scoreAlone(boolean @Nullable [] alone, O[] results, @Nullable ScoringException[] errors) {
        if (alone == null) {
            return;
        }
        for (int i = 0; i < alone.length; i++) {
            if (alone[i]) {
                try {
                    results[i] = engine.scoreOne(records.get(i), new Step[] {plan.step}, deadline);
                } catch (ScoringException e) {
                    errors[i] = e;
                }
            }
        }
    }

    /** Runs the model over the filled rows; null when the batch must be redone record by record. */
    private @Nullable Tensors runRows(RowBatch batch, int rows, int[] index, @Nullable ScoringException[] errors) {
        Step step = plan.step;
        long left = -1;
        if (deadline != Deadlines.NONE) {
            left = deadline - engine.ticker.read();
            if (left <= 0) {
                for (int r = 0; r < rows; r++) {
                    errors[index[r]] = new ScoringException(Kind.DEADLINE_EXCEEDED, "pipeline '" + engine.name
                            + "': deadline passed before step '" + step.name() + "'");
                }
                return Tensors.empty();
            }
        }
        long s0 = engine.ticker.read();
        Tensors out;
        try {
            out = batch.run(rows, left < 0 ? null : Duration.ofNanos(left));
        } catch (Throwable e) { // NOPMD: a failed batch is redone record by record, whatever it threw
            return null;
        }
        // Every declared output must have one row per record (a model may add outputs it could not declare, such
        // as the class keys of a ZipMap, which are the same for every record).
        for (String name : plan.declaredOutputs) {
            dev.nearline.api.Tensor t = out.get(name);
            if (t != null && (t.rank() == 0 || t.dim(0) != rows)) {
                return null;
            }
        }
        if (engine.timed) {
            Objects.requireNonNull(engine.events).stepCompleted(engine.name, step.name(), rows,
                    engine.ticker.read() - s0);
        }
        return out;
    }
}
