package dev.nearline.core.internal;

import dev.nearline.api.Model;
import dev.nearline.api.Outcome;
import dev.nearline.api.Postprocessor;
import dev.nearline.api.Preprocessor;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.api.ScoringListener;
import dev.nearline.api.Tensors;
import dev.nearline.api.Transform;
import dev.nearline.core.DriftMonitor;
import dev.nearline.core.ManagedScorer;
import dev.nearline.core.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine behind every scorer: preprocess, run the steps, postprocess. {@code score} runs on the
 * caller's thread (or, when batching pays, joins a micro-batch); {@code scoreAsync} runs on a bounded
 * pool or through the micro-batcher; {@code scoreAll} makes one batched model call per step.
 *
 * <p>Records in flight are counted per <em>generation</em> of the pipeline's steps: a hot swap starts a
 * new generation, and the replaced model is closed once the last record of the old generation has
 * returned, so a model is never closed under a running call. The same counter bounds admission.
 * Thread-safe.
 *
 * @param <I> record type
 * @param <O> result type
 */
public final class Engine<I, O> implements ManagedScorer<I, O> {
    /** Created on first use: SLF4J's start-up is measurable in a cold start and this path rarely logs. */
    private static final class Log {
        static final Logger LOG = LoggerFactory.getLogger(Engine.class);
    }
    private static final long NO_DEADLINE = Long.MAX_VALUE;
    /** The start of a record that is not timed. */
    private static final long UNTIMED = Long.MIN_VALUE;

    private final String name;
    private final Preprocessor<? super I> preprocessor;
    private final Postprocessor<? extends O> postprocessor;
    private final Ticker ticker;
    private final ScoringListener listener;
    private final boolean timed;
    /** The listener's {@link ScoringListener#timingInterval()}: the synchronous path times one record in this many. */
    private final int timingInterval;
    private final long defaultTimeoutNanos;
    private final int maxInFlight;
    private final Duration closeGracePeriod;
    /** The async pool, created by the first {@code scoreAsync} that needs it (cold start pays nothing for it). */
    private volatile @Nullable ThreadPoolExecutor executor;
    private final int asyncThreads;
    private final int asyncQueueCapacity;
    private final @Nullable MicroBatcher batcher;
    private final BatchPolicy policy;
    private final RecordObserver observer;
    private final @Nullable DriftMonitor monitor;

    private volatile Generation current;
    private final Set<Generation> draining = ConcurrentHashMap.newKeySet();
    private final Object swapLock = new Object();
    private volatile boolean closed;
    private final AtomicBoolean closeCalled = new AtomicBoolean();

    /** Settings of an engine, gathered by the public builders. */
    public record Options(String name, Ticker ticker, @Nullable Duration defaultTimeout, Duration closeGracePeriod,
                          int asyncThreads, int asyncQueueCapacity, int maxInFlight, ScoringListener listener,
                          @Nullable Batching batching, int warmupRecords, RecordObserver observer,
                          @Nullable DriftMonitor monitor) {
        /** Validates. */
        public Options {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(ticker, "ticker");
            Objects.requireNonNull(closeGracePeriod, "closeGracePeriod");
            Objects.requireNonNull(listener, "listener");
            Objects.requireNonNull(observer, "observer");
            if (asyncThreads < 1) {
                throw new IllegalArgumentException("asyncThreads must be at least 1, got " + asyncThreads);
            }
            if (asyncQueueCapacity < 1) {
                throw new IllegalArgumentException("asyncQueueCapacity must be at least 1, got " + asyncQueueCapacity);
            }
        }
    }

    /**
     * Micro-batching settings.
     *
     * @param maxBatchSize  records per model call at most
     * @param maxQueueDelay how long the first record of a batch waits for company at most
     * @param threads       dispatcher threads
     * @param sync          when synchronous {@code score} calls join batches
     */
    public record Batching(int maxBatchSize, Duration maxQueueDelay, int threads, BatchPolicy.Mode sync) {
        /** Validates. */
        public Batching {
            if (maxBatchSize < 1) {
                throw new IllegalArgumentException("maxBatchSize must be at least 1, got " + maxBatchSize);
            }
            if (maxQueueDelay.isNegative()) {
                throw new IllegalArgumentException("maxQueueDelay must not be negative, got " + maxQueueDelay);
            }
            if (threads < 1) {
                throw new IllegalArgumentException("batching threads must be at least 1, got " + threads);
            }
            Objects.requireNonNull(sync, "sync");
        }
    }

    /** An engine over the given stages; it owns the models in {@code steps} and closes them. */
    public Engine(Preprocessor<? super I> preprocessor, List<Step> steps, Postprocessor<? extends O> postprocessor,
                  Options options) {
        this.name = options.name();
        this.preprocessor = Objects.requireNonNull(preprocessor, "preprocessor");
        this.postprocessor = Objects.requireNonNull(postprocessor, "postprocessor");
        this.ticker = options.ticker();
        this.listener = options.listener();
        this.timed = listener != ScoringListener.NONE;
        this.timingInterval = timed ? Math.max(1, listener.timingInterval()) : 1;
        this.observer = options.observer();
        this.monitor = options.monitor();
        this.defaultTimeoutNanos = options.defaultTimeout() == null ? -1 : options.defaultTimeout().toNanos();
        this.maxInFlight = options.maxInFlight();
        this.closeGracePeriod = options.closeGracePeriod();
        Step[] stepArray = steps.toArray(new Step[0]);
        boolean anyModel = false;
        for (Step step : stepArray) {
            anyModel |= step.isModel();
        }
        if (!anyModel) {
            throw new IllegalArgumentException("pipeline '" + name + "' has no model step");
        }
        this.current = new Generation(stepArray);
        warmUp(stepArray, options.warmupRecords());
        this.asyncThreads = options.asyncThreads();
        this.asyncQueueCapacity = options.asyncQueueCapacity();
        Batching b = options.batching();
        if (b != null && stepArray[0].isModel()) {
            BatchPolicy p = new BatchPolicy(b.sync(), Runtime.getRuntime().availableProcessors(), b.threads(),
                    b.maxBatchSize());
            this.policy = p;
            this.batcher = new MicroBatcher(stepArray[0].name(), b.maxBatchSize(), b.maxQueueDelay().toNanos(), b.threads(),
                    ticker, (size, nanos) -> {
                        p.recordBatch(size, nanos);
                        if (timed) {
                            listener.stepCompleted(name, stepArray[0].name(), size, nanos);
                        }
                    });
        } else {
            if (b != null) {
                Log.LOG.warn("pipeline '{}': batching needs a model as the first step; batching is off", name);
            }
            this.batcher = null;
            this.policy = new BatchPolicy(BatchPolicy.Mode.NEVER, 1, 1, 1);
        }
        if (listener instanceof dev.nearline.core.MetricsRecorder) {
            ((dev.nearline.core.MetricsRecorder) listener).attach(this::inFlight, this::queueDepth);
        }
    }

    // ------------------------------------------------------------------ public API

    @Override
    public O score(I record) {
        return score(record, deadlineFromDefault());
    }

    @Override
    public O score(I record, Duration timeout) {
        return score(record, deadlineAfter(timeout));
    }

    @Override
    public CompletableFuture<O> scoreAsync(I record) {
        return scoreAsync(record, deadlineFromDefault());
    }

    @Override
    public CompletableFuture<O> scoreAsync(I record, Duration timeout) {
        return scoreAsync(record, deadlineAfter(timeout));
    }

    @Override
    public List<Outcome<O>> scoreAll(List<? extends I> records) {
        return scoreAll(records, deadlineFromDefault());
    }

    @Override
    public List<Outcome<O>> scoreAll(List<? extends I> records, Duration timeout) {
        return scoreAll(records, deadlineAfter(timeout));
    }

    private List<Outcome<O>> scoreAll(List<? extends I> records, long deadline) {
        Generation g = enter(Math.max(1, records.size()));
        try {
            return scoreBatch(g, records, deadline);
        } finally {
            g.exit(Math.max(1, records.size()));
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int inFlight() {
        int n = current.inFlight.get();
        for (Generation g : draining) {
            n += g.inFlight.get();
        }
        return n;
    }

    @Override
    public Optional<DriftMonitor> monitor() {
        return Optional.ofNullable(monitor);
    }

    @Override
    public int queueDepth() {
        ThreadPoolExecutor e = executor;
        return (e == null ? 0 : e.getQueue().size()) + (batcher == null ? 0 : batcher.depth());
    }

    @Override
    public void swapModel(String stepName, Model replacement) {
        Objects.requireNonNull(replacement, "replacement");
        synchronized (swapLock) {
            if (closed) {
                throw new IllegalStateException("pipeline '" + name + "' is closed");
            }
            Generation old = current;
            Step[] steps = old.steps.clone();
            int index = -1;
            for (int i = 0; i < steps.length; i++) {
                if (steps[i].name().equals(stepName)) {
                    index = i;
                }
            }
            if (index < 0) {
                throw new IllegalArgumentException("pipeline '" + name + "' has no step '" + stepName + "'; steps are "
                        + Arrays.stream(steps).map(Step::name).toList());
            }
            Model retired = steps[index].model();
            steps[index] = steps[index].withModel(replacement);
            current = new Generation(steps);
            if (index == 0) {
                policy.reset(); // the batching decision was measured on the old model
            }
            draining.add(old);
            old.retire(() -> {
                draining.remove(old);
                closeQuietly(stepName, retired);
                Log.LOG.info("pipeline '{}': step '{}' swapped; the old model is closed", name, stepName);
            });
        }
    }

    @Override
    public void close() {
        if (!closeCalled.compareAndSet(false, true)) {
            return;
        }
        Generation last;
        synchronized (swapLock) {
            closed = true;
            last = current;
        }
        // shutdown(), not shutdownNow(): records already running must not be interrupted.
        List<Runnable> queued = new ArrayList<>();
        ThreadPoolExecutor pool;
        synchronized (swapLock) {
            pool = executor;
        }
        if (pool != null) {
            pool.shutdown();
            pool.getQueue().drainTo(queued);
        }
        for (Runnable r : queued) {
            ((Failable) r).fail(closedError());
        }
        if (batcher != null) {
            batcher.close();
        }
        CompletableFuture<Void> drained = new CompletableFuture<>();
        last.retire(() -> drained.complete(null));
        List<CompletableFuture<Void>> all = new ArrayList<>();
        all.add(drained);
        for (Generation g : draining) {
            all.add(g.drained);
        }
        try {
            CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0]))
                    .get(closeGracePeriod.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            Log.LOG.warn("pipeline '{}': {} records still in flight after the close grace period of {}; failing queued "
                    + "records, and closing models once running calls return", name, inFlight(), closeGracePeriod);
            if (batcher != null) {
                batcher.abort();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            throw new AssertionError(e);
        }
        if (batcher != null) {
            batcher.abort();
        }
        // Closing a model under a running call can crash the process (ONNX Runtime), so the models close
        // only once the last record of the last generation has returned.
        drained.thenRun(() -> {
            for (Step s : last.steps) {
                closeQuietly(s.name(), s.model());
            }
            Log.LOG.debug("pipeline '{}' closed", name);
        });
    }

    // ------------------------------------------------------------------ synchronous path

    private O score(I record, long deadline) {
        Generation g = enter(1);
        // Sampled timing only on the inline path: a record that may join a batch is always timed.
        boolean time = timed && (batcher != null || timingInterval == 1
                || ThreadLocalRandom.current().nextInt(timingInterval) == 0);
        long start = time ? ticker.read() : UNTIMED;
        try {
            Tensors pre = preprocess(record);
            Step first = g.steps[0];
            if (batcher != null && policy.mayBatch() && policy.batchSync(g.inFlight.get())) {
                return scoreThroughBatcher(g, first, pre, deadline, start);
            }
            long t1 = time ? ticker.read() : 0;
            Tensors tensors = pre;
            Tensors last = pre;
            boolean sample = batcher != null && policy.sampleInline();
            for (Step step : g.steps) {
                checkDeadline(deadline, step);
                long s0 = time || sample ? ticker.read() : 0;
                Tensors out = run(step, tensors, deadline);
                long d = time || sample ? ticker.read() - s0 : -1;
                if (sample && step == first) {
                    policy.recordInline(d);
                }
                if (timed && step.isModel()) {
                    listener.stepCompleted(name, step.name(), 1, time ? d : -1);
                }
                tensors = g.steps.length == 1 ? out : tensors.withAll(out);
                last = out;
            }
            long t2 = time ? ticker.read() : 0;
            O result = postprocess(last);
            if (time) {
                listener.recordScored(name, 0, t1 - start, t2 - t1, ticker.read() - t2);
            } else if (timed) {
                listener.recordScored(name, -1, -1, -1, -1);
            }
            observer.observe(pre, last);
            return result;
        } catch (ScoringException e) {
            failed(e, start);
            throw e;
        } finally {
            g.exit(1);
        }
    }

    /** A synchronous record that joins a micro-batch; the caller waits at most until its deadline. */
    private O scoreThroughBatcher(Generation g, Step first, Tensors pre, long deadline, long start) {
        g.enterExtra();
        long submitted = ticker.read();
        WaitingRecord r = new WaitingRecord(g, first, first.bind(pre), deadline, submitted);
        Objects.requireNonNull(batcher).submit(r);
        r.await(deadline, first);
        if (r.error != null) {
            throw r.error;
        }
        // The rest of the pipeline runs here, on the caller's thread, not on the dispatcher's.
        long t0 = timed ? ticker.read() : 0;
        O result = finish(g, pre, Objects.requireNonNull(r.outputs), deadline);
        if (timed) {
            // timed implies start was read: a record that may batch is always timed (see score)
            listener.recordScored(name, r.dequeuedNanos - submitted, submitted - start, r.inferNanos,
                    ticker.read() - t0);
        }
        return result;
    }

    // ------------------------------------------------------------------ asynchronous path

    private CompletableFuture<O> scoreAsync(I record, long deadline) {
        CompletableFuture<O> future = new CompletableFuture<>();
        Generation g;
        try {
            g = enter(1);
        } catch (ScoringException e) {
            future.completeExceptionally(e);
            return future;
        }
        long submitted = ticker.read();
        if (batcher != null) {
            // Preprocess on the caller's thread, then hand the bound inputs to the batcher.
            try {
                Tensors pre = preprocess(record);
                Step first = g.steps[0];
                BatchedRecord r = new BatchedRecord(g, first, first.bind(pre), pre, deadline, submitted);
                batcher.submit(r);
                return r.future;
            } catch (ScoringException e) {
                failed(e, submitted);
                g.exit(1);
                future.completeExceptionally(e);
                return future;
            }
        }
        try {
            executor().execute(new AsyncTask(g, record, deadline, submitted, future));
        } catch (RejectedExecutionException e) {
            g.exit(1);
            ScoringException err = closed ? closedError()
                    : new ScoringException(Kind.OVERLOADED, "pipeline '" + name + "': async queue is full ("
                    + queueDepth() + " records waiting); back off and retry");
            failed(err, submitted);
            future.completeExceptionally(err);
        }
        return future;
    }

    /** Runs a queued async record on a pool thread. */
    private O runQueued(Generation g, I record, long deadline, long submitted) {
        long start = ticker.read();
        Tensors pre = preprocess(record);
        long t1 = timed ? ticker.read() : 0;
        Tensors tensors = pre;
        Tensors last = pre;
        for (Step step : g.steps) {
            checkDeadline(deadline, step);
            long s0 = timed ? ticker.read() : 0;
            Tensors out = run(step, tensors, deadline);
            if (timed && step.isModel()) {
                listener.stepCompleted(name, step.name(), 1, ticker.read() - s0);
            }
            tensors = g.steps.length == 1 ? out : tensors.withAll(out);
            last = out;
        }
        long t2 = timed ? ticker.read() : 0;
        O result = postprocess(last);
        if (timed) {
            listener.recordScored(name, start - submitted, t1 - start, t2 - t1, ticker.read() - t2);
        }
        observer.observe(pre, last);
        return result;
    }

    // ------------------------------------------------------------------ stages

    private Tensors preprocess(I record) {
        if (record == null) {
            throw ScoringException.invalidInput("pipeline '" + name + "': record is null");
        }
        Tensors t;
        try {
            t = preprocessor.preprocess(record);
        } catch (ScoringException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new ScoringException(Kind.INVALID_INPUT, "pipeline '" + name + "': preprocessor rejected the record: "
                    + e.getMessage(), e);
        }
        if (t == null) {
            throw new ScoringException(Kind.INTERNAL, "pipeline '" + name + "': preprocessor returned null");
        }
        return t;
    }

    private Tensors run(Step step, Tensors available, long deadline) {
        if (!step.isModel()) {
            return transform(step, Objects.requireNonNull(step.transform()), available);
        }
        Tensors inputs = step.bind(available);
        return step.predict(inputs, deadline == NO_DEADLINE ? -1 : Math.max(0, deadline - ticker.read()));
    }

    private static Tensors transform(Step step, Transform transform, Tensors available) {
        Tensors out;
        try {
            out = transform.transform(available);
        } catch (ScoringException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new ScoringException(Kind.INTERNAL, "transform '" + step.name() + "' failed: "
                    + e.getMessage(), e);
        }
        if (out == null) {
            throw new ScoringException(Kind.INTERNAL, "transform '" + step.name() + "' returned null");
        }
        return out;
    }

    private O postprocess(Tensors outputs) {
        O result;
        try {
            result = postprocessor.postprocess(outputs);
        } catch (ScoringException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new ScoringException(Kind.INTERNAL, "pipeline '" + name + "': postprocessor failed on outputs "
                    + outputs + ": " + e.getMessage(), e);
        }
        if (result == null) {
            throw new ScoringException(Kind.INTERNAL, "pipeline '" + name + "': postprocessor returned null");
        }
        return result;
    }

    /** Runs the steps after the first one (after a batched first step) and postprocesses. */
    private O finish(Generation g, Tensors pre, Tensors firstOut, long deadline) {
        Tensors tensors = g.steps.length == 1 ? firstOut : pre.withAll(firstOut);
        Tensors last = firstOut;
        for (int i = 1; i < g.steps.length; i++) {
            Step step = g.steps[i];
            long s0 = timed ? ticker.read() : 0;
            Tensors out = run(step, tensors, deadline);
            if (timed && step.isModel()) {
                listener.stepCompleted(name, step.name(), 1, ticker.read() - s0);
            }
            tensors = tensors.withAll(out);
            last = out;
        }
        O result = postprocess(last);
        observer.observe(pre, last);
        return result;
    }

    // ------------------------------------------------------------------ batches

    private List<Outcome<O>> scoreBatch(Generation g, List<? extends I> records, long deadline) {
        int n = records.size();
        long start = timed ? ticker.read() : 0;
        Tensors[] pre = new Tensors[n];
        Tensors[] available = new Tensors[n];
        Tensors[] last = new Tensors[n];
        ScoringException[] errors = new ScoringException[n];
        for (int i = 0; i < n; i++) {
            try {
                pre[i] = preprocess(records.get(i));
                available[i] = pre[i];
                last[i] = pre[i];
            } catch (ScoringException e) {
                errors[i] = e;
            }
        }
        long t1 = timed ? ticker.read() : 0;
        for (Step step : g.steps) {
            runBatchStep(g, step, available, last, errors, deadline);
        }
        long t2 = timed ? ticker.read() : 0;
        List<Outcome<O>> outcomes = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            if (errors[i] == null) {
                try {
                    outcomes.add(Outcome.success(postprocess(last[i])));
                    observer.observe(pre[i], last[i]);
                    continue;
                } catch (ScoringException e) {
                    errors[i] = e;
                }
            }
            outcomes.add(Outcome.failure(errors[i]));
        }
        if (timed) {
            long t3 = ticker.read();
            for (int i = 0; i < n; i++) {
                if (errors[i] == null) {
                    listener.recordScored(name, 0, (t1 - start) / n, (t2 - t1) / n, (t3 - t2) / n);
                } else {
                    listener.recordFailed(name, errors[i].kind(), t3 - start);
                }
            }
        }
        return outcomes;
    }

    private void runBatchStep(Generation g, Step step, Tensors[] available, Tensors[] last, ScoringException[] errors,
                              long deadline) {
        int n = available.length;
        int[] index = new int[n];
        List<Tensors> inputs = new ArrayList<>(n);
        Model model = step.model();
        for (int i = 0; i < n; i++) {
            if (errors[i] != null) {
                continue;
            }
            try {
                checkDeadline(deadline, step);
                if (model == null) {
                    accept(g, i, transform(step, Objects.requireNonNull(step.transform()), available[i]), available, last);
                } else {
                    index[inputs.size()] = i;
                    inputs.add(step.bind(available[i]));
                }
            } catch (ScoringException e) {
                errors[i] = e;
            }
        }
        if (model == null || inputs.isEmpty()) {
            return;
        }
        List<Tensors> outputs = null;
        if (inputs.size() > 1) {
            long s0 = ticker.read();
            try {
                outputs = deadline == NO_DEADLINE ? model.predictBatch(inputs)
                        : model.predictBatch(inputs, Duration.ofNanos(Math.max(0, deadline - ticker.read())));
                if (outputs == null || outputs.size() != inputs.size()) {
                    Log.LOG.warn("step '{}': predictBatch returned {} results for {} records; scoring them one by one",
                            step.name(), outputs == null ? "null" : outputs.size(), inputs.size());
                    outputs = null;
                } else if (timed) {
                    listener.stepCompleted(name, step.name(), inputs.size(), ticker.read() - s0);
                }
            } catch (RuntimeException e) {
                // One bad record must not fail its batch-mates: find it by scoring one by one.
                Log.LOG.debug("step '{}': batched call failed ({}); scoring {} records one by one", step.name(), e.toString(),
                        inputs.size());
            }
        }
        for (int k = 0; k < inputs.size(); k++) {
            int i = index[k];
            try {
                Tensors out = outputs != null ? outputs.get(k)
                        : step.predict(inputs.get(k), deadline == NO_DEADLINE ? -1 : Math.max(0, deadline - ticker.read()));
                if (out == null) {
                    throw new ScoringException(Kind.INTERNAL, "step '" + step.name()
                            + "': predictBatch returned null for record " + i + " of the batch");
                }
                accept(g, i, out, available, last);
            } catch (ScoringException e) {
                errors[i] = e;
            }
        }
    }

    private static void accept(Generation g, int i, Tensors out, Tensors[] available, Tensors[] last) {
        available[i] = g.steps.length == 1 ? out : available[i].withAll(out);
        last[i] = out;
    }

    // ------------------------------------------------------------------ admission, deadlines, lifecycle

    /**
     * Counts {@code records} in, on the current generation.
     *
     * @throws ScoringException UNAVAILABLE when closed, OVERLOADED beyond maxInFlight
     */
    private Generation enter(int records) {
        while (true) {
            Generation g = current;
            int now = g.inFlight.addAndGet(records);
            if (g.retired || closed) {
                g.exit(records);
                if (closed) {
                    throw closedError();
                }
                continue; // swapped meanwhile: count on the new generation
            }
            if (maxInFlight > 0 && now > maxInFlight && now > records) {
                g.exit(records);
                ScoringException e = new ScoringException(Kind.OVERLOADED, "pipeline '" + name + "': " + (now - records)
                        + " records in flight, the limit is " + maxInFlight + "; back off and retry");
                failed(e, timed ? ticker.read() : 0);
                throw e;
            }
            return g;
        }
    }

    private long deadlineFromDefault() {
        return defaultTimeoutNanos < 0 ? NO_DEADLINE : ticker.read() + defaultTimeoutNanos;
    }

    private long deadlineAfter(Duration timeout) {
        long nanos;
        try {
            nanos = Math.max(0, timeout.toNanos()); // a negative timeout has passed already, like zero
        } catch (ArithmeticException e) {
            nanos = timeout.isNegative() ? 0 : NO_DEADLINE; // beyond 292 years
        }
        if (nanos == NO_DEADLINE) {
            return NO_DEADLINE;
        }
        // Tickers read like System.nanoTime(): from any origin, negative or close to Long.MAX_VALUE. Deadlines
        // are compared by subtraction (checkDeadline), so the sum may wrap but must not be clamped.
        long deadline = ticker.read() + nanos;
        return deadline == NO_DEADLINE ? deadline - 1 : deadline;
    }

    private void checkDeadline(long deadline, Step step) {
        if (deadline != NO_DEADLINE && ticker.read() - deadline >= 0) {
            throw new ScoringException(Kind.DEADLINE_EXCEEDED, "pipeline '" + name + "': deadline passed before step '"
                    + step.name() + "'");
        }
    }

    /** Reports a failure of a record that started at {@code start}, or {@link #UNTIMED}. */
    private void failed(ScoringException e, long start) {
        if (timed) {
            listener.recordFailed(name, e.kind(), start == UNTIMED ? -1 : ticker.read() - start);
        }
    }

    private ScoringException closedError() {
        return new ScoringException(Kind.UNAVAILABLE, "pipeline '" + name + "' is closed");
    }

    private void warmUp(Step[] steps, int records) {
        if (records <= 0) {
            return;
        }
        for (Step step : steps) {
            Model m = step.model();
            if (m == null) {
                continue;
            }
            Tensors inputs;
            try {
                inputs = Warmup.syntheticInputs(m.signature());
            } catch (RuntimeException e) {
                Log.LOG.warn("pipeline '{}': cannot build warm-up inputs for step '{}': {}", name, step.name(), e.getMessage());
                continue;
            }
            long start = System.nanoTime();
            try {
                for (int i = 0; i < records; i++) {
                    m.predict(inputs);
                }
                Log.LOG.debug("pipeline '{}': warmed up step '{}' with {} records in {} ms", name, step.name(), records,
                        (System.nanoTime() - start) / 1_000_000);
            } catch (RuntimeException e) {
                Log.LOG.warn("pipeline '{}': warm-up of step '{}' failed: {}", name, step.name(), e.getMessage());
            }
        }
    }

    private void closeQuietly(String stepName, @Nullable Model m) {
        if (m == null) {
            return;
        }
        try {
            m.close();
        } catch (RuntimeException e) {
            Log.LOG.warn("pipeline '{}': closing step '{}' failed", name, stepName, e);
        }
    }

    private ThreadPoolExecutor executor() {
        ThreadPoolExecutor e = executor;
        if (e == null) {
            synchronized (swapLock) {
                e = executor;
                if (e == null) {
                    if (closed) {
                        throw new RejectedExecutionException("closed");
                    }
                    e = new ThreadPoolExecutor(asyncThreads, asyncThreads, 30, TimeUnit.SECONDS,
                            new ArrayBlockingQueue<>(asyncQueueCapacity), daemonThreads("nearline-" + name + "-"),
                            new ThreadPoolExecutor.AbortPolicy());
                    e.allowCoreThreadTimeOut(true);
                    executor = e;
                }
            }
        }
        return e;
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    @Override
    public String toString() {
        return "Scorer[" + name + ", steps=" + Arrays.stream(current.steps).map(Step::name).toList() + "]";
    }

    // ------------------------------------------------------------------ helpers

    /** One version of the pipeline's steps and the records in flight on it. */
    private static final class Generation {
        final Step[] steps;
        final AtomicInteger inFlight = new AtomicInteger();
        final CompletableFuture<Void> drained = new CompletableFuture<>();
        volatile boolean retired;
        private volatile @Nullable Runnable onDrained;

        Generation(Step[] steps) {
            this.steps = steps;
        }

        /** One more count for a record that is also counted by its caller (a sync record in a batch). */
        void enterExtra() {
            inFlight.incrementAndGet();
        }

        void exit(int records) {
            if (inFlight.addAndGet(-records) == 0 && retired) {
                fireDrained();
            }
        }

        void retire(Runnable action) {
            onDrained = action;
            retired = true;
            if (inFlight.get() == 0) {
                fireDrained();
            }
        }

        private void fireDrained() {
            if (drained.complete(null)) {
                Runnable r = onDrained;
                if (r != null) {
                    r.run();
                }
            }
        }
    }

    /** A queued task that close() can fail without running it. */
    private interface Failable extends Runnable {
        void fail(ScoringException e);
    }

    /** A queued async record; keeps its future so that close() can fail it. */
    private final class AsyncTask implements Failable {
        final Generation generation;
        final I record;
        final long deadline;
        final long submitted;
        final CompletableFuture<O> future;

        AsyncTask(Generation generation, I record, long deadline, long submitted, CompletableFuture<O> future) {
            this.generation = generation;
            this.record = record;
            this.deadline = deadline;
            this.submitted = submitted;
            this.future = future;
        }

        @Override
        public void fail(ScoringException e) {
            generation.exit(1);
            failed(e, submitted);
            future.completeExceptionally(e);
        }

        @Override
        public void run() {
            try {
                future.complete(runQueued(generation, record, deadline, submitted));
            } catch (ScoringException e) {
                failed(e, submitted);
                future.completeExceptionally(e);
            } catch (RuntimeException | Error e) {
                future.completeExceptionally(new ScoringException(Kind.INTERNAL, "pipeline '" + name + "': " + e, e));
                if (e instanceof Error) {
                    throw (Error) e;
                }
            } finally {
                generation.exit(1);
            }
        }
    }

    /**
     * A synchronous record in the micro-batcher: the dispatcher only hands over the model outputs and wakes
     * the caller, which runs the rest of the pipeline itself. Lighter than a future: one park and one unpark.
     */
    private final class WaitingRecord extends MicroBatcher.Request {
        private static final int WAITING = 0;
        private static final int DONE = 1;
        private static final int ABANDONED = 2;
        private final Generation generation;
        private final Thread waiter = Thread.currentThread();
        private final AtomicInteger state = new AtomicInteger(WAITING);
        @Nullable Tensors outputs;
        @Nullable ScoringException error;
        long dequeuedNanos;
        long inferNanos;

        WaitingRecord(Generation generation, Step step, Tensors inputs, long deadline, long submitted) {
            super(step, inputs, deadline, submitted);
            this.generation = generation;
        }

        @Override
        protected void complete(@Nullable Tensors outputs, @Nullable ScoringException error, long dequeuedNanos,
                                long inferNanos) {
            try {
                this.outputs = outputs;
                this.error = error;
                this.dequeuedNanos = dequeuedNanos;
                this.inferNanos = inferNanos;
                if (state.compareAndSet(WAITING, DONE)) { // publishes the fields
                    LockSupport.unpark(waiter);
                }
            } finally {
                generation.exit(1); // the model is done with the record, whether or not its caller still waits
            }
        }

        /**
         * Waits until the record completes or its deadline passes.
         *
         * @throws ScoringException DEADLINE_EXCEEDED at the deadline, UNAVAILABLE when interrupted
         */
        void await(long deadline, Step step) {
            while (state.get() != DONE) {
                if (Thread.interrupted()) {
                    if (state.compareAndSet(WAITING, ABANDONED)) {
                        Thread.currentThread().interrupt();
                        throw new ScoringException(Kind.UNAVAILABLE, "pipeline '" + name
                                + "': interrupted while waiting for a batch");
                    }
                    Thread.currentThread().interrupt(); // completed meanwhile: keep the result and the flag
                    return;
                }
                if (deadline == NO_DEADLINE) {
                    LockSupport.park(this);
                    continue;
                }
                long left = deadline - ticker.read();
                if (left <= 0) {
                    if (state.compareAndSet(WAITING, ABANDONED)) {
                        throw new ScoringException(Kind.DEADLINE_EXCEEDED, "pipeline '" + name
                                + "': deadline passed while waiting for a batch at step '" + step.name() + "'");
                    }
                    return; // completed meanwhile
                }
                LockSupport.parkNanos(this, left);
            }
        }
    }

    /**
     * An asynchronous record in the micro-batcher (preprocessed on the caller's thread before it was queued);
     * finishes the pipeline on the dispatcher thread and completes its future.
     */
    private final class BatchedRecord extends MicroBatcher.Request {
        final Generation generation;
        final Tensors pre;
        final CompletableFuture<O> future = new CompletableFuture<>();

        BatchedRecord(Generation generation, Step step, Tensors inputs, Tensors pre, long deadline, long submitted) {
            super(step, inputs, deadline, submitted);
            this.generation = generation;
            this.pre = pre;
        }

        private void fail(ScoringException e) {
            failed(e, enqueuedNanos);
            future.completeExceptionally(e);
        }

        @Override
        protected void complete(@Nullable Tensors outputs, @Nullable ScoringException error, long dequeuedNanos,
                                long inferNanos) {
            try {
                if (error != null) {
                    fail(error);
                    return;
                }
                long t0 = timed ? ticker.read() : 0;
                O result = finish(generation, pre, Objects.requireNonNull(outputs), deadline);
                if (timed) {
                    listener.recordScored(name, dequeuedNanos - enqueuedNanos, 0, inferNanos, ticker.read() - t0);
                }
                future.complete(result);
            } catch (ScoringException e) {
                fail(e);
            } catch (RuntimeException e) {
                fail(new ScoringException(Kind.INTERNAL, "pipeline '" + name + "': " + e, e));
            } finally {
                generation.exit(1);
            }
        }
    }
}
