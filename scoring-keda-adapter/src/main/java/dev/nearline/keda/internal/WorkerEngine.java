package dev.nearline.keda.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nearline.api.Outcome;
import dev.nearline.api.Scorer;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Ticker;
import dev.nearline.core.internal.wire.PayloadRef;
import dev.nearline.core.internal.wire.QueueReply;
import dev.nearline.core.internal.wire.QueueRequest;
import dev.nearline.core.internal.wire.TraceContext;
import dev.nearline.core.internal.wire.Wire;
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
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The worker's machinery behind {@code QueueWorker}: receive loops, scoring (one {@code scoreAll} per
 * receive batch, or {@code scoreAsync} per record), reply-then-settle, lock renewal, broker probes, the
 * health rules and the drain on shutdown. Every transport call is bounded ({@link #callTimeout}): a call
 * that has not completed in time frees its in-flight slot, is counted, and leaves the message to the
 * broker's redelivery. Thread-safe.
 */
public final class WorkerEngine {
    private static final Logger log = LoggerFactory.getLogger(WorkerEngine.class);
    private static final Duration PERMIT_POLL = Duration.ofMillis(100);
    /** Least transport-call timeout, whatever the lock duration and drain timeout: a round trip can take this. */
    static final Duration MIN_CALL_TIMEOUT = Duration.ofSeconds(1);
    /** How often the broker is probed. */
    static final Duration PROBE_INTERVAL = Duration.ofSeconds(1);
    /** Longest a probe may take: on a working connection it is a local check, so this is generous. */
    static final Duration MAX_PROBE_TIMEOUT = Duration.ofSeconds(2);
    /** Least part of the grace period left after the drain, for abandoning leftovers and closing. */
    public static final Duration MIN_CLOSE_RESERVE = Duration.ofSeconds(1);
    private static final long IDLE = Long.MIN_VALUE;

    /** Settings, validated by the public builder; the combination is checked here too. */
    public record Options(String name, int concurrency, int maxBatchSize, Duration batchWait, int maxInFlight,
                          boolean batching, int maxDeliveryCount, Duration lockRenewalMargin, Duration drainTimeout,
                          Duration backoff, Duration stallTimeout, Duration lockDuration, Duration gracePeriod) {
        /** Checks for nulls, and that the grace period leaves room after the drain. */
        public Options {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(batchWait, "batchWait");
            Objects.requireNonNull(lockRenewalMargin, "lockRenewalMargin");
            Objects.requireNonNull(drainTimeout, "drainTimeout");
            Objects.requireNonNull(backoff, "backoff");
            Objects.requireNonNull(stallTimeout, "stallTimeout");
            Objects.requireNonNull(lockDuration, "lockDuration");
            Objects.requireNonNull(gracePeriod, "gracePeriod");
            if (gracePeriod.minus(drainTimeout).compareTo(MIN_CLOSE_RESERVE) < 0) {
                throw new IllegalArgumentException("gracePeriod (" + gracePeriod.toMillis() + " ms) must exceed drainTimeout ("
                        + drainTimeout.toMillis() + " ms) by at least " + MIN_CLOSE_RESERVE.toMillis() + " ms, to leave time "
                        + "for abandoning leftovers and closing the transport; set gracePeriod to the pod's "
                        + "terminationGracePeriodSeconds");
            }
        }
    }

    /**
     * What a shutdown did: messages that left the worker while draining (settled, or released after a
     * call timed out), messages abandoned at the end, and how long it took.
     */
    public record Summary(int drained, int abandoned, Duration took) {
    }

    /** The transport calls the worker bounds, as the {@code call} tag of the timeout counter names them. */
    enum Call {
        REPLY, COMPLETE, ABANDON, DEAD_LETTER, RENEW_LOCK, PROBE,
        /** Payload-store calls of the claim check (they say nothing about the broker). */
        PAYLOAD_READ, PAYLOAD_WRITE, PAYLOAD_DELETE;

        final String tag = name().toLowerCase(java.util.Locale.ROOT);

        static Call of(Action action) {
            return switch (action) {
                case COMPLETE -> COMPLETE;
                case ABANDON -> ABANDON;
                case DEAD_LETTER -> DEAD_LETTER;
            };
        }
    }

    private final Scorer<? super JsonNode, ?> scorer;
    private final Transport transport;
    private final @Nullable Payloads payloads;
    private final Options options;
    private final WorkerMetrics metrics;
    private final InstantSource clock;
    private final Ticker ticker;
    private final long callTimeoutNanos;
    private final long probeTimeoutNanos;
    private final long stallWindowNanos;

    private final Semaphore permits;
    private final Set<Work> inFlight = ConcurrentHashMap.newKeySet();
    private final AtomicInteger endedCount = new AtomicInteger();
    private final ReentrantLock drainLock = new ReentrantLock();
    private final Condition drainedCondition = drainLock.newCondition();
    private final CountDownLatch stopSignal = new CountDownLatch(1);
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean shutdownStarted = new AtomicBoolean();
    private final CompletableFuture<Summary> summary = new CompletableFuture<>();
    private final AtomicLong pausedUntilNanos = new AtomicLong();
    private final List<Thread> loops = new CopyOnWriteArrayList<>();
    private final AtomicBoolean loopDied = new AtomicBoolean();
    private final AtomicBoolean renewalUnsupported = new AtomicBoolean();
    /** Fires call timeouts; its tasks never call the transport, so a transport that blocks cannot stop it. */
    private final ScheduledThreadPoolExecutor timer;
    /** Starts probes and lock renewals. */
    private final ScheduledThreadPoolExecutor housekeeping;

    // Health. Receive progress and in-receive times are ticker nanos written by the loops and read by
    // the health endpoint's thread, hence atomics.
    private final AtomicLong lastReceiveProgress = new AtomicLong();
    private final AtomicLongArray inReceiveSince;
    // Evidence about the broker, ordered by a sequence number: the latest wins.
    private final AtomicLong evidenceSeq = new AtomicLong();
    private final AtomicLong lastGood = new AtomicLong();
    private final AtomicLong lastBad = new AtomicLong();
    private final AtomicBoolean unreachableReported = new AtomicBoolean();
    private final AtomicBoolean probing = new AtomicBoolean();

    private volatile boolean stopping;
    /** While shutting down: the ticker time by which every transport call must have ended. */
    private volatile long callDeadlineNanos = Long.MAX_VALUE;

    /**
     * An engine; nothing runs until {@link #start()}. It owns {@code scorer}, {@code transport} and the
     * claim-check store {@code payloads}, if any ({@code null}: requests by reference fail
     * {@code INVALID_INPUT}).
     */
    public WorkerEngine(Scorer<? super JsonNode, ?> scorer, Transport transport, @Nullable Payloads payloads, Options options,
                        WorkerMetrics metrics, InstantSource clock, Ticker ticker) {
        this.scorer = Objects.requireNonNull(scorer, "scorer");
        this.transport = Objects.requireNonNull(transport, "transport");
        this.payloads = payloads;
        this.options = Objects.requireNonNull(options, "options");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.callTimeoutNanos = callTimeout(options.lockDuration(), options.drainTimeout()).toNanos();
        this.probeTimeoutNanos = Math.min(callTimeoutNanos, MAX_PROBE_TIMEOUT.toNanos());
        this.stallWindowNanos = options.stallTimeout().plus(options.batchWait()).plus(options.backoff()).toNanos();
        this.permits = new Semaphore(options.maxInFlight());
        this.inReceiveSince = new AtomicLongArray(options.concurrency());
        for (int i = 0; i < options.concurrency(); i++) {
            inReceiveSince.set(i, IDLE);
        }
        this.timer = new ScheduledThreadPoolExecutor(1, r -> daemon(r, "nearline-" + options.name() + "-timer"));
        this.timer.setRemoveOnCancelPolicy(true);
        this.timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.housekeeping = new ScheduledThreadPoolExecutor(1, r -> daemon(r, "nearline-" + options.name() + "-probe"));
        this.housekeeping.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    /**
     * The bound on every reply, settle and lock-renewal call:
     * {@code max(1 s, min(lockDuration / 4, drainTimeout / 2))}. A reply and the settle after it then take
     * at most half the lock, leaving the other half for receiving and scoring (a settle after the lock
     * expired is refused anyway), and a message whose reply was in flight when the drain began is
     * settled or released within the drain timeout.
     */
    public static Duration callTimeout(Duration lockDuration, Duration drainTimeout) {
        Duration derived = lockDuration.dividedBy(4);
        Duration half = drainTimeout.dividedBy(2);
        if (half.compareTo(derived) < 0) {
            derived = half;
        }
        return derived.compareTo(MIN_CALL_TIMEOUT) < 0 ? MIN_CALL_TIMEOUT : derived;
    }

    /** Messages received and not yet settled or released. */
    public int inFlight() {
        return inFlight.size();
    }

    /** Starts the receive loops, the broker probe and the lock renewer. */
    public void start() {
        if (shutdownStarted.get()) {
            throw new IllegalStateException("worker '" + options.name() + "' was shut down");
        }
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("worker '" + options.name() + "' was already started");
        }
        if (!options.lockRenewalMargin().isZero()) {
            long period = Math.max(50, Math.min(1000, options.lockRenewalMargin().toMillis() / 4));
            housekeeping.scheduleWithFixedDelay(guarded("lock renewal", this::renewDueLocks), period, period,
                    TimeUnit.MILLISECONDS);
        }
        housekeeping.scheduleWithFixedDelay(guarded("probe", this::probe), 0, PROBE_INTERVAL.toNanos(),
                TimeUnit.NANOSECONDS);
        lastReceiveProgress.set(ticker.read());
        for (int i = 0; i < options.concurrency(); i++) {
            int index = i;
            Thread t = daemon(() -> loop(index), "nearline-" + options.name() + "-receive-" + (i + 1));
            loops.add(t);
            t.start();
        }
        log.info("worker '{}' started: concurrency={} maxBatchSize={} maxInFlight={} batching={} callTimeout={}ms "
                        + "drainTimeout={}ms gracePeriod={}ms", options.name(), options.concurrency(), options.maxBatchSize(),
                options.maxInFlight(), options.batching(), TimeUnit.NANOSECONDS.toMillis(callTimeoutNanos),
                options.drainTimeout().toMillis(), options.gracePeriod().toMillis());
    }

    /**
     * Ready: started, not stopping, the transport connected, and the latest evidence about the broker is
     * good: the last probe succeeded, and no receive failed and no transport call timed out since
     * (a call that times out after good evidence that arrived while it was pending is old news and ignored).
     */
    public boolean isReady() {
        return started.get() && !stopping && transport.isConnected() && brokerReachable();
    }

    /**
     * Live: no receive loop died, none is stuck in one receive call, and the worker made receive progress
     * within the stall window (stall timeout + batch wait + backoff, the longest a healthy loop waits on
     * its own). Receive progress is a receive call that returned messages, or one that returned none
     * while the broker was reachable: an idle worker on an empty queue is live, a worker whose loops spin
     * without receiving (every slot held) or whose broker stays unreachable is not.
     */
    public boolean isLive() {
        if (loopDied.get()) {
            return false;
        }
        if (!started.get() || stopping) {
            return true;
        }
        long now = ticker.read();
        if (now - lastReceiveProgress.get() > stallWindowNanos) {
            return false;
        }
        for (int i = 0; i < inReceiveSince.length(); i++) {
            long since = inReceiveSince.get(i);
            if (since != IDLE && now - since > stallWindowNanos) {
                return false;
            }
        }
        return true;
    }

    // ------------------------------------------------------------------ receive loop

    private void loop(int index) {
        try {
            while (!stopping) {
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
                long evidenceBefore = evidenceSeq.get();
                inReceiveSince.set(index, ticker.read());
                try {
                    batch = stopping ? List.of() : transport.receive(n, options.batchWait());
                } catch (RuntimeException e) {
                    permits.release(n);
                    metrics.receiveFailed();
                    bad("receive failed: " + e, evidenceBefore);
                    log.warn("worker '{}': receive failed, retrying in {}: {}", options.name(), options.backoff(),
                            e.toString());
                    stopSignal.await(options.backoff().toNanos(), TimeUnit.NANOSECONDS);
                    continue;
                } catch (InterruptedException e) {
                    permits.release(n);
                    throw e;
                } finally {
                    inReceiveSince.set(index, IDLE);
                }
                permits.release(n - batch.size());
                receiveReturned(batch.size());
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

    /**
     * Receive progress: messages prove the link works; an empty receive counts only while the broker is
     * known to be reachable, since a dead link also returns nothing.
     */
    private void receiveReturned(int received) {
        if (received > 0) {
            good();
        } else if (!(transport.isConnected() && brokerReachable())) {
            return;
        }
        lastReceiveProgress.accumulateAndGet(ticker.read(), Math::max);
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
        List<Work> works = new ArrayList<>(batch.size());
        for (InboundMessage m : batch) {
            Work w = new Work(m, receivedNanos);
            inFlight.add(w);
            works.add(w);
        }
        // Counted once in flight, just as every way out is counted before the message leaves: so at any
        // moment the received count is at most the messages ended plus those in flight.
        metrics.received(batch.size());
        Instant now = clock.instant();
        List<Work> valid = new ArrayList<>(batch.size());
        for (Work w : works) {
            InboundMessage m = w.message;
            if (m.messageId().isEmpty()) {
                finish(w, null, QueueRequest.missingMessageId(), 0);
                continue;
            }
            QueueRequest request;
            try {
                request = QueueRequest.parse(m.body());
            } catch (ScoringException e) {
                finish(w, null, e, 0);
                continue;
            }
            w.request = request;
            if (request.deadlinePassed(now)) {
                finish(w, null, request.deadlineExceeded(now), 0);
                continue;
            }
            valid.add(w);
        }
        valid = resolveReferences(valid, now);
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

    /**
     * Reads the records of the requests by reference, all at once, each within the payload store's timeout
     * and its request's deadline; a request whose record cannot be read is finished with the failure
     * (INVALID_INPUT for a missing or unusable blob, UNAVAILABLE when the store does not answer). Returns
     * the requests ready to score.
     */
    private List<Work> resolveReferences(List<Work> valid, Instant now) {
        List<Work> byRef = new ArrayList<>();
        for (Work w : valid) {
            if (Objects.requireNonNull(w.request).record() == null) {
                byRef.add(w);
            }
        }
        if (byRef.isEmpty()) {
            return valid;
        }
        Payloads store = payloads;
        List<CompletableFuture<byte[]>> reads = new ArrayList<>(byRef.size());
        long[] limits = new long[byRef.size()];
        for (int i = 0; i < byRef.size(); i++) {
            QueueRequest r = Objects.requireNonNull(byRef.get(i).request);
            PayloadRef ref = Objects.requireNonNull(r.recordRef());
            if (store == null) {
                reads.add(CompletableFuture.failedFuture(ScoringException.invalidInput("request is by reference ("
                        + PayloadRef.RECORD_REF + " '" + ref + "') but this worker has no payload store; set "
                        + "NEARLINE_PAYLOAD_CONTAINER")));
                continue;
            }
            Duration within = store.timeout();
            Instant deadline = r.deadline();
            if (deadline != null && Duration.between(now, deadline).compareTo(within) < 0) {
                within = Duration.between(now, deadline);
            }
            limits[i] = ticker.read() + within.toNanos();
            try {
                reads.add(store.read(ref, within));
            } catch (RuntimeException e) {
                reads.add(CompletableFuture.failedFuture(e));
            }
        }
        List<Work> ready = new ArrayList<>(valid.size());
        for (Work w : valid) {
            if (!byRef.contains(w)) {
                ready.add(w);
            }
        }
        for (int i = 0; i < byRef.size(); i++) {
            Work w = byRef.get(i);
            QueueRequest r = Objects.requireNonNull(w.request);
            PayloadRef ref = Objects.requireNonNull(r.recordRef());
            try {
                // The store cuts its own call off at the limit; the margin only guards against a store that does not.
                long wait = Math.max(0, limits[i] - ticker.read()) + MIN_CALL_TIMEOUT.toNanos();
                byte[] content = reads.get(i).get(wait, TimeUnit.NANOSECONDS);
                w.request = r.withRecord(QueueRequest.readRecord(ref, content));
                ready.add(w);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                finish(w, null, new ScoringException(Kind.UNAVAILABLE, "interrupted while reading " + PayloadRef.RECORD_REF
                        + " '" + ref + "'", e), 0);
            } catch (TimeoutException e) {
                metrics.timedOut(Call.PAYLOAD_READ.tag);
                reads.get(i).cancel(true);
                finish(w, null, new ScoringException(Kind.UNAVAILABLE, "the payload store did not answer the read of '" + ref
                        + "' in time", e), 0);
            } catch (ExecutionException | RuntimeException e) {
                ScoringException failure = asScoringException(e);
                if (failure.getCause() instanceof TimeoutException) {
                    metrics.timedOut(Call.PAYLOAD_READ.tag); // the store's own bound cut the read off
                    Instant after = clock.instant();
                    if (r.deadlinePassed(after)) {
                        // the request's deadline was the bound: a stale request, not a store outage
                        finish(w, null, r.deadlineExceeded(after), 0);
                        continue;
                    }
                }
                if (failure.kind() == Kind.UNAVAILABLE) {
                    withMdc(w, () -> log.warn("worker '{}': messageId={} {}", options.name(), w.message.messageId(),
                            failure.getMessage()));
                }
                finish(w, null, failure, 0);
            }
        }
        return ready;
    }

    private void scoreBatch(List<Work> valid) {
        List<JsonNode> records = new ArrayList<>(valid.size());
        for (Work w : valid) {
            records.add(Objects.requireNonNull(Objects.requireNonNull(w.request).record()));
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
            QueueRequest request = Objects.requireNonNull(w.request);
            Instant deadline = request.deadline();
            JsonNode record = Objects.requireNonNull(request.record());
            f = deadline == null ? scorer.scoreAsync(record)
                    : scorer.scoreAsync(record, Duration.between(clock.instant(), deadline));
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
            return; // taken over by a shutdown that could not wait for it
        }
        InboundMessage m = w.message;
        Kind kind = error == null ? null : error.kind();
        QueueRequest request = w.request;
        boolean deadlinePassed = request != null && request.deadlinePassed(clock.instant());
        Decision decision = Settlement.decide(kind, deadlinePassed, m.deliveryCount(), options.maxDeliveryCount());
        String kindLabel = kind == null ? "OK" : kind.name();
        metrics.scored(kindLabel, 1);
        if (decision.backOff()) {
            pausedUntilNanos.accumulateAndGet(ticker.read() + options.backoff().toNanos(), Math::max);
        }
        String description = error == null ? "" : Wire.errorDescription(error.getMessage());
        String replyTo = m.replyTo();
        boolean sendReply = decision.reply() && replyTo != null && !replyTo.isEmpty() && !m.messageId().isEmpty();
        if (!sendReply) {
            settle(w, decision.action(), decision.reason(), description, kindLabel);
            return;
        }
        Reply reply;
        ObjectNode body;
        try {
            body = QueueReply.body(error == null ? Objects.requireNonNull(value, "value") : null, error, timing(w, scoreNanos));
            reply = toReply(w, replyTo, QueueReply.bytes(body), error);
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
        Payloads store = payloads;
        if (store != null && error == null && reply.body().length > store.thresholdBytes()) {
            replyByReference(w, decision, description, kindLabel, store, body, scoreNanos);
            return;
        }
        sendReply(w, reply, decision, description, kindLabel);
    }

    /**
     * Stores a result too large for the broker as the request's reply blob, then sends a reply that points
     * to it. A store that fails or does not answer in time abandons the request (it is scored again) and
     * pauses receiving like an UNAVAILABLE outcome.
     */
    private void replyByReference(Work w, Decision decision, String description, String kindLabel, Payloads store,
                                  ObjectNode body, long scoreNanos) {
        InboundMessage m = w.message;
        String replyTo = Objects.requireNonNull(m.replyTo());
        PayloadRef ref = new PayloadRef(store.container(), PayloadRef.replyName(m.messageId()));
        byte[] output = QueueReply.outputBytes(body);
        bounded(Call.PAYLOAD_WRITE, store.timeout().toNanos(), () -> store.write(ref, output, store.timeout()), (ok, e) -> {
            if (e == null) {
                Reply reply;
                try {
                    reply = toReply(w, replyTo, QueueReply.bytes(QueueReply.okByReference(ref, timing(w, scoreNanos))), null);
                } catch (RuntimeException buildFailure) {
                    settle(w, Action.ABANDON, null, "", kindLabel);
                    return;
                }
                sendReply(w, reply, decision, description, kindLabel);
                return;
            }
            metrics.reply(false);
            if (!isTimeout(e) && asScoringException(e).getCause() instanceof TimeoutException) {
                metrics.timedOut(Call.PAYLOAD_WRITE.tag); // the store's own bound cut the write off first
            }
            pausedUntilNanos.accumulateAndGet(ticker.read() + options.backoff().toNanos(), Math::max);
            withMdc(w, () -> log.warn("worker '{}': messageId={} storing the {}-byte result for a reply by reference failed, "
                    + "abandoning the request so that it is scored again: {}", options.name(), m.messageId(), output.length,
                    isTimeout(e) ? unwrap(e).getMessage() : asScoringException(e).getMessage()));
            settle(w, Action.ABANDON, null, "", kindLabel);
        });
    }

    /** Sends {@code reply}, then settles as {@code decision} says; a failed reply abandons the request. */
    private void sendReply(Work w, Reply reply, Decision decision, String description, String kindLabel) {
        InboundMessage m = w.message;
        String replyTo = reply.to();
        long evidenceBefore = evidenceSeq.get();
        bounded(Call.REPLY, callTimeoutNanos, () -> transport.reply(reply), (ok, replyError) -> {
            if (replyError == null) {
                metrics.reply(true);
                good();
                settle(w, decision.action(), decision.reason(), description, kindLabel);
            } else if (isTimeout(replyError)) {
                if (w.settling.compareAndSet(false, true)) {
                    end(w); // not settled: left to the broker
                }
                bad("a reply timed out", evidenceBefore);
                withMdc(w, () -> log.warn("worker '{}': messageId={} reply to {} did not complete within {} ms; "
                        + "releasing the request, which the broker redelivers when its lock expires", options.name(),
                        m.messageId(), replyTo, TimeUnit.NANOSECONDS.toMillis(callTimeoutNanos)));
            } else {
                metrics.reply(false);
                withMdc(w, () -> log.warn("worker '{}': messageId={} reply to {} failed, abandoning the request so "
                        + "that it is scored again: {}", options.name(), m.messageId(), replyTo, replyError.toString()));
                settle(w, Action.ABANDON, null, "", kindLabel);
            }
        });
    }

    private QueueReply.Timing timing(Work w, long scoreNanos) {
        Instant enqueued = w.message.enqueuedTime();
        long queuedMillis = enqueued == null ? -1 : Math.max(0, Duration.between(enqueued, clock.instant()).toMillis());
        return new QueueReply.Timing(queuedMillis, TimeUnit.NANOSECONDS.toMicros(scoreNanos),
                TimeUnit.NANOSECONDS.toMicros(ticker.read() - w.receivedNanos));
    }

    /** The reply to {@code w}: the wire format's properties and the request's trace, continued by this hop. */
    private static Reply toReply(Work w, String replyTo, byte[] body, @Nullable ScoringException error) {
        InboundMessage m = w.message;
        return new Reply(replyTo, m.replyToSessionId(), m.messageId(), QueueReply.messageIdFor(m.messageId()), body,
                w.trace.addTo(QueueReply.properties(error == null ? null : error.kind())));
    }

    private void settle(Work w, Action action, @Nullable String reason, String description, String kindLabel) {
        if (!w.settling.compareAndSet(false, true)) {
            return;
        }
        InboundMessage m = w.message;
        long evidenceBefore = evidenceSeq.get();
        bounded(Call.of(action), callTimeoutNanos, () -> switch (action) {
            case COMPLETE -> transport.complete(m);
            case ABANDON -> transport.abandon(m);
            case DEAD_LETTER -> transport.deadLetter(m, Objects.requireNonNull(reason), description);
        }, (ok, error) -> {
            boolean deleting = false;
            try {
                if (error == null) {
                    good();
                    metrics.settled(action, kindLabel, ticker.read() - w.receivedNanos);
                    deleting = action == Action.COMPLETE && deleteRequestBlob(w);
                    withMdc(w, () -> {
                        if (action == Action.DEAD_LETTER) {
                            log.warn("worker '{}': messageId={} dead-lettered reason={} description={}", options.name(),
                                    m.messageId(), reason, description);
                        } else if (log.isDebugEnabled()) {
                            log.debug("worker '{}': messageId={} settled action={} kind={}", options.name(), m.messageId(),
                                    action, kindLabel);
                        }
                    });
                } else if (isTimeout(error)) {
                    bad("a settlement timed out", evidenceBefore);
                    withMdc(w, () -> log.warn("worker '{}': messageId={} {} did not complete within {} ms; releasing it, "
                                    + "the broker redelivers it when its lock expires", options.name(), m.messageId(), action,
                            TimeUnit.NANOSECONDS.toMillis(callTimeoutNanos)));
                } else {
                    metrics.settleFailed(action);
                    withMdc(w, () -> log.warn("worker '{}': messageId={} {} failed; the broker redelivers the message "
                            + "when its lock expires: {}", options.name(), m.messageId(), action, error.toString()));
                }
            } finally {
                if (!deleting) {
                    end(w);
                }
            }
        });
    }

    /**
     * After a request by reference was completed: deletes its blob, bounded by the store's timeout (and the
     * shutdown's deadline), then frees the slot. A request that was dead-lettered or abandoned keeps its
     * blob: the dead-lettered message still points to it, a redelivery needs it. A delete that fails is
     * logged; the blob is then left to the container's lifecycle rule.
     *
     * @return whether a delete was started (it frees the slot when done)
     */
    private boolean deleteRequestBlob(Work w) {
        QueueRequest r = w.request;
        PayloadRef ref = r == null ? null : r.recordRef();
        Payloads store = payloads;
        if (ref == null || store == null || !ref.container().equals(store.container())) {
            return false;
        }
        bounded(Call.PAYLOAD_DELETE, store.timeout().toNanos(), () -> store.delete(ref, store.timeout()), (ok, e) -> {
            try {
                if (e != null) {
                    withMdc(w, () -> log.warn("worker '{}': messageId={} completed, but deleting its request blob "
                            + "'{}' failed; the container's lifecycle rule removes it: {}", options.name(),
                            w.message.messageId(), ref, isTimeout(e) ? unwrap(e).getMessage() : asScoringException(e).getMessage()));
                }
            } finally {
                end(w);
            }
        });
        return true;
    }

    /** The message leaves the worker: its slot is free. Idempotent. */
    private void end(Work w) {
        if (inFlight.remove(w)) {
            endedCount.incrementAndGet();
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

    // ------------------------------------------------------------------ lock renewal, probes, evidence

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
            bounded(Call.RENEW_LOCK, callTimeoutNanos, () -> transport.renewLock(w.message), (newUntil, error) -> {
                w.renewing.set(false);
                if (error == null) {
                    w.lockedUntil = newUntil;
                    metrics.renewal(true);
                    return;
                }
                Throwable cause = unwrap(error);
                if (cause instanceof UnsupportedOperationException) {
                    if (renewalUnsupported.compareAndSet(false, true)) {
                        log.info("worker '{}': lock renewal off: {}", options.name(), cause.getMessage());
                    }
                    return;
                }
                metrics.renewal(false);
                withMdc(w, () -> log.warn("worker '{}': messageId={} lock renewal failed: {}", options.name(),
                        w.message.messageId(), cause.toString()));
            });
        }
    }

    /** One bounded probe of the broker, unless one is pending; its result is evidence for readiness. */
    private void probe() {
        if (stopping || !probing.compareAndSet(false, true)) {
            return;
        }
        long evidenceBefore = evidenceSeq.get();
        bounded(Call.PROBE, probeTimeoutNanos, transport::probe, (ok, error) -> {
            probing.set(false);
            if (error == null) {
                good();
            } else {
                bad(isTimeout(error) ? "a probe did not answer within " + TimeUnit.NANOSECONDS.toMillis(probeTimeoutNanos)
                        + " ms" : "a probe failed: " + unwrap(error), evidenceBefore);
            }
        });
    }

    /** Whether the latest evidence about the broker is good (or there is none yet). */
    private boolean brokerReachable() {
        long bad = lastBad.get();
        return bad == 0 || lastGood.get() > bad;
    }

    /** The broker answered. */
    private void good() {
        lastGood.accumulateAndGet(evidenceSeq.incrementAndGet(), Math::max);
        if (brokerReachable() && unreachableReported.compareAndSet(true, false)) {
            log.info("worker '{}': the broker answers again", options.name());
        }
    }

    /**
     * The broker did not answer something asked when the evidence sequence stood at {@code before};
     * ignored if good evidence arrived since (the failure is older news).
     */
    private void bad(String what, long before) {
        if (lastGood.get() > before) {
            return;
        }
        lastBad.accumulateAndGet(evidenceSeq.incrementAndGet(), Math::max);
        if (unreachableReported.compareAndSet(false, true)) {
            log.warn("worker '{}': the broker does not answer ({}); not ready until it does", options.name(), what);
        }
    }

    /**
     * Calls the transport and hands the outcome to {@code then}, bounding the wait: if the call has not
     * completed within {@code timeoutNanos}, or by the shutdown's current deadline, {@code then} gets a
     * {@link TimeoutException} (the timeout counted first). {@code then} runs exactly once, on whichever
     * thread decided; it is attached and the timeout armed before the call, so both also work when the call
     * blocks its caller. The transport's own future is left alone: it may still complete later.
     */
    private <T> void bounded(Call call, long timeoutNanos, Supplier<CompletableFuture<T>> op,
                             BiConsumer<? super T, ? super Throwable> then) {
        CompletableFuture<T> out = new CompletableFuture<>();
        out.whenComplete((value, error) -> {
            try {
                then.accept(value, error);
            } catch (RuntimeException e) {
                log.error("worker '{}': handling the outcome of a {} call failed", options.name(), call.tag, e);
            }
        });
        long deadline = callDeadlineNanos;
        long timeout = deadline == Long.MAX_VALUE ? timeoutNanos : Math.min(timeoutNanos, deadline - ticker.read());
        if (timeout <= 0) {
            metrics.timedOut(call.tag);
            out.completeExceptionally(new TimeoutException(call.tag + " not attempted: the shutdown deadline has passed"));
            return;
        }
        AtomicBoolean decided = new AtomicBoolean();
        long millis = TimeUnit.NANOSECONDS.toMillis(timeout);
        Runnable expire = () -> {
            if (decided.compareAndSet(false, true)) {
                metrics.timedOut(call.tag); // counted before anyone waiting on the call hears of it
                out.completeExceptionally(new TimeoutException(call.tag + " did not complete within " + millis + " ms"));
            }
        };
        ScheduledFuture<?> timeoutTask;
        try {
            timeoutTask = timer.schedule(expire, timeout, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            expire.run(); // the worker has stopped: nobody waits any more
            return;
        }
        CompletableFuture<T> f;
        try {
            f = op.get();
            if (f == null) {
                f = CompletableFuture.failedFuture(new IllegalStateException("transport returned null for " + call.tag));
            }
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        f.whenComplete((value, error) -> {
            if (!decided.compareAndSet(false, true)) {
                return; // too late: the worker has already moved on
            }
            timeoutTask.cancel(false);
            if (error == null) {
                out.complete(value);
            } else {
                out.completeExceptionally(error);
            }
        });
    }

    private static boolean isTimeout(Throwable t) {
        return unwrap(t) instanceof TimeoutException;
    }

    private static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }

    // ------------------------------------------------------------------ shutdown

    /**
     * Stops receiving and spends the grace period in three parts: up to the drain timeout waiting for
     * in-flight messages to be replied to and settled (calls in flight are cut off at its end); then up to a
     * third of the rest abandoning what is left (what is still unsettled after that is released to the
     * broker's redelivery); then up to another third closing the transport and the scorer (on their own
     * threads: a close that hangs is left behind). The last third is the margin for the process to exit
     * before SIGKILL. Idempotent: later calls wait for the first one and return its
     * summary.
     *
     * @throws IllegalStateException if a concurrent first call has not finished within the grace period
     */
    public Summary shutdown() {
        if (!shutdownStarted.compareAndSet(false, true)) {
            try {
                return summary.get(options.gracePeriod().toNanos(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for worker '" + options.name()
                        + "' to shut down", e);
            } catch (ExecutionException | TimeoutException e) {
                throw new IllegalStateException("worker '" + options.name() + "' did not finish shutting down within "
                        + options.gracePeriod().toMillis() + " ms", e);
            }
        }
        try {
            Summary s = drainAndClose();
            summary.complete(s);
            return s;
        } catch (RuntimeException | Error e) {
            summary.completeExceptionally(e);
            throw e;
        }
    }

    private Summary drainAndClose() {
        long t0 = ticker.read();
        long drainEnd = t0 + options.drainTimeout().toNanos();
        long reserve = options.gracePeriod().minus(options.drainTimeout()).toNanos();
        long leftoversEnd = drainEnd + reserve / 3;
        long closeEnd = drainEnd + 2 * (reserve / 3);
        callDeadlineNanos = drainEnd;
        int endedBefore = endedCount.get();
        stopping = true;
        stopSignal.countDown();
        log.info("worker '{}': shutting down; {} messages in flight, drain timeout {} ms, grace period {} ms",
                options.name(), inFlight.size(), options.drainTimeout().toMillis(), options.gracePeriod().toMillis());
        try {
            for (Thread t : loops) {
                long left = drainEnd - ticker.read();
                if (left > 0) {
                    t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                }
            }
            awaitNoneInFlight(drainEnd);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        int drained = endedCount.get() - endedBefore;
        callDeadlineNanos = leftoversEnd;
        int abandoned = abandonLeftovers(leftoversEnd);
        int released = 0;
        for (Work w : inFlight) {
            w.settling.set(true);
            if (inFlight.contains(w)) {
                end(w);
                released++;
            }
        }
        if (released > 0) {
            log.warn("worker '{}': released {} messages whose settlement did not finish in time; the broker redelivers "
                    + "them when their locks expire", options.name(), released);
        }
        closeWithin(closeEnd);
        housekeeping.shutdownNow();
        timer.shutdownNow();
        Summary s = new Summary(drained, abandoned, Duration.ofNanos(ticker.read() - t0));
        log.info("worker '{}' stopped: drained={} abandoned={} took={}ms", options.name(), s.drained(), s.abandoned(),
                s.took().toMillis());
        return s;
    }

    private void awaitNoneInFlight(long until) throws InterruptedException {
        drainLock.lock();
        try {
            while (!inFlight.isEmpty()) {
                long left = until - ticker.read();
                if (left <= 0) {
                    return;
                }
                drainedCondition.await(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)), TimeUnit.NANOSECONDS);
            }
        } finally {
            drainLock.unlock();
        }
    }

    /** Abandons every in-flight message whose settlement has not begun, waiting until {@code until}. */
    private int abandonLeftovers(long until) {
        int abandoned = 0;
        for (Work w : inFlight) {
            if (!w.settling.compareAndSet(false, true)) {
                continue; // a settlement is on its way, cut off at the same deadline
            }
            abandoned++;
            bounded(Call.ABANDON, callTimeoutNanos, () -> transport.abandon(w.message), (ok, e) -> {
                try {
                    if (e == null) {
                        metrics.settled(Action.ABANDON, "SHUTDOWN", ticker.read() - w.receivedNanos);
                    } else if (!isTimeout(e)) {
                        metrics.settleFailed(Action.ABANDON);
                    }
                } finally {
                    end(w);
                }
            });
        }
        try {
            awaitNoneInFlight(until);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return abandoned;
    }

    /**
     * Closes the transport and the scorer, each on its own thread, and waits for both until {@code until};
     * a close that hangs is left behind (the broker redelivers whatever the transport still held).
     */
    private void closeWithin(long until) {
        Payloads store = payloads;
        List<Thread> closing = store == null ? List.of(closer("transport", transport::close), closer("scorer", scorer::close))
                : List.of(closer("transport", transport::close), closer("scorer", scorer::close),
                        closer("payload store", store::close));
        try {
            for (Thread t : closing) {
                long left = until - ticker.read();
                if (left > 0) {
                    t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Thread t : closing) {
            if (t.isAlive()) {
                log.warn("worker '{}': {} did not finish in time; stopping without waiting for it", options.name(),
                        t.getName());
            }
        }
    }

    private Thread closer(String what, Runnable close) {
        Thread t = daemon(() -> {
            try {
                close.run();
            } catch (RuntimeException e) {
                log.warn("worker '{}': closing the {} failed", options.name(), what, e);
            }
        }, "nearline-" + options.name() + "-close-" + what);
        t.start();
        return t;
    }

    // ------------------------------------------------------------------ helpers

    private static ScoringException asScoringException(Throwable t) {
        Throwable c = unwrap(t);
        if (c instanceof ScoringException) {
            return (ScoringException) c;
        }
        return new ScoringException(Kind.INTERNAL, "unexpected failure: " + c, c);
    }

    /** A periodic task that logs what it throws instead of ending its schedule. */
    private Runnable guarded(String what, Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                log.warn("worker '{}': {} failed: {}", options.name(), what, e.toString());
            }
        };
    }

    /**
     * Runs a log call with the request's correlation data in the MDC: {@code messageId} (the reply's
     * CorrelationId), {@code deliveryCount}, and {@code traceId} and {@code spanId} (W3C, as on the reply's
     * {@code traceparent}). Settlement callbacks run on SDK threads, so they are set around each log call.
     */
    private static void withMdc(Work w, Runnable r) {
        InboundMessage m = w.message;
        MDC.put("messageId", m.messageId());
        MDC.put("deliveryCount", Long.toString(m.deliveryCount()));
        MDC.put("traceId", w.trace.traceId());
        MDC.put("spanId", w.trace.spanId());
        try {
            r.run();
        } finally {
            MDC.remove("messageId");
            MDC.remove("deliveryCount");
            MDC.remove("traceId");
            MDC.remove("spanId");
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** One message from receive to settled or released. */
    private static final class Work {
        final InboundMessage message;
        final long receivedNanos;
        /** Claimed by whoever settles or releases the message; at most one call settles it. */
        final AtomicBoolean settling = new AtomicBoolean();
        final AtomicBoolean renewing = new AtomicBoolean();
        volatile @Nullable Instant lockedUntil;
        volatile @Nullable QueueRequest request;
        /** The request's W3C trace, continued by this worker; the reply carries it. */
        final TraceContext trace;

        Work(InboundMessage message, long receivedNanos) {
            this.message = message;
            this.receivedNanos = receivedNanos;
            this.trace = TraceContext.continueFrom(message.properties());
            this.lockedUntil = message.lockedUntil();
        }
    }
}
