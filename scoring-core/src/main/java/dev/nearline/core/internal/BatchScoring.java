package dev.nearline.core.internal;

import dev.nearline.api.Outcome;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensors;
import dev.nearline.core.internal.Generations.Generation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One {@code scoreAll} call: every record is preprocessed, then each step runs for all records still alive
 * (a model step as one {@link BatchCall}, a transform record by record through the {@link StepRunner}), then
 * every record is postprocessed. A record's failure, whatever a stage threw, fails that record alone. Used
 * once, on the caller's thread.
 *
 * @param <I> record type
 * @param <O> result type
 */
final class BatchScoring<I, O> {
    private final Engine<I, O> engine;
    private final Generation generation;
    private final List<? extends I> records;
    private final long deadline;
    private final int n;
    private final @Nullable Tensors[] pre;
    private final @Nullable Tensors[] available;
    private final @Nullable Tensors[] last;
    private final @Nullable ScoringException[] errors;

    BatchScoring(Engine<I, O> engine, Generation generation, List<? extends I> records, long deadline) {
        this.engine = engine;
        this.generation = generation;
        this.records = records;
        this.deadline = deadline;
        this.n = records.size();
        this.pre = new Tensors[n];
        this.available = new Tensors[n];
        this.last = new Tensors[n];
        this.errors = new ScoringException[n];
    }

    List<Outcome<O>> run() {
        boolean timed = engine.timed;
        long start = timed ? engine.ticker.read() : 0;
        for (int i = 0; i < n; i++) {
            try {
                Tensors t = engine.runner.preprocess(records.get(i), deadline);
                pre[i] = t;
                available[i] = t;
                last[i] = t;
            } catch (ScoringException e) {
                errors[i] = e;
            }
        }
        long t1 = timed ? engine.ticker.read() : 0;
        Step[] steps = generation.steps;
        for (Step step : steps) {
            if (step.isModel()) {
                runModel(step, steps.length == 1);
            } else {
                runTransform(step);
            }
        }
        long t2 = timed ? engine.ticker.read() : 0;
        @SuppressWarnings("unchecked")
        O[] results = (O[]) new Object[n];
        for (int i = 0; i < n; i++) {
            if (errors[i] == null) {
                try {
                    Tensors out = Objects.requireNonNull(last[i]);
                    O result = engine.runner.postprocess(out, deadline);
                    results[i] = result;
                    engine.observe(Objects.requireNonNull(records.get(i)), Objects.requireNonNull(pre[i]), out, result);
                } catch (ScoringException e) {
                    errors[i] = e;
                }
            }
        }
        return outcomes(engine, results, errors, start, t1, t2);
    }

    /**
     * The outcomes of a batch, one per record in order, and their listener events: a success's time split
     * evenly over the batch's records, a failure's total time since the batch started.
     */
    static <O> List<Outcome<O>> outcomes(Engine<?, O> engine, @Nullable O[] results, @Nullable ScoringException[] errors,
                                         long start, long t1, long t2) {
        int n = results.length;
        List<Outcome<O>> outcomes = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ScoringException e = errors[i];
            outcomes.add(e == null ? Outcome.success(Objects.requireNonNull(results[i])) : Outcome.failure(e));
        }
        if (engine.timed) {
            long t3 = engine.ticker.read();
            GuardedListener events = Objects.requireNonNull(engine.events);
            for (int i = 0; i < n; i++) {
                ScoringException e = errors[i];
                if (e == null) {
                    events.recordScored(engine.name, 0, (t1 - start) / n, (t2 - t1) / n, (t3 - t2) / n);
                } else {
                    events.recordFailed(engine.name, e.kind(), t3 - start);
                }
            }
        }
        return outcomes;
    }

    private void runTransform(Step step) {
        for (int i = 0; i < n; i++) {
            if (errors[i] == null) {
                try {
                    accept(i, engine.runner.runOne(step, Objects.requireNonNull(available[i]), deadline), false);
                } catch (ScoringException e) {
                    errors[i] = e;
                }
            }
        }
    }

    private void runModel(Step step, boolean only) {
        int[] index = new int[n];
        Tensors[] inputs = new Tensors[n];
        int live = 0;
        for (int i = 0; i < n; i++) {
            if (errors[i] != null) {
                continue;
            }
            try {
                engine.runner.checkDeadline(deadline, step);
                inputs[live] = step.bind(Objects.requireNonNull(available[i]));
                index[live++] = i;
            } catch (ScoringException e) {
                errors[i] = e;
            }
        }
        if (live == 0) {
            return;
        }
        long[] deadlines = new long[live];
        Arrays.fill(deadlines, deadline);
        @Nullable Tensors[] outputs = new Tensors[live];
        @Nullable ScoringException[] failures = new ScoringException[live];
        GuardedListener events = engine.timed ? engine.events : null;
        BatchCall.run(engine.name, step, inputs, deadlines, live, engine.ticker, outputs, failures, new long[live],
                (size, nanos) -> {
                    if (events != null) {
                        events.stepCompleted(engine.name, step.name(), size, nanos);
                    }
                });
        for (int k = 0; k < live; k++) {
            int i = index[k];
            ScoringException e = failures[k];
            if (e != null) {
                errors[i] = e;
            } else {
                accept(i, Objects.requireNonNull(outputs[k]), only);
            }
        }
    }

    private void accept(int i, Tensors out, boolean only) {
        available[i] = only ? out : Objects.requireNonNull(available[i]).withAll(out);
        last[i] = out;
    }
}
