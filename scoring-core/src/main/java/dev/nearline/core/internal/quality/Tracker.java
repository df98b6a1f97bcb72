package dev.nearline.core.internal.quality;

import dev.nearline.api.Tensors;
import dev.nearline.api.Ticker;
import dev.nearline.core.FeedbackOutcome;
import dev.nearline.core.QualityEvent;
import dev.nearline.core.QualityListener;
import dev.nearline.core.QualityMonitor.Task;
import dev.nearline.core.QualitySnapshot;
import dev.nearline.core.internal.RecordObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The working part of a {@code QualityMonitor}: keeps each scored record's prediction under its id
 * ({@link #observe}, on the scoring thread, O(1) and lock-free), joins labels with predictions
 * ({@link #feedback}, on any thread), feeds the windows of the prediction's model version and the challenger's
 * comparison, raises alerts, and reads it all out ({@link #snapshot}). Thread-safe.
 */
public final class Tracker {
    private static final Logger log = LoggerFactory.getLogger(Tracker.class);
    /** Model versions kept at most (more only when models are swapped faster than the time-to-live). */
    static final int MAX_VERSIONS = 8;
    /** Versions that labels can still reach, by number modulo this. */
    private static final int RECENT_VERSIONS = 16;
    /** Ids longer than this are not kept (a kept id must not cost unbounded memory). */
    public static final int MAX_ID_CHARS = 1024;
    private static final int LABEL_READY = Pending.LABEL_READY;

    private final QualityConfig config;
    private final Task task;
    private final PredictionReader reader;
    private final PredictionTable store;
    private final long ttlNanos;
    private final Map<String, Integer> classIndex = new HashMap<>();
    private final Object versionsLock = new Object();
    /** Newest first; guarded by versionsLock. */
    private final List<VersionQuality> versions = new ArrayList<>();
    private volatile VersionQuality current;
    /** The last {@link #RECENT_VERSIONS} versions, by number modulo that; guarded by versionsLock for writes. */
    private final VersionQuality[] recent = new VersionQuality[RECENT_VERSIONS];
    private final AtomicBoolean attached = new AtomicBoolean();
    private volatile Ticker ticker = Ticker.system();
    private volatile Function<Object, @Nullable String> idOf = r -> null;
    private volatile @Nullable ChallengerRunner challenger;
    private volatile String pipeline = "pipeline";
    private final LongAdder untracked = new LongAdder();
    private final LongAdder[] outcomes = new LongAdder[FeedbackOutcome.values().length];
    private final LongAdder outOfOrder = new LongAdder();
    private final AtomicLong newestJoined = new AtomicLong(-1);
    private final AtomicBoolean warnedRecord = new AtomicBoolean();
    private final AtomicBoolean warnedListener = new AtomicBoolean();
    private final @Nullable QualityListener listener;

    /** A tracker with {@code config}; it sees records once {@link #attach}ed to a scorer. */
    public Tracker(QualityConfig config) {
        this.config = config;
        this.task = config.task();
        this.reader = new PredictionReader(task, config.output(), config.index());
        this.store = new PredictionTable(config.capacity(), config.timeToLive().toNanos());
        this.ttlNanos = config.timeToLive().toNanos();
        for (int i = 0; i < config.classes().size(); i++) {
            classIndex.put(config.classes().get(i), i);
        }
        for (int i = 0; i < outcomes.length; i++) {
            outcomes[i] = new LongAdder();
        }
        this.listener = config.listener();
        this.current = new VersionQuality(1, 0, config, false);
        versions.add(current);
        recent[1] = current;
    }

    /**
     * Attaches the tracker to the scorer named {@code pipeline}, whose records are identified by {@code idOf}
     * (null: the record is not tracked) and whose time is {@code ticker}; returns the observer the engine calls.
     *
     * @throws IllegalStateException if it is attached already
     */
    public RecordObserver attach(String pipeline, Ticker ticker, Function<Object, @Nullable String> idOf) {
        if (!attached.compareAndSet(false, true)) {
            throw new IllegalStateException("this quality monitor already watches a scorer; build one per scorer");
        }
        this.pipeline = Objects.requireNonNull(pipeline, "pipeline");
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.idOf = Objects.requireNonNull(idOf, "idOf");
        return this::observe;
    }

    /** Sends a sample of the records to {@code runner}; called once, after {@link #attach}, before scoring starts. */
    public void challenger(ChallengerRunner runner) {
        synchronized (versionsLock) {
            this.challenger = runner;
            // Version 1 has seen no record yet: give it the comparison.
            VersionQuality v = new VersionQuality(current.version, current.firstNumber, config, true);
            versions.set(0, v);
            recent[v.version % RECENT_VERSIONS] = v;
            current = v;
        }
    }

    /** The reader of predictions, shared with the challenger's runner. */
    public PredictionReader reader() {
        return reader;
    }

    // ------------------------------------------------------------------ scoring path

    /** Keeps the record's prediction under its id; never throws. */
    void observe(Object record, Tensors inputs, Tensors outputs, Object result) {
        try {
            String id = idOf.apply(record);
            if (id == null || id.length() > MAX_ID_CHARS) {
                untracked(record, id == null ? "the record has no id" : "its id is longer than " + MAX_ID_CHARS
                        + " characters", outputs);
                return;
            }
            float score = Float.NaN;
            float[] probabilities = null;
            if (task == Task.MULTICLASS) {
                probabilities = reader.vector(outputs);
                if (probabilities == null) {
                    untracked(record, "its prediction is unreadable: expected " + reader.expectation(), outputs);
                    return;
                }
            } else {
                score = reader.scalar(outputs);
                if (Float.isNaN(score)) {
                    untracked(record, "its prediction is unreadable: expected " + reader.expectation(), outputs);
                    return;
                }
            }
            long now = ticker.read();
            VersionQuality version = current;
            long number = store.next();
            Pending task = null;
            ChallengerRunner c = challenger;
            if (c != null && c.inSample(id)) {
                Pending p = new Pending(version, score, probabilities);
                if (c.offer(p, inputs)) {
                    task = p;
                }
            }
            store.put(number, store.hash(id), score, probabilities, version.version, task, now);
        } catch (Throwable e) { // NOPMD: monitoring never fails a record, whatever went wrong
            untracked.increment();
            if (warnedRecord.compareAndSet(false, true)) {
                log.warn("pipeline '{}': quality monitor failed on a record (logged once, counted as untracked): {}",
                        pipeline, e.toString(), e);
            }
        }
    }

    private void untracked(Object record, String why, Tensors outputs) {
        untracked.increment();
        if (warnedRecord.compareAndSet(false, true)) {
            // Tensors print names, types and shapes only; the record's class, never its values.
            log.warn("pipeline '{}': quality monitor skips records it cannot track (logged once, counted as untracked):"
                    + " {}; got a {} with outputs {}", pipeline, why, record.getClass().getSimpleName(), outputs);
        }
    }

    // ------------------------------------------------------------------ labels

    /** Joins {@code label} with the prediction kept under {@code id}. */
    public FeedbackOutcome feedback(String id, double label) {
        if (!validLabel(label)) {
            return count(FeedbackOutcome.INVALID);
        }
        long now = ticker.read();
        PredictionTable.Found p = new PredictionTable.Found();
        if (id.length() > MAX_ID_CHARS || !store.find(id, p)) {
            return count(FeedbackOutcome.UNKNOWN);
        }
        float[] probabilities = p.vector;
        if (probabilities != null && label >= probabilities.length) {
            return count(FeedbackOutcome.INVALID);
        }
        VersionQuality version = versionOf(p.version, p.number);
        // A version is forgotten only after more than RECENT_VERSIONS swaps within the time-to-live.
        if (version == null || store.expired(p, now)) {
            if (store.claim(p.number, PredictionTable.DROPPED | PredictionTable.EXPIRED) >= 0) {
                store.expired.increment();
                return count(FeedbackOutcome.EXPIRED);
            }
            return count(decided(p.number));
        }
        if (store.claim(p.number, PredictionTable.LABELLED) < 0) {
            return count(decided(p.number));
        }
        count(FeedbackOutcome.JOINED);
        long newest = newestJoined.getAndAccumulate(p.number, Math::max);
        if (p.number < newest) {
            outOfOrder.increment();
        }
        List<QualityEvent> events = version.join(championA(p.score, probabilities, label),
                championY(probabilities, label), now);
        Pending task = p.sampled;
        if (task != null) {
            task.label = label;
            if ((task.set(LABEL_READY) & Pending.CHALLENGER_DONE) != 0) {
                joinChallenger(task, now);
            }
        }
        if (events != null) {
            publish(events);
        }
        return FeedbackOutcome.JOINED;
    }

    /** Joins a label given as text: a class name, or a number ({@code true}/{@code false} for a binary label). */
    public FeedbackOutcome feedback(String id, String label) {
        Integer k = classIndex.get(label);
        if (k != null) {
            return feedback(id, (double) k);
        }
        String t = label.trim();
        if (task == Task.BINARY && (t.equalsIgnoreCase("true") || t.equalsIgnoreCase("false"))) {
            return feedback(id, t.equalsIgnoreCase("true") ? 1 : 0);
        }
        try {
            return feedback(id, Double.parseDouble(t));
        } catch (NumberFormatException e) {
            return count(FeedbackOutcome.INVALID);
        }
    }

    private boolean validLabel(double label) {
        switch (task) {
            case BINARY:
                return label == 0 || label == 1;
            case MULTICLASS:
                return label >= 0 && label == Math.rint(label) && label < Integer.MAX_VALUE
                        && (classIndex.isEmpty() || label < classIndex.size());
            default:
                return Double.isFinite(label);
        }
    }

    /** The outcome for a label whose prediction's fate was decided already. */
    private FeedbackOutcome decided(long number) {
        long s = store.state(number);
        if ((s & PredictionTable.LABELLED) != 0) {
            return FeedbackOutcome.DUPLICATE;
        }
        return (s & PredictionTable.EXPIRED) != 0 ? FeedbackOutcome.EXPIRED : FeedbackOutcome.UNKNOWN;
    }

    private FeedbackOutcome count(FeedbackOutcome outcome) {
        outcomes[outcome.ordinal()].increment();
        return outcome;
    }

    /** The first value of the champion's pair: the score, or the probability of the true class. */
    private static double championA(float score, float @Nullable [] probabilities, double label) {
        return probabilities == null ? score : probabilities[(int) label];
    }

    /** The second value: the label, or whether the most probable class was the true one. */
    private static double championY(float @Nullable [] probabilities, double label) {
        return probabilities == null ? label : argmax(probabilities) == (int) label ? 1 : 0;
    }

    // ------------------------------------------------------------------ challenger

    /** Called by the challenger's thread once it has set its prediction on {@code p}. */
    void challengerScored(Pending p) {
        boolean agree;
        double difference;
        float[] champion = p.probabilities;
        if (champion != null) {
            float[] ch = Objects.requireNonNull(p.challengerProbabilities);
            int best = argmax(champion);
            agree = best == argmax(ch);
            difference = (double) ch[best] - champion[best];
        } else {
            double a = p.score;
            double b = p.challengerScore;
            difference = b - a;
            if (task == Task.BINARY) {
                agree = (a >= config.threshold()) == (b >= config.threshold());
            } else {
                agree = Math.abs(difference) <= 0.01 * Math.max(Math.abs(a), Math.abs(b));
            }
        }
        p.version.compare(agree, difference);
        int before = p.set(Pending.CHALLENGER_DONE);
        if ((before & LABEL_READY) != 0) {
            joinChallenger(p, ticker.read());
        }
    }

    private void joinChallenger(Pending p, long now) {
        double label = p.label;
        double ca = championA(p.score, p.probabilities, label);
        double cy = championY(p.probabilities, label);
        double xa;
        double xy;
        float[] ch = p.challengerProbabilities;
        if (ch != null) {
            int k = (int) label;
            xa = ch[k];
            xy = argmax(ch) == k ? 1 : 0;
        } else {
            xa = p.challengerScore;
            xy = label;
        }
        p.version.joinChallenger(ca, cy, xa, xy, now);
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    // ------------------------------------------------------------------ versions, snapshot, close

    /** Starts a new model version: predictions from now on count for it. */
    public void newVersion() {
        synchronized (versionsLock) {
            long now = ticker.read();
            VersionQuality old = current;
            old.retiredNanos = now;
            VersionQuality v = new VersionQuality(old.version + 1, store.tracked() + 1, config, challenger != null);
            versions.add(0, v);
            recent[v.version % RECENT_VERSIONS] = v;
            current = v;
            prune(now);
        }
    }

    /**
     * The version whose number is {@code version8} modulo 256, if it is one of the last {@link #RECENT_VERSIONS} and
     * began before the prediction numbered {@code number} (so not a version 256 swaps later).
     */
    private @Nullable VersionQuality versionOf(int version8, long number) {
        VersionQuality v = recent[version8 % RECENT_VERSIONS];
        return v != null && (v.version & 0xFF) == version8 && v.firstNumber <= number ? v : null;
    }

    /** The current model version. */
    public int currentVersion() {
        return current.version;
    }

    /** Drops versions no label can reach any more, and the oldest beyond {@link #MAX_VERSIONS}. */
    private void prune(long now) {
        versions.removeIf(v -> v != current && now - v.retiredNanos > ttlNanos);
        while (versions.size() > MAX_VERSIONS) {
            versions.remove(versions.size() - 1);
        }
    }

    /** What the tracker knows now. */
    public QualitySnapshot snapshot() {
        long now = ticker.read();
        List<VersionQuality> vs;
        VersionQuality cur;
        synchronized (versionsLock) {
            prune(now);
            vs = new ArrayList<>(versions);
            cur = current;
        }
        List<QualitySnapshot.Version> out = new ArrayList<>(vs.size());
        for (VersionQuality v : vs) {
            out.add(v.snapshot(now, v == cur));
        }
        long joined = outcomes[FeedbackOutcome.JOINED.ordinal()].sum();
        long tracked = store.tracked();
        long replaced = store.replaced.sum();
        long evicted = store.evicted.sum();
        long expired = store.expired.sum();
        QualitySnapshot.Predictions predictions = new QualitySnapshot.Predictions(tracked, untracked.sum(),
                Math.max(0, tracked - joined - replaced - evicted - expired), replaced, evicted, expired);
        QualitySnapshot.Labels labels = new QualitySnapshot.Labels(joined,
                outcomes[FeedbackOutcome.UNKNOWN.ordinal()].sum(), outcomes[FeedbackOutcome.EXPIRED.ordinal()].sum(),
                outcomes[FeedbackOutcome.DUPLICATE.ordinal()].sum(), outcomes[FeedbackOutcome.INVALID.ordinal()].sum(),
                outOfOrder.sum());
        ChallengerRunner c = challenger;
        QualitySnapshot.ChallengerCounts counts = c == null ? null : new QualitySnapshot.ChallengerCounts(
                c.sampled.sum(), c.scored.sum(), c.dropped.sum(), c.failed.sum());
        return new QualitySnapshot(task, predictions, labels, counts, out);
    }

    /** Predictions held, waiting or labelled (for tests of the bound). */
    public int held() {
        return store.held();
    }

    /** The count-window pairs of {@code version}, oldest first, or null when it is gone (for tests). */
    public double @Nullable [][] pairs(int version) {
        synchronized (versionsLock) {
            for (VersionQuality v : versions) {
                if (v.version == version) {
                    return v.recordPairs();
                }
            }
        }
        return null;
    }

    /** Stops the challenger (see {@link ChallengerRunner#close}); labels are still taken. */
    public void close(Duration grace) {
        ChallengerRunner c = challenger;
        if (c != null) {
            c.close(grace);
        }
    }

    private void publish(List<QualityEvent> events) {
        for (QualityEvent e : events) {
            if (listener == null) {
                log.warn("pipeline '{}': model version {}: {} is {} over the last {} labelled records, {} the alert "
                        + "threshold {}", pipeline, e.version(), e.metric().jsonName(),
                        String.format(Locale.ROOT, "%.4f", e.value()), e.windowCount(),
                        e.metric().higherIsBetter() ? "below" : "above", e.threshold());
                continue;
            }
            try {
                listener.onQualityAlert(e);
            } catch (Throwable t) { // NOPMD: a listener's failure never reaches the thread that gave the label
                if (warnedListener.compareAndSet(false, true)) {
                    log.warn("pipeline '{}': quality listener {} threw (logged once): {}", pipeline, listener,
                            t.toString(), t);
                }
            }
        }
    }

    @Override
    public String toString() {
        return "Tracker[" + pipeline + ", " + task + "]";
    }
}
