package dev.nearline.core.internal;

import dev.nearline.api.DataType;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.core.DriftEvent;
import dev.nearline.core.DriftMonitor;
import dev.nearline.core.DriftSnapshot;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hot path of a drift monitor: samples the scored records, reads each sampled one's feature row and
 * score into the {@link DriftWindow}, and every {@code checkEvery} records asks the {@link DriftAlarms}
 * whether to speak up; and the consistent copy of that state a snapshot is computed from.
 *
 * <p>Thread-safe without making scoring threads wait: the state is guarded by a lock taken with a CAS, and
 * a record that finds it taken is counted as dropped rather than waited for. Allocates nothing per record
 * in steady state; {@link #observe} never throws.
 */
public final class DriftRecorder {
    /** The monitor's logger: the name users configure. */
    private static final Logger log = LoggerFactory.getLogger(DriftMonitor.class);
    private static final VarHandle LOCK;

    static {
        try {
            LOCK = MethodHandles.lookup().findVarHandle(DriftRecorder.class, "lock", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Why a record could not be read; described only for the first one, which is logged. */
    private enum ReadProblem { MISSING_TENSOR, UNREADABLE, WIDTH, BROKEN }

    private final DriftConfig config;
    private final @Nullable String featuresTensor;
    private final @Nullable String scoreOutput;
    private final int scoreIndex;
    private final int checkEvery;
    private final DriftAlarms alarms;
    private final LongAdder dropped = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final AtomicBoolean warnedRead = new AtomicBoolean();

    /** Read without the lock; set once, when the row width is known, if sampling is automatic. */
    private volatile int sampleEvery;

    /** 0 when free, 1 while a thread updates the state below; taken with a CAS, never waited for on the hot path. */
    @SuppressWarnings("unused")
    private volatile int lock;

    // Guarded by lock.
    private @Nullable DriftWindow window;
    private @Nullable String brokenReason;
    private List<String> columnNames = List.of();
    private float[] row = new float[0];
    private long observed;
    private int untilCheck;

    /**
     * A recorder with an empty window; with the feature names configured, the window is allocated now.
     *
     * @throws IllegalArgumentException when the feature names are configured and the window does not fit
     *     in an array or in memory
     */
    public DriftRecorder(DriftConfig config) {
        this.config = config;
        this.featuresTensor = config.featuresTensor();
        this.scoreOutput = config.scoreOutput();
        this.scoreIndex = config.scoreIndex();
        this.checkEvery = config.checkEvery();
        this.alarms = new DriftAlarms(config.psiThreshold(), config.listener());
        this.sampleEvery = config.autoSample() ? 1 : config.sampleEvery();
        this.untilCheck = checkEvery;
        List<String> featureNames = config.featureNames();
        if (featureNames != null) {
            // Known width: allocate now, so that a window too large for memory fails the build, not scoring.
            layout(featureNames.size());
        }
    }

    /** One record in this many is observed now. */
    public int sampleEvery() {
        return sampleEvery;
    }

    /** Observes one scored record, unless sampling skips it or another thread holds the lock. Never throws. */
    public void observe(Tensors inputs, Tensors outputs) {
        try {
            if (sampleEvery > 1 && ThreadLocalRandom.current().nextInt(sampleEvery) != 0) {
                return;
            }
            // Test before the CAS so that a busy monitor costs readers a shared cache line, not a write.
            if ((int) LOCK.getOpaque(this) != 0 || !LOCK.compareAndSet(this, 0, 1)) {
                dropped.increment();
                return;
            }
            DriftEvent[] events;
            try {
                events = record(inputs, outputs);
            } finally {
                LOCK.setRelease(this, 0);
            }
            if (events != null) {
                alarms.publish(events);
            }
        } catch (Throwable t) {
            // Monitoring must never fail a record, whatever went wrong (even running out of memory for the window).
            errors.increment();
            if (warnedRead.compareAndSet(false, true)) {
                log.warn("drift monitor failed on a record (logged once, counted in errors): {}", t.toString(), t);
            }
        }
    }

    /**
     * Copies the window under the lock (records observed meanwhile are dropped), then computes the
     * statistics from the copy.
     */
    public DriftSnapshot snapshot() {
        DriftWindow.Copy copy;
        List<String> names;
        long seen;
        acquire();
        try {
            copy = window == null ? null : window.copy();
            names = columnNames;
            seen = observed;
        } finally {
            LOCK.setRelease(this, 0);
        }
        List<DriftSnapshot.Stats> features = DriftStatistics.features(copy, names);
        DriftSnapshot.Stats score = DriftStatistics.score(copy, names, config.references().get(DriftOptions.SCORE));
        return new DriftSnapshot(sampleEvery, seen, dropped.sum(), errors.sum(), features, score);
    }

    // ------------------------------------------------------------------ lock held

    private DriftEvent @Nullable [] record(Tensors inputs, Tensors outputs) {
        if (brokenReason != null) {
            return reject(ReadProblem.BROKEN, inputs, outputs);
        }
        Tensor x = featuresTensor == null ? (inputs.isEmpty() ? null : inputs.get(0)) : inputs.get(featuresTensor);
        Tensor y = scoreOutput == null ? (outputs.isEmpty() ? null : outputs.get(0)) : outputs.get(scoreOutput);
        if (x == null || y == null) {
            return reject(ReadProblem.MISSING_TENSOR, inputs, outputs);
        }
        int n = x.rank() == 0 ? 1 : (int) Math.min(Integer.MAX_VALUE, x.dim(x.rank() - 1));
        int index = scoreIndex < 0 ? y.size() - 1 : scoreIndex;
        if (x.type() == DataType.BYTES || y.type() == DataType.BYTES || x.size() < n || index < 0
                || index >= y.size()) {
            return reject(ReadProblem.UNREADABLE, inputs, outputs);
        }
        DriftWindow w = window;
        if (w == null) {
            w = layout(n);
            if (w == null) {
                return reject(ReadProblem.BROKEN, inputs, outputs);
            }
        } else if (w.columns() != n + 1) {
            return reject(ReadProblem.WIDTH, inputs, outputs);
        }
        float[] r = row;
        for (int c = 0; c < n; c++) {
            r[c] = x.floatAt(c);
        }
        r[n] = y.floatAt(index);
        boolean captured = w.add(r);
        observed++;
        if (captured || --untilCheck == 0) {
            untilCheck = checkEvery;
            return alarms.check(w);
        }
        return null;
    }

    /** Counts a record that cannot be read and logs the first; the message is built only then, so this allocates nothing. */
    private DriftEvent @Nullable [] reject(ReadProblem problem, Tensors inputs, Tensors outputs) {
        errors.increment();
        if (warnedRead.compareAndSet(false, true)) {
            String what = switch (problem) {
                case MISSING_TENSOR -> "it needs the features in " + (featuresTensor == null ? "the first input"
                        : "input '" + featuresTensor + "'") + " and the score in " + (scoreOutput == null
                        ? "the first output" : "output '" + scoreOutput + "'");
                case UNREADABLE -> "it needs a numeric features tensor and element "
                        + (scoreIndex < 0 ? "-1 (the last)" : Integer.toString(scoreIndex)) + " of a numeric score";
                case WIDTH -> "the feature rows must keep their width of " + (columnNames.size() - 1) + " values";
                case BROKEN -> String.valueOf(brokenReason);
            };
            // Tensors print names, types and shapes only, never values.
            log.warn("drift monitor skips records it cannot read (logged once, counted in errors): {}; got inputs {}"
                    + " and outputs {}", what, inputs, outputs);
        }
        return null;
    }

    /** Sets up the window for rows of {@code n} features; null (with brokenReason set) when it cannot. */
    private @Nullable DriftWindow layout(int n) {
        List<String> names = config.columnNames(n);
        double[][][] refs = config.windowReferences(names);
        for (String key : config.references().keySet()) {
            if (!names.contains(key)) {
                log.warn("drift monitor: the reference for '{}' names no feature (rows have {} features); ignored",
                        key, n);
            }
        }
        try {
            window = new DriftWindow(config.window(), config.captureRecords(), config.bins(), refs);
        } catch (IllegalArgumentException | OutOfMemoryError e) {
            if (config.featureNames() != null) {
                throw e instanceof IllegalArgumentException ? (IllegalArgumentException) e
                        : new IllegalArgumentException("drift monitor: not enough memory for a window of "
                                + config.window() + " records of " + (n + 1) + " values", e);
            }
            brokenReason = "monitoring is off: " + e.getMessage();
            return null;
        }
        columnNames = names;
        if (config.autoSample()) {
            sampleEvery = config.sampleEveryFor(n + 1);
        }
        row = new float[n + 1];
        alarms.layout(names);
        return window;
    }

    /** Takes the lock for a snapshot, waiting (briefly: holders never block) for observers to finish. */
    private void acquire() {
        int spins = 0;
        while (!LOCK.compareAndSet(this, 0, 1)) {
            if (++spins < 100) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }
}
