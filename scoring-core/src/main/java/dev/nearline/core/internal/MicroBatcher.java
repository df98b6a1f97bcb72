package dev.nearline.core.internal;

import dev.nearline.api.Model;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensors;
import dev.nearline.api.Ticker;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A dynamic micro-batcher for one model step: records are queued on a lock-free queue; a dispatcher
 * thread takes the first, keeps taking until it holds {@code maxBatchSize} records or
 * {@code maxQueueDelay} has passed since it took the first, and runs them through {@link BatchCall}: one
 * {@link Model#predictBatch} call where the step's model declares a batch axis or a probe proved it, one call
 * per record otherwise, and one by one after a failed batched call so that a bad record fails alone. Records
 * whose deadline passed while queued are failed, not sent.
 *
 * <p>Completion callbacks run on the dispatcher thread. Thread-safe.
 */
public final class MicroBatcher {
    private static final Logger log = LoggerFactory.getLogger(MicroBatcher.class);
    private static final int IDLE_SPINS = 100;

    /** A queued record. The engine subclasses it to continue the pipeline when the model step is done. */
    public abstract static class Request {
        final Step step;
        /** The bound inputs, or null for a record the dispatcher writes into a row itself ({@link #byRows()}). */
        final @Nullable Tensors inputs;
        final long deadline;
        final long enqueuedNanos;

        /**
         * A request to run {@code step} (the version current when the record entered) on {@code inputs},
         * already bound and validated, queued at {@code enqueuedNanos}.
         */
        protected Request(Step step, @Nullable Tensors inputs, long deadline, long enqueuedNanos) {
            this.step = step;
            this.inputs = inputs;
            this.deadline = deadline;
            this.enqueuedNanos = enqueuedNanos;
        }

        /**
         * Called once, on the dispatcher thread, with the model outputs or the failure.
         *
         * @param outputs       the record's outputs, or null on failure
         * @param error         the failure, or null on success
         * @param dequeuedNanos when the dispatcher took the record
         * @param inferNanos    duration of the model call the record took part in
         */
        protected abstract void complete(@Nullable Tensors outputs, @Nullable ScoringException error, long dequeuedNanos,
                                         long inferNanos);

        /** Whether the {@link RowRunner} scores this record (columnar), rather than a model call on its inputs. */
        protected boolean byRows() {
            return false;
        }
    }

    /** Scores a batch of {@link Request#byRows()} records on the columnar path and completes each of them. */
    @FunctionalInterface
    public interface RowRunner {
        /** Scores and completes {@code batch[0..n)}, taken at {@code dequeuedNanos}; never throws. */
        void run(Request[] batch, int n, long dequeuedNanos);
    }

    /** Receives one event per model call. */
    @FunctionalInterface
    public interface BatchListener {
        /** A model call over {@code size} records took {@code nanos}. */
        void batchCompleted(int size, long nanos);
    }

    private final String pipeline;
    private final String name;
    private final int maxBatchSize;
    private final long maxQueueDelayNanos;
    private final Ticker ticker;
    private final BatchListener listener;
    private final @Nullable RowRunner rows;
    private final ConcurrentLinkedQueue<Request> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger depth = new AtomicInteger();
    private final Worker[] workers;
    private volatile boolean closed;
    private volatile boolean aborted;

    /** Starts {@code threads} dispatcher threads for {@code model}. */
    public MicroBatcher(String pipeline, String name, int maxBatchSize, long maxQueueDelayNanos, int threads,
                        Ticker ticker, BatchListener listener, @Nullable RowRunner rows) {
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("maxBatchSize must be at least 1, got " + maxBatchSize);
        }
        this.pipeline = pipeline;
        this.name = name;
        this.maxBatchSize = maxBatchSize;
        this.maxQueueDelayNanos = maxQueueDelayNanos;
        this.ticker = ticker;
        this.listener = listener;
        this.rows = rows;
        this.workers = new Worker[threads];
        for (int i = 0; i < threads; i++) {
            workers[i] = new Worker();
            Thread t = new Thread(workers[i], "nearline-batcher-" + name + "-" + i);
            t.setDaemon(true);
            workers[i].thread = t;
        }
        for (Worker w : workers) {
            w.thread.start();
        }
    }

    /**
     * Whether micro-batching {@code batching} applies to a pipeline whose first step is {@code first}: it needs a
     * model there whose records may share a call; when it does not apply, one INFO line says why.
     */
    static boolean appliesTo(String pipeline, EngineOptions.@Nullable Batching batching, Step first) {
        if (batching == null) {
            return false;
        }
        if (first.isModel() && first.batchState() != Step.BATCH_OFF) {
            return true;
        }
        log.info("pipeline '{}': batching is off: {}", pipeline, first.isModel()
                ? "the model of step '" + first.name() + "' declares that records must not share a call"
                : "it needs a model as the first step");
        return false;
    }

    /**
     * The batcher of {@code engine}'s first step: batched calls feed the engine's policy and listener, and
     * columnar records ({@link RowRecord}) go to the engine's columnar path.
     */
    static <I, O> MicroBatcher forFirstStep(Engine<I, O> engine, EngineOptions.Batching b, String first) {
        return new MicroBatcher(engine.name, first, b.maxBatchSize(), b.maxQueueDelay().toNanos(), b.threads(),
                engine.ticker, (size, nanos) -> engine.rowsCalled(first, size, nanos),
                (batch, n, dequeued) -> RowRecord.score(engine, batch, n, dequeued));
    }

    /** Queues a request; fails it at once when the batcher is closed. */
    public void submit(Request r) {
        if (closed) {
            complete(r, null, closedError(), ticker.read(), 0);
            return;
        }
        depth.incrementAndGet();
        queue.offer(r);
        for (Worker w : workers) {
            if (w.parked.get() && w.parked.compareAndSet(true, false)) {
                LockSupport.unpark(w.thread);
                break;
            }
        }
    }

    /** Records waiting for a dispatcher. */
    public int depth() {
        return depth.get();
    }

    /** Stops intake; queued records are still run. */
    public void close() {
        closed = true;
        for (Worker w : workers) {
            LockSupport.unpark(w.thread);
        }
    }

    /** Fails every record still queued and stops the dispatchers; after {@link #close()} and a grace period. */
    public void abort() {
        aborted = true;
        close();
        failQueued();
    }

    private void failQueued() {
        Request r;
        while ((r = queue.poll()) != null) {
            depth.decrementAndGet();
            complete(r, null, closedError(), ticker.read(), 0);
        }
    }

    private void complete(Request r, @Nullable Tensors out, @Nullable ScoringException err, long dequeued, long nanos) {
        try {
            r.complete(out, err, dequeued, nanos);
        } catch (Throwable e) { // NOPMD: a dispatcher thread must outlive whatever a completion throws
            log.error("step '{}': completing a record failed", name, e);
        }
    }

    private ScoringException closedError() {
        return new ScoringException(Kind.UNAVAILABLE, "step '" + name + "' is closed; the record was not scored");
    }

    private final class Worker implements Runnable {
        final AtomicBoolean parked = new AtomicBoolean();
        @Nullable Thread thread;
        final @Nullable Request[] batch = new Request[maxBatchSize];
        final @Nullable Tensors[] inputs = new Tensors[maxBatchSize];
        final long[] deadlines = new long[maxBatchSize];
        final @Nullable Tensors[] outputs = new Tensors[maxBatchSize];
        final @Nullable ScoringException[] errors = new ScoringException[maxBatchSize];
        final long[] nanos = new long[maxBatchSize];
        /** A record taken for a batch of another step version (after a hot swap); it starts the next batch. */
        @Nullable Request carry;

        @Override
        public void run() {
            while (!aborted) {
                int polled = carry != null ? 0 : 1;
                Request first = carry != null ? carry : queue.poll();
                carry = null;
                if (first == null) {
                    if (closed) {
                        break;
                    }
                    idle();
                    continue;
                }
                long start = ticker.read();
                batch[0] = first;
                int n = 1;
                long until = start + maxQueueDelayNanos;
                while (n < maxBatchSize) {
                    Request r = queue.poll();
                    if (r != null) {
                        polled++;
                    }
                    if (r != null && (r.step != first.step || r.byRows() != first.byRows())) {
                        carry = r;
                        break;
                    } else if (r != null) {
                        batch[n++] = r;
                    } else if (maxQueueDelayNanos <= 0 || ticker.read() - until >= 0 || closed) {
                        break;
                    } else {
                        Thread.onSpinWait();
                    }
                }
                depth.addAndGet(-polled);
                execute(n, ticker.read());
            }
            if (carry != null) {
                complete(carry, null, closedError(), ticker.read(), 0);
                carry = null;
            }
            failQueued();
        }

        private void execute(int n, long dequeued) {
            int live = 0;
            for (int i = 0; i < n; i++) {
                Request r = batch[i];
                if (r.deadline != BatchCall.NO_DEADLINE && dequeued - r.deadline >= 0) {
                    batch[i] = null;
                    complete(r, null, new ScoringException(Kind.DEADLINE_EXCEEDED, "deadline passed while the record "
                            + "waited for a batch at step '" + name + "'"), dequeued, 0);
                } else {
                    batch[live++] = r;
                }
            }
            if (live == 0) {
                return;
            }
            if (batch[0].byRows() && rows != null) {
                try {
                    rows.run(batch, live, dequeued);
                } catch (Throwable e) { // NOPMD: the runner completes its records; this only keeps the thread alive
                    log.error("step '{}': the columnar runner failed", name, e);
                }
                java.util.Arrays.fill(batch, 0, live, null);
                return;
            }
            for (int i = 0; i < live; i++) {
                inputs[i] = batch[i].inputs;
                deadlines[i] = batch[i].deadline;
            }
            BatchCall.run(pipeline, batch[0].step, inputs, deadlines, live, ticker, outputs, errors, nanos,
                    listener::batchCompleted);
            for (int i = 0; i < live; i++) {
                Request r = batch[i];
                Tensors out = outputs[i];
                ScoringException err = errors[i];
                batch[i] = null;
                inputs[i] = null;
                outputs[i] = null;
                errors[i] = null;
                complete(r, out, err, dequeued, nanos[i]);
            }
        }

        private void idle() {
            for (int i = 0; i < IDLE_SPINS; i++) {
                if (!queue.isEmpty() || closed) {
                    return;
                }
                Thread.onSpinWait();
            }
            parked.set(true);
            if (queue.isEmpty() && !closed) {
                LockSupport.park(this);
            }
            parked.set(false);
        }
    }
}
