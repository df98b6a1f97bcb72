package dev.nearline.keda.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nearline.api.Outcome;
import dev.nearline.api.Scorer;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.core.Ticker;
import dev.nearline.keda.InboundMessage;
import dev.nearline.keda.Reply;
import dev.nearline.keda.Transport;
import dev.nearline.keda.internal.Settlement.Action;
import dev.nearline.keda.internal.Settlement.Decision;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The worker's machinery behind {@code QueueWorker}: receive loops, scoring (one {@code scoreAll} per
 * receive batch, or {@code scoreAsync} per record), reply-then-settle, lock renewal and the drain on
 * shutdown. Thread-safe.
 */
public final class WorkerEngine {
    private static final Logger log = LoggerFactory.getLogger(WorkerEngine.class);
    private static final Duration PERMIT_POLL = Duration.ofMillis(100);
    private static final Duration ABANDON_WAIT = Duration.ofSeconds(5);

    /** Settings, validated by the public builder. */
    public record Options(String name, int concurrency, int maxBatchSize, Duration batchWait, int maxInFlight,
                          boolean batching, int maxDeliveryCount, Duration lockRenewalMargin, Duration drainTimeout,
                          Duration backoff, Duration stallTimeout) {
        /** Checks for nulls. */
        public Options {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(batchWait, "batchWait");
            Objects.requireNonNull(lockRenewalMargin, "lockRenewalMargin");
            Objects.requireNonNull(drainTimeout, "drainTimeout");
            Objects.requireNonNull(backoff, "backoff");
            Objects.requireNonNull(stallTimeout, "stallTimeout");
        }
    }

    /** What a shutdown did: messages settled while draining, abandoned at the end, and how long it took. */
    public record Summary(int drained, int abandoned, Duration took) {
    }

    private final Scorer<? super JsonNode, ?> scorer;
    private final Transport transport;
    private final Options options;
    private final WorkerMetrics metrics;
    private final InstantSource clock;
    private final Ticker ticker;

    private final Semaphore permits;
    private final Set<Work> inFlight = ConcurrentHashMap.newKeySet();
    private final AtomicInteger settledCount = new AtomicInteger();
    private final ReentrantLock drainLock = new ReentrantLock();
    private final Condition drainedCondition = drainLock.newCondition();
    private final CountDownLatch stopSignal = new CountDownLatch(1);
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean shutdownStarted = new AtomicBoolean();
    private final CompletableFuture<Summary> summary = new CompletableFuture<>();
    private final AtomicLong pausedUntilNanos = new AtomicLong();
    private final List<Thread> loops = new ArrayList<>();
    private final long[] heartbeats;
    private final AtomicBoolean loopDied = new AtomicBoolean();
    private final AtomicBoolean renewalUnsupported = new AtomicBoolean();
    private volatile boolean stopping;
    private volatile long lastConnectedNanos;
    private @Nullable ScheduledExecutorService renewer;

    /** An engine; nothing runs until {@link #start()}. It owns {@code scorer} and {@code transport}. */
    public WorkerEngine(Scorer<? super JsonNode, ?> scorer, Transport transport, Options options, WorkerMetrics metrics,
                        InstantSource clock, Ticker ticker) {
        this.scorer = Objects.requireNonNull(scorer, "scorer");
        this.transport = Objects.requireNonNull(transport, "transport");
        this.options = Objects.requireNonNull(options, "options");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.permits = new Semaphore(options.maxInFlight());
        this.heartbeats = new long[options.concurrency()];
    }

    /** Messages received and not yet settled. */
    public int inFlight() {
        return inFlight.size();
    }

    /** Starts the receive loops and the lock renewer. */
    public void start() {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("worker '" + options.name() + "' was already started");
        }
        if (!options.lockRenewalMargin().isZero()) {
            ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(r -> daemon(r,
                    "nearline-" + options.name() + "-lock-renewer"));
            long period = Math.max(50, Math.min(1000, options.lockRenewalMargin().toMillis() / 4));
            s.scheduleWithFixedDelay(this::renewDueLocks, period, period, TimeUnit.MILLISECONDS);
            renewer = s;
        }
        lastConnectedNanos = ticker.read();
        for (int i = 0; i < options.concurrency(); i++) {
            int index = i;
            heartbeats[i] = ticker.read();
            Thread t = daemon(() -> loop(index), "nearline-" + options.name() + "-receive-" + (i + 1));
            loops.add(t);
            t.start();
        }
        log.info("worker '{}' started: concurrency={} maxBatchSize={} maxInFlight={} batching={}", options.name(),
                options.concurrency(), options.maxBatchSize(), options.maxInFlight(), options.batching());
    }

    /** Ready: started, not stopping, and the transport connected. */
    public boolean isReady() {
        return started.get() && !stopping && transport.isConnected();
    }

    /**
     * Live: no receive loop died, none is stuck past the stall timeout, and the transport has not been
     * disconnected for longer than the stall timeout.
     */
    public boolean isLive() {
        if (loopDied.get()) {
            return false;
        }
        if (!started.get() || stopping) {
            return true;
        }
        long now = ticker.read();
        if (now - lastConnectedNanos > options.stallTimeout().toNanos()) {
            return false; // the broker has been out of reach too long: let Kubernetes restart the pod
        }
        for (long beat : heartbeats) {
            if (now - beat > options.stallTimeout().toNanos()) {
                return false;
            }
        }
        return true;
    }

    // ------------------------------------------------------------------ receive loop

    private void loop(int index) {
        try {
            while (!stopping) {
                heartbeats[index] = ticker.read();
                if (transport.isConnected()) {
                    lastConnectedNanos = heartbeats[index];
                }
                long pause = pausedUntilNanos.get() - ticker.read();
                if (pause > 0) {
                    stopSignal.await(pause, TimeUnit.NANOSECONDS);
                    continue;
                }
                int n = acquirePermits();
                if (n == 0) {
                    continue;
                }
                List<InboundMessage> batch;
                try {
                    batch = stopping ? List.of() : transport.receive(n, options.batchWait());
                } catch (RuntimeException e) {
                    permits.release(n);
                    metrics.receiveFailed();
                    log.warn("worker '{}': receive failed, retrying in {}: {}", options.name(), options.backoff(),
                            e.toString());
                    stopSignal.await(options.backoff().toNanos(), TimeUnit.NANOSECONDS);
                    continue;
                }
                permits.release(n - batch.size());
                if (!batch.isEmpty()) {
                    process(batch);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            loopDied.set(true);
            log.error("worker '{}': receive loop {} died", options.name(), index + 1, e);
            throw e;
        }
    }

    /** Waits for at least one in-flight permit, then takes up to a batch; 0 when none came in time. */
    private int acquirePermits() throws InterruptedException {
        if (!permits.tryAcquire(PERMIT_POLL.toNanos(), TimeUnit.NANOSECONDS)) {
            return 0;
        }
        int n = 1;
        while (n < options.maxBatchSize() && permits.tryAcquire()) {
            n++;
        }
        return n;
    }

    private void process(List<InboundMessage> batch) {
        long receivedNanos = ticker.read();
        metrics.received(batch.size());
        Instant now = clock.instant();
        List<Work> valid = new ArrayList<>(batch.size());
        for (InboundMessage m : batch) {
            Work w = new Work(m, receivedNanos);
            inFlight.add(w);
            if (m.messageId().isEmpty()) {
                finish(w, null, ScoringException.invalidInput("request has no MessageId, so no reply could be matched"
                        + " to it; set MessageId on every request"), 0);
                continue;
            }
            try {
                w.request = Envelope.parseRequest(m.body());
            } catch (ScoringException e) {
                finish(w, null, e, 0);
                continue;
            }
            Instant deadline = w.request.deadline();
            if (deadline != null && !now.isBefore(deadline)) {
                finish(w, null, new ScoringException(Kind.DEADLINE_EXCEEDED, "request deadline " + deadline
                        + " passed before scoring (received at " + now + ")"), 0);
                continue;
            }
            valid.add(w);
        }
        if (valid.isEmpty()) {
            return;
        }
        if (options.batching()) {
            scoreBatch(valid);
        } else {
            for (Work w : valid) {
                scoreOne(w);
            }
        }
    }

    private void scoreBatch(List<Work> valid) {
        List<JsonNode> records = new ArrayList<>(valid.size());
        for (Work w : valid) {
            records.add(Objects.requireNonNull(w.request).record());
        }
        long t0 = ticker.read();
        List<? extends Outcome<?>> outcomes;
        try {
            outcomes = scorer.scoreAll(records);
            if (outcomes.size() != records.size()) {
                throw new ScoringException(Kind.INTERNAL, "scoreAll returned " + outcomes.size() + " outcomes for "
                        + records.size() + " records");
            }
        } catch (RuntimeException e) {
            ScoringException error = asScoringException(e);
            long nanos = ticker.read() - t0;
            metrics.scoreNanos(nanos);
            for (Work w : valid) {
                finish(w, null, error, nanos);
            }
            return;
        }
        long nanos = ticker.read() - t0;
        metrics.scoreNanos(nanos);
        for (int i = 0; i < valid.size(); i++) {
            Outcome<?> o = outcomes.get(i);
            finish(valid.get(i), o.value(), o.error(), nanos);
        }
    }

    private void scoreOne(Work w) {
        long t0 = ticker.read();
        CompletableFuture<?> f;
        try {
            Envelope.Request request = Objects.requireNonNull(w.request);
            Instant deadline = request.deadline();
            f = deadline == null ? scorer.scoreAsync(request.record())
                    : scorer.scoreAsync(request.record(), Duration.between(clock.instant(), deadline));
        } catch (RuntimeException e) {
            finish(w, null, asScoringException(e), 0);
            return;
        }
        f.whenComplete((value, error) -> {
            long nanos = ticker.read() - t0;
            metrics.scoreNanos(nanos);
            finish(w, value, error == null ? null : asScoringException(error), nanos);
        });
    }

    // ------------------------------------------------------------------ reply, then settle

    private void finish(Work w, @Nullable Object value, @Nullable ScoringException error, long scoreNanos) {
        if (w.settling.get()) {
            return; // abandoned by a shutdown that could not wait for it
        }
        InboundMessage m = w.message;
        Kind kind = error == null ? null : error.kind();
        Instant deadline = w.request == null ? null : w.request.deadline();
        boolean deadlinePassed = deadline != null && !clock.instant().isBefore(deadline);
        Decision decision = Settlement.decide(kind, deadlinePassed, m.deliveryCount(), options.maxDeliveryCount());
        String kindLabel = kind == null ? "OK" : kind.name();
        metrics.scored(kindLabel, 1);
        if (decision.backOff()) {
            pausedUntilNanos.accumulateAndGet(ticker.read() + options.backoff().toNanos(), Math::max);
        }
        String description = error == null ? "" : String.valueOf(error.getMessage());
        String replyTo = m.replyTo();
        boolean sendReply = decision.reply() && replyTo != null && !replyTo.isEmpty() && !m.messageId().isEmpty();
        CompletableFuture<Void> replied;
        if (sendReply) {
            Reply reply;
            try {
                reply = buildReply(w, replyTo, value, error, scoreNanos);
            } catch (RuntimeException e) {
                ScoringException internal = asScoringException(e);
                if (error == null) {
                    // e.g. an output Jackson cannot write: answer with the error instead
                    finish(w, null, internal, scoreNanos);
                } else {
                    settle(w, Action.ABANDON, null, "", kindLabel);
                }
                return;
            }
            replied = safely(() -> transport.reply(reply));
        } else {
            replied = CompletableFuture.completedFuture(null);
        }
        replied.whenComplete((ok, replyError) -> {
            if (replyError != null) {
                metrics.reply(false);
                withMdc(m, () -> log.warn("worker '{}': messageId={} reply to {} failed, abandoning the request so "
                        + "that it is scored again: {}", options.name(), m.messageId(), replyTo, replyError.toString()));
                settle(w, Action.ABANDON, null, "", kindLabel);
                return;
            }
            if (sendReply) {
                metrics.reply(true);
            }
            settle(w, decision.action(), decision.reason(), description, kindLabel);
        });
    }

    private Reply buildReply(Work w, String replyTo, @Nullable Object value, @Nullable ScoringException error,
                             long scoreNanos) {
        InboundMessage m = w.message;
        Instant enqueued = m.enqueuedTime();
        long queuedMillis = enqueued == null ? -1 : Math.max(0, Duration.between(enqueued, clock.instant()).toMillis());
        Envelope.Timing timing = new Envelope.Timing(queuedMillis, TimeUnit.NANOSECONDS.toMicros(scoreNanos),
                TimeUnit.NANOSECONDS.toMicros(ticker.read() - w.receivedNanos));
        byte[] body;
        Map<String, String> props;
        if (error == null) {
            body = Envelope.okReply(Objects.requireNonNull(value, "value"), timing);
            props = Map.of("nearline-status", "OK");
        } else {
            body = Envelope.errorReply(error.kind(), String.valueOf(error.getMessage()), timing);
            props = Map.of("nearline-status", "ERROR", "nearline-error-kind", error.kind().name());
        }
        return new Reply(replyTo, m.replyToSessionId(), m.messageId(), "r:" + m.messageId(), body, props);
    }

    private void settle(Work w, Action action, @Nullable String reason, String description, String kindLabel) {
        if (!w.settling.compareAndSet(false, true)) {
            return;
        }
        InboundMessage m = w.message;
        CompletableFuture<Void> f = switch (action) {
            case COMPLETE -> safely(() -> transport.complete(m));
            case ABANDON -> safely(() -> transport.abandon(m));
            case DEAD_LETTER -> safely(() -> transport.deadLetter(m, Objects.requireNonNull(reason), description));
        };
        f.whenComplete((ok, error) -> {
            if (error == null) {
                metrics.settled(action, kindLabel, ticker.read() - w.receivedNanos);
                withMdc(m, () -> {
                    if (action == Action.DEAD_LETTER) {
                        log.warn("worker '{}': messageId={} dead-lettered reason={} description={}", options.name(),
                                m.messageId(), reason, description);
                    } else if (log.isDebugEnabled()) {
                        log.debug("worker '{}': messageId={} settled action={} kind={}", options.name(), m.messageId(), action,
                                kindLabel);
                    }
                });
            } else {
                metrics.settleFailed(action);
                withMdc(m, () -> log.warn("worker '{}': messageId={} {} failed; the broker redelivers the message "
                        + "when its lock expires: {}", options.name(), m.messageId(), action, error.toString()));
            }
            done(w);
        });
    }

    private void done(Work w) {
        if (inFlight.remove(w)) {
            settledCount.incrementAndGet();
            permits.release();
        }
        if (stopping) {
            drainLock.lock();
            try {
                drainedCondition.signalAll();
            } finally {
                drainLock.unlock();
            }
        }
    }

    // ------------------------------------------------------------------ lock renewal

    /** Renews the locks of in-flight messages that expire within the renewal margin. */
    public void renewDueLocks() {
        if (renewalUnsupported.get()) {
            return;
        }
        Instant horizon = clock.instant().plus(options.lockRenewalMargin());
        for (Work w : inFlight) {
            Instant until = w.lockedUntil;
            if (w.settling.get() || until == null || until.isAfter(horizon) || !w.renewing.compareAndSet(false, true)) {
                continue;
            }
            safelyInstant(() -> transport.renewLock(w.message)).whenComplete((newUntil, error) -> {
                w.renewing.set(false);
                if (error == null) {
                    w.lockedUntil = newUntil;
                    metrics.renewal(true);
                    return;
                }
                Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                        ? error.getCause() : error;
                if (cause instanceof UnsupportedOperationException) {
                    if (renewalUnsupported.compareAndSet(false, true)) {
                        log.info("worker '{}': lock renewal off: {}", options.name(), cause.getMessage());
                    }
                    return;
                }
                metrics.renewal(false);
                withMdc(w.message, () -> log.warn("worker '{}': messageId={} lock renewal failed: {}", options.name(),
                        w.message.messageId(), cause.toString()));
            });
        }
    }

    // ------------------------------------------------------------------ shutdown

    /**
     * Stops receiving, waits up to the drain timeout for in-flight messages to be replied to and
     * settled, abandons the rest, then closes the transport and the scorer. Idempotent: later calls
     * wait for the first one and return its summary.
     */
    public Summary shutdown() {
        if (!shutdownStarted.compareAndSet(false, true)) {
            return summary.join();
        }
        long t0 = ticker.read();
        long deadline = t0 + options.drainTimeout().toNanos();
        int settledBefore = settledCount.get();
        stopping = true;
        stopSignal.countDown();
        log.info("worker '{}': shutting down; {} messages in flight, drain timeout {}", options.name(),
                inFlight.size(), options.drainTimeout());
        try {
            for (Thread t : loops) {
                long left = deadline - ticker.read();
                if (left > 0) {
                    t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                }
            }
            drainLock.lock();
            try {
                while (!inFlight.isEmpty()) {
                    long left = deadline - ticker.read();
                    if (left <= 0) {
                        break;
                    }
                    drainedCondition.await(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)), TimeUnit.NANOSECONDS);
                }
            } finally {
                drainLock.unlock();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        int drained = settledCount.get() - settledBefore;
        int abandoned = abandonLeftovers();
        ScheduledExecutorService r = renewer;
        if (r != null) {
            r.shutdownNow();
        }
        try {
            transport.close();
        } catch (RuntimeException e) {
            log.warn("worker '{}': closing the transport failed", options.name(), e);
        }
        try {
            scorer.close();
        } catch (RuntimeException e) {
            log.warn("worker '{}': closing the scorer failed", options.name(), e);
        }
        Summary s = new Summary(drained, abandoned, Duration.ofNanos(ticker.read() - t0));
        log.info("worker '{}' stopped: drained={} abandoned={} took={}ms", options.name(), s.drained(), s.abandoned(),
                s.took().toMillis());
        summary.complete(s);
        return s;
    }

    private int abandonLeftovers() {
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        for (Work w : inFlight) {
            if (!w.settling.compareAndSet(false, true)) {
                continue; // a settlement is on its way
            }
            CompletableFuture<Void> f = safely(() -> transport.abandon(w.message));
            pending.add(f.whenComplete((ok, e) -> {
                if (e == null) {
                    metrics.settled(Action.ABANDON, "SHUTDOWN", ticker.read() - w.receivedNanos);
                } else {
                    metrics.settleFailed(Action.ABANDON);
                }
                inFlight.remove(w);
                permits.release();
            }));
        }
        try {
            CompletableFuture.allOf(pending.toArray(new CompletableFuture<?>[0]))
                    .get(ABANDON_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("worker '{}': abandoning {} leftover messages did not finish cleanly: {}; they are redelivered "
                    + "when their locks expire", options.name(), pending.size(), e.toString());
        }
        return pending.size();
    }

    // ------------------------------------------------------------------ helpers

    private static ScoringException asScoringException(Throwable t) {
        Throwable c = t;
        while ((c instanceof java.util.concurrent.CompletionException || c instanceof ExecutionException)
                && c.getCause() != null) {
            c = c.getCause();
        }
        if (c instanceof ScoringException) {
            return (ScoringException) c;
        }
        return new ScoringException(Kind.INTERNAL, "unexpected failure: " + c, c);
    }

    private static CompletableFuture<Void> safely(java.util.function.Supplier<CompletableFuture<Void>> call) {
        try {
            CompletableFuture<Void> f = call.get();
            return f == null ? CompletableFuture.failedFuture(new IllegalStateException("transport returned null")) : f;
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static CompletableFuture<Instant> safelyInstant(java.util.function.Supplier<CompletableFuture<Instant>> call) {
        try {
            CompletableFuture<Instant> f = call.get();
            return f == null ? CompletableFuture.failedFuture(new IllegalStateException("transport returned null")) : f;
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static void withMdc(InboundMessage m, Runnable r) {
        // Settlement callbacks run on SDK threads, so the correlation ids are set around each log call.
        MDC.put("messageId", m.messageId());
        MDC.put("deliveryCount", Long.toString(m.deliveryCount()));
        try {
            r.run();
        } finally {
            MDC.remove("messageId");
            MDC.remove("deliveryCount");
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** One message from receive to settled. */
    private static final class Work {
        final InboundMessage message;
        final long receivedNanos;
        final AtomicBoolean settling = new AtomicBoolean();
        final AtomicBoolean renewing = new AtomicBoolean();
        volatile @Nullable Instant lockedUntil;
        volatile Envelope.@Nullable Request request;

        Work(InboundMessage message, long receivedNanos) {
            this.message = message;
            this.receivedNanos = receivedNanos;
            this.lockedUntil = message.lockedUntil();
        }
    }
}
