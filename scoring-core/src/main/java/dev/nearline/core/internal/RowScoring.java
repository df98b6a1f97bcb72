package dev.nearline.core.internal;

import dev.nearline.api.Outcome;
import dev.nearline.api.ScoringException;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One {@code scoreAll} on the columnar path ({@link RowCall}); null when the caller must take the per-record
 * path instead (the batched call failed). Used once, on the caller's thread.
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
        long start = engine.timed ? engine.ticker.read() : 0;
        Object[] results = new Object[n];
        @Nullable ScoringException[] errors = new ScoringException[n];
        if (!new RowCall<>(engine, plan).run(records.toArray(), n, deadline, null, results, errors, null)) {
            return null;
        }
        long end = engine.timed ? engine.ticker.read() : 0;
        return BatchScoring.outcomes(engine, (O[]) results, errors, start, start, end);
    }
}
