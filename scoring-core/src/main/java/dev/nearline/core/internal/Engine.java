package dev.nearline.core.internal;

import dev.nearline.api.Model;
import dev.nearline.api.Outcome;
import dev.nearline.api.Postprocessor;
import dev.nearline.api.Preprocessor;
import dev.nearline.api.RowPostprocessor;
import dev.nearline.api.RowPreprocessor;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringListener;
import dev.nearline.api.Tensors;
import dev.nearline.api.Ticker;
import dev.nearline.core.DriftMonitor;
import dev.nearline.core.ManagedScorer;
import dev.nearline.core.internal.Generations.Generation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine behind every scorer. {@code score} runs on the caller's thread (or, when batching pays, joins a
 * micro-batch); {@code scoreAsync} runs on a bounded pool or through the micro-batcher; {@code scoreAll}
 * batches each model step where that is provably right ({@link BatchCall}). Every path runs a record's
 * stages through one {@link StepRunner}; records in flight and model lifetimes are kept by
 * {@link Generations}. Thread-safe.
 *
 * @param <I> record type
 * @param <O> result type
 */
public final class Engine<I, O> implements ManagedScorer<I, O> {
    /** Created on first use: SLF4J's start-up is measurable in a cold start and this path rarely logs. */
    private static final class Log {
        static final Logger LOG = LoggerFactory.getLogger(Engine.class);
    }
    static final long NO_DEADLINE = Deadlines.NONE;
    /** The start of a record that is not timed. */
    static final long UNTIMED = Long.MIN_VALUE;

    final String name;
    final Ticker ticker;
    final StepRunner<I, O> runner;
    /** A synchronous record on a row of one; null unless both stages work on rows (nothing more is loaded then). */
    private final @Nullable RowOne<I, O> rowOne;
    final Generations generations;
    /** The guarded listener and observer, or null when neither is set. */
    final @Nullable GuardedListener events;
    /** Whether a listener wants events (so the clock is read). */
    final boolean timed;
    private final boolean observed;
    /** The listener's {@link ScoringListener#timingInterval()}: the synchronous path times one record in this many. */
    private final int timingInterval;
    private final Deadlines deadlines;
    private final Duration closeGracePeriod;
    private final AsyncPool pool;
    private final @Nullable MicroBatcher batcher;
    /** When synchronous calls batch; null, like {@link #batcher}, when batching is off. */
    private final @Nullable BatchPolicy policy;
    private final @Nullable DriftMonitor monitor;
    private final AtomicBoolean closeCalled = new AtomicBoolean();

    /** An engine over the given stages; it owns the models in {@code steps} and closes them. */
    public Engine(Preprocessor<? super I> preprocessor, List<Step> steps, Postprocessor<? extends O> postprocessor,
                  EngineOptions options) {
        this.name = options.name();
        this.ticker = options.ticker();
        ScoringListener listener = options.listener();
        this.timed = listener != ScoringListener.NONE;
        this.observed = options.observer() != RecordObserver.NONE;
        this.events = timed || observed ? new GuardedListener(name, listener, options.observer()) : null;
        this.timingInterval = timed ? Objects.requireNonNull(events).timingInterval() : 1;
        this.runner = new StepRunner<>(name, preprocessor, postprocessor, ticker, timed ? events : null);
        this.rowOne = preprocessor instanceof RowPreprocessor && postprocessor instanceof RowPostprocessor
                ? new RowOne<>(this) : null;
        this.monitor = options.monitor();
        this.deadlines = new Deadlines(ticker, options.defaultTimeout());
        this.closeGracePeriod = options.closeGracePeriod();
        Step[] stepArray = steps.toArray(new Step[0]);
        if (!anyModel(stepArray)) {
            throw new IllegalArgumentException("pipeline '" + name + "' has no model step");
        }
        Bindings.check(name, preprocessor, stepArray);
        // A class, not this::closeQuietly: building a scorer spins no lambda class (see SystemTicker).
        this.generations = new Generations(name, stepArray, options.maxInFlight(), new ModelCloser());
        Warmup.run(name, stepArray, options.warmupRecords(), ticker);
        this.pool = new AsyncPool(name, options.asyncThreads(), options.asyncQueueCapacity());
        EngineOptions.Batching b = options.batching();
        // Without batching, neither the batcher nor the policy (nor their classes) is loaded.
        boolean batching = b != null && MicroBatcher.appliesTo(name, b, stepArray[0]);
        this.policy = batching ? new BatchPolicy(Objects.requireNonNull(b).sync(), Runtime.getRuntime().availableProcessors(),
                b.threads(), b.maxBatchSize(), ticker) : null;
        this.batcher = batching ? MicroBatcher.forFirstStep(this, Objects.requireNonNull(b), stepArray[0].name()) : null;
        if (timed) {
            Objects.requireNonNull(events).gauges(this::inFlight, this::queueDepth);
        }
    }

    // ------------------------------------------------------------------ public API

    @Override
    public O score(I record) {
        return score(record, deadlines.fromDefault());
    }

    @Override
    public O score(I record, Duration timeout) {
        return score(record, deadlines.after(timeout));
    }

    @Override
    public CompletableFuture<O> scoreAsync(I record) {
        return scoreAsync(record, deadlines.fromDefault());
    }

    @Override
    public CompletableFuture<O> scoreAsync(I record, Duration timeout) {
        return scoreAsync(record, deadlines.after(timeout));
    }

    @Override
    public List<Outcome<O>> scoreAll(List<? extends I> records) {
        return scoreAll(records, deadlines.fromDefault());
    }

    @Override
    public List<Outcome<O>> scoreAll(List<? extends I> records, Duration timeout) {
        return scoreAll(records, deadlines.after(timeout));
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int inFlight() {
        return generations.inFlight();
    }

    @Override
    public Optional<DriftMonitor> monitor() {
        return Optional.ofNullable(monitor);
    }

    @Override
    public int queueDepth() {
        return pool.depth() + (batcher == null ? 0 : batcher.depth());
    }

    @Override
    public void swapModel(String stepName, Model replacement) {
        Objects.requireNonNull(stepName, "step");
        Objects.requireNonNull(replacement, "replacement model must not be null");
        int index = generations.swap(stepName, replacement);
        if (index < 0) {
            Log.LOG.debug("pipeline '{}': step '{}' already runs that model; nothing to swap", name, stepName);
            return;
        }
        if (index == 0 && policy != null) {
            policy.reset(); // the batching decision was measured on the old model
        }
        Log.LOG.info("pipeline '{}': step '{}' swapped; the old model closes after its last call", name, stepName);
    }

    @Override
    public void close() {
        if (!closeCalled.compareAndSet(false, true)) {
            return;
        }
        CompletableFuture<Void> drained = generations.close();
        // Queued records were never started: fail them now. Records already running are not interrupted.
        pool.shutdown(generations.closedError());
        if (batcher != null) {
            batcher.close();
        }
        try {
            drained.get(closeGracePeriod.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            Log.LOG.warn("pipeline '{}': {} records still in flight after the close grace period of {}; failing queued "
                    + "records, and closing models once running calls return", name, inFlight(), closeGracePeriod);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            Log.LOG.warn("pipeline '{}': closing the models failed", name, e.getCause());
        }
        if (batcher != null) {
            batcher.abort();
        }
        Log.LOG.debug("pipeline '{}' closed", name);
    }

    @Override
    public String toString() {
        return "Scorer[" + name + ", steps=" + generations + "]";
    }

    // ------------------------------------------------------------------ synchronous path

    @SuppressWarnings("unchecked") // a row's result is the postprocessor's O
    private O score(I record, long deadline) {
        Generation g = enter(1);
        // Sampled timing only on the inline path: a record that may join a batch is always timed.
        boolean time = timed && (batcher != null || timingInterval == 1
                || ThreadLocalRandom.current().nextInt(timingInterval) == 0);
        long start = time ? ticker.read() : UNTIMED;
        boolean handedOff = false; // true while the count of this record belongs to a queued batch request
        try {
            Step[] steps = g.steps;
            BatchPolicy p = policy; // null exactly when batcher is
            boolean join = batcher != null && p != null && p.mayBatch() && steps[0].batchState() != Step.BATCH_OFF
                    && p.batchSync(g.inFlight.get());
            RowOne<I, O> rows = rowOne;
            if (!join && rows != null && record != null && runner.rowsAllowed(deadline)) {
                RowPlan one = onePlan(g);
                Object r = one == null ? RowOne.PER_RECORD
                        : rows.score(one, record, deadline, time, start, p != null && p.sampleInline() ? p : null);
                if (r == RowOne.NO_ROWS) {
                    g.onePlan = null;
                } else if (r != RowOne.PER_RECORD) {
                    return (O) r;
                }
            }
            Tensors pre = runner.preprocess(record, deadline);
            if (join) {
                runner.checkDeadline(deadline, steps[0]);
                WaitingRecord r = new WaitingRecord(this, g, steps[0], steps[0].bind(pre), deadline, ticker.read());
                handedOff = true;
                Objects.requireNonNull(batcher).submit(r);
                r.await(deadline); // throws once the record is abandoned: its count stays with the request
                handedOff = false;
                return finishBatched(g, record, pre, r, deadline, start);
            }
            long t1 = time ? ticker.read() : 0;
            Tensors last = runner.run(steps, 0, pre, pre, deadline, time,
                    p != null && p.sampleInline() ? p : null);
            long t2 = time ? ticker.read() : 0;
            O result = runner.postprocess(last, deadline);
            if (time) {
                Objects.requireNonNull(events).recordScored(name, 0, t1 - start, t2 - t1, ticker.read() - t2);
            } else if (timed) {
                Objects.requireNonNull(events).recordScored(name, -1, -1, -1, -1);
            }
            observe(record, pre, last, result);
            return result;
        } catch (ScoringException e) {
            failed(e, start);
            throw e;
        } catch (Throwable e) { // NOPMD: never an Error at the caller; the stages already turn theirs into kinds
            ScoringException err = Failures.internal("pipeline '" + name + "'", e);
            failed(err, start);
            throw err;
        } finally {
            if (!handedOff) {
                g.exit(1);
            }
        }
    }

    /** The rest of a synchronous record after its batched first step, on the caller's thread. */
    private O finishBatched(Generation g, I record, Tensors pre, WaitingRecord r, long deadline, long start) {
        ScoringException error = r.error;
        if (error != null) {
            throw error;
        }
        long t0 = timed ? ticker.read() : 0;
        O result = finish(g, record, pre, Objects.requireNonNull(r.outputs), deadline);
        if (timed) {
            // timed implies start was read: a record that may batch is always timed (see score)
            Objects.requireNonNull(events).recordScored(name, r.dequeuedNanos - r.enqueuedNanos, r.enqueuedNanos - start,
                    r.inferNanos, ticker.read() - t0);
        }
        return result;
    }

    /** Runs the steps after a batched first step, then the postprocessor. */
    O finish(Generation g, Object record, Tensors pre, Tensors firstOut, long deadline) {
        Step[] steps = g.steps;
        Tensors available = steps.length == 1 ? firstOut : pre.withAll(firstOut);
        Tensors last = runner.run(steps, 1, available, firstOut, deadline, timed, null);
        O result = runner.postprocess(last, deadline);
        observe(record, pre, last, result);
        return result;
    }

    /** One record's stages on the calling thread, already admitted (within a batch); no observer runs. */
    O scoreOne(I record, Step[] steps, long deadline) {
        Tensors pre = runner.preprocess(record, deadline);
        return runner.postprocess(runner.run(steps, 0, pre, pre, deadline, timed, null), deadline);
    }

    // ------------------------------------------------------------------ asynchronous path

    private CompletableFuture<O> scoreAsync(I record, long deadline) {
        Generation g;
        try {
            g = enter(1);
        } catch (ScoringException e) {
            return CompletableFuture.failedFuture(e);
        }
        long submitted = ticker.read();
        boolean handedOff = false;
        try {
            Step first = g.steps[0];
            RowPlan plan = batcher != null ? rowPlan(g) : null;
            if (plan != null) {
                // The dispatcher writes the record into its row: nothing to do on the caller's thread.
                RowRecord<I, O> r = new RowRecord<>(this, g, first, record, deadline,
                        submitted);
                handedOff = true;
                Objects.requireNonNull(batcher).submit(r);
                return r.future;
            }
            if (batcher != null && first.batchState() != Step.BATCH_OFF) {
                // Preprocess on the caller's thread, then hand the bound inputs to the batcher.
                Tensors pre = runner.preprocess(record, deadline);
                runner.checkDeadline(deadline, first);
                BatchedRecord<I, O> r = new BatchedRecord<>(this, g, first, first.bind(pre), record, pre, deadline, submitted);
                handedOff = true;
                batcher.submit(r);
                return r.future;
            }
            AsyncTask<I, O> task = new AsyncTask<>(this, g, record, deadline, submitted);
            handedOff = true;
            if (!pool.execute(task)) {
                handedOff = false;
                throw generations.isClosed() ? generations.closedError()
                        : new ScoringException(Kind.OVERLOADED, "pipeline '" + name + "': async queue is full ("
                        + queueDepth() + " records waiting); back off and retry");
            }
            return task.future;
        } catch (ScoringException e) {
            failed(e, submitted);
            return CompletableFuture.failedFuture(e);
        } catch (Throwable e) { // NOPMD: a failed future, never an Error thrown at the caller
            ScoringException err = Failures.internal("pipeline '" + name + "': could not queue the record", e);
            failed(err, submitted);
            return CompletableFuture.failedFuture(err);
        } finally {
            if (!handedOff) {
                g.exit(1);
            }
        }
    }

    /** Runs a queued async record on a pool thread. */
    O runQueued(Generation g, I record, long deadline, long submitted) {
        long start = timed ? ticker.read() : 0;
        Tensors pre = runner.preprocess(record, deadline);
        long t1 = timed ? ticker.read() : 0;
        Tensors last = runner.run(g.steps, 0, pre, pre, deadline, timed, null);
        long t2 = timed ? ticker.read() : 0;
        O result = runner.postprocess(last, deadline);
        if (timed) {
            Objects.requireNonNull(events).recordScored(name, start - submitted, t1 - start, t2 - t1, ticker.read() - t2);
        }
        observe(record, pre, last, result);
        return result;
    }

    // ------------------------------------------------------------------ batches

    private List<Outcome<O>> scoreAll(List<? extends I> records, long deadline) {
        int counted = Math.max(1, records.size());
        Generation g = enter(counted);
        try {
            RowPlan plan = records.size() > 1 ? rowPlan(g) : null;
            if (plan != null) {
                List<Outcome<O>> byRows = new RowScoring<>(this, plan, records, deadline).run();
                if (byRows != null) {
                    return byRows;
                }
            }
            return new BatchScoring<>(this, g, records, deadline).run();
        } catch (ScoringException e) {
            throw e;
        } catch (Throwable e) { // NOPMD: the stages fail records one by one; this is the engine's own failure
            throw Failures.internal("pipeline '" + name + "': scoreAll failed", e);
        } finally {
            g.exit(counted);
        }
    }

    // ------------------------------------------------------------------ admission, deadlines, events

    private Generation enter(int records) {
        try {
            return generations.enter(records);
        } catch (ScoringException e) {
            failed(e, timed ? ticker.read() : UNTIMED);
            throw e;
        }
    }

    /** The plan of generation {@code g} for one record on a row of one ({@link RowOne}), or null. */
    private @Nullable RowPlan onePlan(Generation g) {
        if (!g.onePlanDecided) {
            g.onePlan = RowPlan.forOne(g.steps, runner.preprocessor(), runner.postprocessor(), observed);
            g.onePlanDecided = true;
        }
        return g.onePlan;
    }

    /**
     * The columnar plan of generation {@code g}, or null when its batches take the per-record path; decided once
     * the first step's batching verdict is known (an undeclared model's first batches are probed per record).
     */
    @Nullable RowPlan rowPlan(Generation g) {
        if (g.rowPlanDecided) {
            return g.rowPlan;
        }
        RowPlan plan = RowPlan.of(g.steps, runner.preprocessor(), runner.postprocessor(), observed);
        if (g.steps[0].batchState() != Step.BATCH_UNPROVEN) {
            g.rowPlan = plan;
            g.rowPlanDecided = true;
        }
        return plan;
    }

    /** Whether model calls are timed: for the batching policy or a listener. */
    boolean measuresCalls() {
        return policy != null || timed;
    }

    /** A batched model call (columnar or not) over {@code rows} records took {@code nanos}: the policy and the listener. */
    void rowsCalled(String step, int rows, long nanos) {
        if (policy != null) {
            policy.recordBatch(rows, nanos);
        }
        if (timed) {
            Objects.requireNonNull(events).stepCompleted(name, step, rows, nanos);
        }
    }

    /** Reports a failure of a record that started at {@code start}, or {@link #UNTIMED}. */
    void failed(ScoringException e, long start) {
        if (timed) {
            Objects.requireNonNull(events).recordFailed(name, e.kind(), start == UNTIMED ? -1 : ticker.read() - start);
        }
    }

    void observe(Object record, Tensors pre, Tensors last, Object result) {
        if (observed) {
            Objects.requireNonNull(events).observe(record, pre, last, result);
        }
    }

    private static boolean anyModel(Step[] steps) {
        for (Step s : steps) {
            if (s.isModel()) {
                return true;
            }
        }
        return false;
    }

    /** Closes a retired model: {@link #closeQuietly}. */
    private final class ModelCloser implements java.util.function.BiConsumer<String, Model> {
        @Override
        public void accept(String stepName, Model m) {
            closeQuietly(stepName, m);
        }
    }

    private void closeQuietly(String stepName, Model m) {
        try {
            m.close();
        } catch (Throwable e) { // NOPMD: one model's failing close must not stop the others
            Log.LOG.warn("pipeline '{}': closing step '{}' failed", name, stepName, e);
        }
    }
}
