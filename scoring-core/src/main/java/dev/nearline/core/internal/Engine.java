package dev.nearline.core.internal;

import dev.nearline.api.Model;
import dev.nearline.api.Outcome;
import dev.nearline.api.Postprocessor;
import dev.nearline.api.Preprocessor;
import dev.nearline.api.Scorer;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.api.Tensors;
import dev.nearline.api.Transform;
import dev.nearline.core.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-record engine behind every {@link Scorer}: preprocess, run the steps, postprocess, on the
 * caller's thread; {@code scoreAsync} on a bounded pool; {@code scoreAll} with one batched model call per
 * step. Thread-safe.
 *
 * @param <I> record type
 * @param <O> result type
 */
public final class Engine<I, O> implements Scorer<I, O> {
    private static final Logger log = LoggerFactory.getLogger(Engine.class);
    private static final long NO_DEADLINE = Long.MAX_VALUE;

    private final String name;
    private final Preprocessor<? super I> preprocessor;
    private final Step[] steps;
    private final Postprocessor<? extends O> postprocessor;
    private final Ticker ticker;
    private final long defaultTimeoutNanos;
    private final Duration closeGracePeriod;
    private final ThreadPoolExecutor executor;

    private final AtomicInteger inFlight = new AtomicInteger();
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    private volatile boolean closed;
    private final AtomicInteger closeCalls = new AtomicInteger();

    /** Settings of an engine, gathered by the public builders. */
    public record Options(String name, Ticker ticker, @Nullable Duration defaultTimeout, Duration closeGracePeriod,
                          int asyncThreads, int asyncQueueCapacity) {
        /** Validates. */
        public Options {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(ticker, "ticker");
            Objects.requireNonNull(closeGracePeriod, "closeGracePeriod");
            if (asyncThreads < 1) {
                throw new IllegalArgumentException("asyncThreads must be at least 1, got " + asyncThreads);
            }
            if (asyncQueueCapacity < 1) {
                throw new IllegalArgumentException("asyncQueueCapacity must be at least 1, got " + asyncQueueCapacity);
            }
        }
    }

    /** An engine over the given stages; it owns the models in {@code steps} and closes them. */
    public Engine(Preprocessor<? super I> preprocessor, List<Step> steps, Postprocessor<? extends O> postprocessor,
                  Options options) {
        this.name = options.name();
        this.preprocessor = Objects.requireNonNull(preprocessor, "preprocessor");
        this.steps = steps.toArray(new Step[0]);
        this.postprocessor = Objects.requireNonNull(postprocessor, "postprocessor");
        this.ticker = options.ticker();
        this.defaultTimeoutNanos = options.defaultTimeout() == null ? -1 : options.defaultTimeout().toNanos();
        this.closeGracePeriod = options.closeGracePeriod();
        if (this.steps.length == 0) {
            throw new IllegalArgumentException("pipeline '" + name + "' has no model step");
        }
        this.executor = new ThreadPoolExecutor(options.asyncThreads(), options.asyncThreads(), 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(options.asyncQueueCapacity()), daemonThreads("nearline-" + name + "-"),
                new ThreadPoolExecutor.AbortPolicy());
        this.executor.allowCoreThreadTimeOut(true);
    }

    @Override
    public O score(I record) {
        return score(record, deadlineFromDefault());
    }

    @Override
    public O score(I record, Duration timeout) {
        long nanos = timeout.toNanos();
        long now = ticker.read();
        return score(record, nanos >= NO_DEADLINE - now ? NO_DEADLINE : now + nanos);
    }

    private O score(I record, long deadline) {
        enter();
        try {
            return scoreOne(record, deadline);
        } finally {
            exit();
        }
    }

    @Override
    public CompletableFuture<O> scoreAsync(I record) {
        CompletableFuture<O> future = new CompletableFuture<>();
        long deadline = deadlineFromDefault();
        if (closed) {
            future.completeExceptionally(closedError());
            return future;
        }
        try {
            executor.execute(new AsyncTask(record, deadline, future));
        } catch (RejectedExecutionException e) {
            future.completeExceptionally(closed ? closedError()
                    : new ScoringException(Kind.OVERLOADED, "pipeline '" + name + "': async queue is full ("
                    + executor.getQueue().size() + " records waiting); back off and retry"));
        }
        return future;
    }

    @Override
    public List<Outcome<O>> scoreAll(List<? extends I> records) {
        enter();
        try {
            return scoreBatch(records, deadlineFromDefault());
        } finally {
            exit();
        }
    }

    @Override
    public void close() {
        if (closeCalls.getAndIncrement() > 0) {
            return;
        }
        closed = true;
        for (Runnable r : executor.shutdownNow()) {
            ((Failable) r).fail(closedError());
        }
        if (inFlight.get() == 0) {
            drained.complete(null);
        }
        try {
            drained.get(closeGracePeriod.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            log.warn("pipeline '{}': {} records still in flight after the close grace period of {}; their models "
                    + "close when they return", name, inFlight.get(), closeGracePeriod);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            throw new AssertionError(e);
        }
        // Closing a model under a running call can crash the process (ONNX Runtime), so models close only
        // once the last in-flight record has returned.
        drained.thenRun(this::closeModels);
    }

    // ------------------------------------------------------------------ the per-record path

    private O scoreOne(I record, long deadline) {
        Tensors tensors = preprocess(record);
        Tensors last = tensors;
        for (Step step : steps) {
            checkDeadline(deadline, step);
            Tensors out = run(step, tensors);
            tensors = steps.length == 1 ? out : tensors.withAll(out);
            last = out;
        }
        return postprocess(last);
    }

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

    private Tensors run(Step step, Tensors available) {
        Model model = step.model();
        if (model == null) {
            return transform(step, Objects.requireNonNull(step.transform()), available);
        }
        Tensors inputs = step.bind(available);
        Tensors out;
        try {
            out = model.predict(inputs);
        } catch (ScoringException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new ScoringException(Kind.INTERNAL, "step '" + step.name() + "' failed: " + e, e);
        }
        if (out == null) {
            throw new ScoringException(Kind.INTERNAL, "step '" + step.name() + "' returned null");
        }
        return out;
    }

    private static Tensors transform(Step step, Transform transform, Tensors available) {
        Tensors out;
        try {
            out = transform.transform(available);
        } catch (ScoringException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new ScoringException(Kind.INVALID_INPUT, "transform '" + step.name() + "' rejected the record: "
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

    // ------------------------------------------------------------------ batches

    private List<Outcome<O>> scoreBatch(List<? extends I> records, long deadline) {
        int n = records.size();
        Tensors[] available = new Tensors[n];
        Tensors[] last = new Tensors[n];
        ScoringException[] errors = new ScoringException[n];
        for (int i = 0; i < n; i++) {
            try {
                available[i] = preprocess(records.get(i));
                last[i] = available[i];
            } catch (ScoringException e) {
                errors[i] = e;
            }
        }
        for (Step step : steps) {
            runBatchStep(step, available, last, errors, deadline);
        }
        List<Outcome<O>> outcomes = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            if (errors[i] != null) {
                outcomes.add(Outcome.failure(errors[i]));
                continue;
            }
            try {
                outcomes.add(Outcome.success(postprocess(last[i])));
            } catch (ScoringException e) {
                outcomes.add(Outcome.failure(e));
            }
        }
        return outcomes;
    }

    private void runBatchStep(Step step, Tensors[] available, Tensors[] last, ScoringException[] errors, long deadline) {
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
                    accept(i, transform(step, Objects.requireNonNull(step.transform()), available[i]), available, last);
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
            try {
                outputs = model.predictBatch(inputs);
                if (outputs == null || outputs.size() != inputs.size()) {
                    log.warn("step '{}': predictBatch returned {} results for {} records; scoring them one by one",
                            step.name(), outputs == null ? "null" : outputs.size(), inputs.size());
                    outputs = null;
                }
            } catch (RuntimeException e) {
                // One bad record must not fail its batch-mates: find it by scoring one by one.
                log.debug("step '{}': batched call failed ({}); scoring {} records one by one", step.name(), e.toString(),
                        inputs.size());
            }
        }
        for (int k = 0; k < inputs.size(); k++) {
            int i = index[k];
            try {
                Tensors out = outputs != null ? outputs.get(k) : run(step, inputs.get(k));
                accept(i, out, available, last);
            } catch (ScoringException e) {
                errors[i] = e;
            }
        }
    }

    private void accept(int i, Tensors out, Tensors[] available, Tensors[] last) {
        available[i] = steps.length == 1 ? out : available[i].withAll(out);
        last[i] = out;
    }

    // ------------------------------------------------------------------ lifecycle and deadlines

    private void enter() {
        inFlight.incrementAndGet();
        if (closed) {
            exit();
            throw closedError();
        }
    }

    private void exit() {
        if (inFlight.decrementAndGet() == 0 && closed) {
            drained.complete(null);
        }
    }

    private long deadlineFromDefault() {
        return defaultTimeoutNanos < 0 ? NO_DEADLINE : ticker.read() + defaultTimeoutNanos;
    }

    private void checkDeadline(long deadline, Step step) {
        if (deadline != NO_DEADLINE && ticker.read() - deadline >= 0) {
            throw new ScoringException(Kind.DEADLINE_EXCEEDED, "pipeline '" + name + "': deadline passed before step '"
                    + step.name() + "'");
        }
    }

    private ScoringException closedError() {
        return new ScoringException(Kind.UNAVAILABLE, "pipeline '" + name + "' is closed");
    }

    private void closeModels() {
        for (Step s : steps) {
            Model m = s.model();
            if (m == null) {
                continue;
            }
            try {
                m.close();
            } catch (RuntimeException e) {
                log.warn("pipeline '{}': closing step '{}' failed", name, s.name(), e);
            }
        }
        log.debug("pipeline '{}' closed", name);
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
        return "Scorer[" + name + ", steps=" + Arrays.stream(steps).map(Step::name).toList() + "]";
    }

    /** A queued task that close() can fail without running it. */
    private interface Failable extends Runnable {
        void fail(ScoringException e);
    }

    /** A queued async record; keeps its future so that close() can fail it. */
    private final class AsyncTask implements Failable {
        final I record;
        final long deadline;
        final CompletableFuture<O> future;

        @Override
        public void fail(ScoringException e) {
            future.completeExceptionally(e);
        }

        AsyncTask(I record, long deadline, CompletableFuture<O> future) {
            this.record = record;
            this.deadline = deadline;
            this.future = future;
        }

        @Override
        public void run() {
            try {
                future.complete(score(record, deadline));
            } catch (ScoringException e) {
                future.completeExceptionally(e);
            } catch (RuntimeException | Error e) {
                future.completeExceptionally(new ScoringException(Kind.INTERNAL, "pipeline '" + name + "': " + e, e));
                if (e instanceof Error) {
                    throw (Error) e;
                }
            }
        }
    }
}
