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
 * The columnar path for several records (see {@link RowPlan}), used by {@code scoreAll} and by the
 * micro-batcher: each record is written straight into its row of the model's batch buffers, the model runs once
 * over the rows, and each result is read from its row of the outputs in place; no per-record tensors. A record
 * the preprocessor rejects fails alone with the message the per-record path gives; a record that fits the model
 * but not one row (a tensors record of several rows) is scored on its own by the per-record path.
 *
 * @param <I> record type
 * @param <O> result type
 */
final class RowCall<I, O> {
    private final Engine<I, O> engine;
    private final RowPlan plan;

    RowCall(Engine<I, O> engine, RowPlan plan) {
        this.engine = engine;
        this.plan = plan;
    }

    /**
     * Scores {@code records[0..n)}, each with its deadline ({@code deadlines[i]}, or {@code deadline} for every
     * record when {@code deadlines} is null); fills {@code results[i]} or {@code errors[i]}, and {@code inferNanos}
     * when given with the model call's duration (-1 when neither a listener nor the batching policy wants it, and
     * the clock was not read). Returns false when the batched call failed or its outputs are not one row per
     * record: the caller then ignores both arrays and scores the records one by one, which isolates a bad record.
     */
    @SuppressWarnings("unchecked")
    boolean run(@Nullable Object[] records, int n, long deadline, long @Nullable [] deadlines,
                @Nullable Object[] results, @Nullable ScoringException[] errors, long @Nullable [] inferNanos) {
        Step step = plan.step;
        Model model = Objects.requireNonNull(step.model());
        RowPreprocessor<Object> pre = (RowPreprocessor<Object>) engine.runner.preprocessor();
        RowPostprocessor<? extends O> post = (RowPostprocessor<? extends O>) engine.runner.postprocessor();
        RowBatch offered;
        try {
            offered = model.newRowBatch(n);
        } catch (Throwable e) { // NOPMD: the per-record path will tell each record what went wrong
            return false;
        }
        try (RowBatch batch = offered != null ? offered : new HeapRowBatch(model, plan, n)) {
            EngineRowWriter writer = new EngineRowWriter(plan);
            int[] index = new int[n];
            boolean[] alone = null;
            int rows = 0;
            long latest = Long.MIN_VALUE;
            for (int i = 0; i < n; i++) {
                Object record = records[i];
                if (record == null) {
                    errors[i] = ScoringException.invalidInput("pipeline '" + engine.name + "': record is null");
                    continue;
                }
                try {
                    pre.preprocessRow(record, writer.at(batch.row(rows)));
                    writer.checkComplete();
                    index[rows++] = i;
                    if (deadlines != null) {
                        latest = Math.max(latest, deadlines[i]);
                    }
                } catch (EngineRowWriter.NotARow e) {
                    alone = alone == null ? new boolean[n] : alone;
                    alone[i] = true;
                } catch (Throwable e) { // NOPMD: one record's failure, an Error included, stays with that record
                    errors[i] = Failures.preprocessing(engine.name, e);
                }
            }
            if (deadlines == null) {
                latest = deadline;
            }
            if (rows > 0 && !runRows(batch, rows, index, deadlines, latest, post, results, errors, inferNanos)) {
                return false;
            }
            if (alone != null) {
                for (int i = 0; i < n; i++) {
                    if (alone[i]) {
                        try {
                            results[i] = engine.scoreOne((I) records[i], new Step[] {step},
                                    deadlines == null ? deadline : deadlines[i]);
                        } catch (ScoringException e) {
                            errors[i] = e;
                        }
                    }
                }
            }
        }
        return true;
    }

    /**
     * Runs the batch's first {@code rows} rows (row {@code r} holds record {@code index[r]}) and reads each result,
     * in one pass when the postprocessor reads rows in bulk ({@link RowsReader}) and no record has a deadline.
     * {@code deadlines} null: no record has its own deadline, and {@code latest} is the batch's.
     */
    private boolean runRows(RowBatch batch, int rows, int[] index, long @Nullable [] deadlines, long latest,
                            RowPostprocessor<? extends O> post, @Nullable Object[] results,
                            @Nullable ScoringException[] errors, long @Nullable [] inferNanos) {
        Step step = plan.step;
        boolean anyDeadline = deadlines == null && latest != Deadlines.NONE;
        for (int r = 0; deadlines != null && r < rows && !anyDeadline; r++) {
            anyDeadline = deadlines[index[r]] != Deadlines.NONE;
        }
        // The clock is read only when a deadline, the batching policy or a listener needs it.
        long now = anyDeadline ? engine.ticker.read() : 0;
        // The call gets the time left to the latest record; a record already late does not hold up the others.
        int live = rows;
        for (int r = 0; anyDeadline && r < rows; r++) {
            int i = index[r];
            long d = deadlines == null ? latest : deadlines[i];
            if (d != Deadlines.NONE && now - d >= 0) {
                errors[i] = new ScoringException(Kind.DEADLINE_EXCEEDED, "pipeline '" + engine.name
                        + "': deadline passed before step '" + step.name() + "'");
                live--;
            }
        }
        if (live == 0) {
            return true;
        }
        Duration timeout = latest == Deadlines.NONE ? null : Duration.ofNanos(Math.max(1, latest - now));
        Tensors out;
        boolean measure = engine.measuresCalls();
        long s0 = measure ? engine.ticker.read() : 0;
        try {
            out = batch.run(rows, timeout);
        } catch (Throwable e) { // NOPMD: a failed batch is redone record by record, whatever it threw
            return false;
        }
        long d = measure ? engine.ticker.read() - s0 : -1;
        if (!plan.outputsHaveRows(out, rows)) { // every declared output must have one row per record
            return false;
        }
        engine.rowsCalled(step.name(), rows, d);
        if (inferNanos != null) {
            for (int r = 0; r < rows; r++) {
                inferNanos[index[r]] = d;
            }
        }
        if (!anyDeadline && post instanceof RowsReader && readAll((RowsReader) post, out, rows, index, results)) {
            return true;
        }
        for (int r = 0; r < rows; r++) {
            int i = index[r];
            if (errors[i] != null) {
                continue;
            }
            try {
                engine.runner.checkBeforePostprocessor(deadlines == null ? latest : deadlines[i]);
                O result = post.postprocessRow(out, r);
                if (result == null) {
                    throw new ScoringException(Kind.INTERNAL, "pipeline '" + engine.name + "': postprocessor returned null");
                }
                results[i] = result;
            } catch (ScoringException e) {
                errors[i] = e;
            } catch (Throwable e) { // NOPMD: see above
                errors[i] = Failures.internal("pipeline '" + engine.name + "': postprocessor failed on row " + r
                        + " of outputs " + out, e);
            }
        }
        return true;
    }

    /**
     * Every row's result in one pass; false (results cleared) when the reader failed or gave no result for a row,
     * and the caller reads the rows one by one, which reports each failure as that path does.
     */
    private static boolean readAll(RowsReader reader, Tensors out, int rows, int[] index, @Nullable Object[] results) {
        boolean whole;
        try {
            reader.postprocessRows(out, rows, index, results);
            whole = true;
            for (int r = 0; r < rows && whole; r++) {
                whole = results[index[r]] != null;
            }
        } catch (Throwable e) { // NOPMD: the rows are read again one by one, which reports the failure
            whole = false;
        }
        if (!whole) {
            for (int r = 0; r < rows; r++) {
                results[index[r]] = null;
            }
        }
        return whole;
    }
}
