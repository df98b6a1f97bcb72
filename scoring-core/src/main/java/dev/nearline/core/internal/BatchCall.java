package dev.nearline.core.internal;

import dev.nearline.api.DataType;
import dev.nearline.api.Model;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.api.Ticker;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs several records' inputs through one model step in as few calls as are provably right: the one place
 * where records share a model call, used by {@code scoreAll} and by the micro-batcher.
 *
 * <ul>
 *   <li>A step whose model declares a batch axis makes one {@link Model#predictBatch} call; if it fails, or
 *       answers with the wrong number of results, the records run one by one so that a bad record fails
 *       alone.</li>
 *   <li>A step whose model declares {@code none}, or whose probe found a difference, runs one by one.</li>
 *   <li>A step whose model declares nothing is probed on its first batch with at least two different
 *       records that succeed alone: the records run one by one (those are their answers) and those that
 *       succeeded run again as one combined call ({@link Model#predictCombined}); only if every answer agrees
 *       (see {@link #firstDifference}) does the step batch from then on. A difference turns batching off for
 *       the step, with one INFO line. A model that would not combine those records leaves the step undecided
 *       (answers of per-record calls prove nothing), and the next batch is probed again.</li>
 * </ul>
 *
 * <p>Stateless; the verdict lives in the {@link Step}.
 */
final class BatchCall {
    private static final Logger log = LoggerFactory.getLogger(BatchCall.class);
    /** Batched probe calls that may fail (while single calls work) before batching is given up. */
    static final int MAX_INCONCLUSIVE_PROBES = 3;
    private static final double RELATIVE_TOLERANCE = 1e-5;
    private static final double ABSOLUTE_TOLERANCE = 1e-6;
    static final long NO_DEADLINE = Deadlines.NONE;

    /** Receives one event per model call. */
    @FunctionalInterface
    interface CallListener {
        /** A model call over {@code size} records took {@code nanos}. */
        void called(int size, long nanos);
    }

    private BatchCall() {
    }

    /**
     * Runs {@code inputs[0..n)}, bound and checked, through {@code step}. Fills {@code outputs[k]} or
     * {@code errors[k]} for every record, and {@code nanos[k]} with the duration of the model call record
     * {@code k} took part in. Never throws for a record's failure.
     *
     * @param deadlines each record's deadline ({@link #NO_DEADLINE} for none); a record whose deadline has
     *                  passed before its call fails with DEADLINE_EXCEEDED, and a batched call is given the
     *                  time left to the latest of them
     */
    static void run(String pipeline, Step step, Tensors[] inputs, long[] deadlines, int n, Ticker ticker,
                    @Nullable Tensors[] outputs, @Nullable ScoringException[] errors, long[] nanos, CallListener listener) {
        int state = step.batchState();
        if (n < 2 || state == Step.BATCH_OFF) {
            singles(step, inputs, deadlines, n, ticker, outputs, errors, nanos, listener);
            return;
        }
        if (state == Step.BATCH_SAFE) {
            List<Tensors> batched = batched(pipeline, step, inputs, deadlines, n, ticker, nanos, listener);
            if (batched == null) {
                singles(step, inputs, deadlines, n, ticker, outputs, errors, nanos, listener);
                return;
            }
            for (int k = 0; k < n; k++) {
                Tensors out = batched.get(k);
                if (out != null) {
                    outputs[k] = out;
                } else {
                    errors[k] = new ScoringException(Kind.INTERNAL, "step '" + step.name()
                            + "': predictBatch returned null for record " + k + " of the batch");
                }
            }
            return;
        }
        singles(step, inputs, deadlines, n, ticker, outputs, errors, nanos, listener);
        probe(pipeline, step, inputs, deadlines, n, ticker, outputs, errors, listener);
    }

    /**
     * Compares single answers with one combined call over the records that succeeded alone, and records the
     * verdict in the step. A model that would not combine these records (it would run them one by one) leaves
     * the step undecided: per-record answers prove nothing about a batch axis.
     */
    private static void probe(String pipeline, Step step, Tensors[] inputs, long[] deadlines, int n, Ticker ticker,
                              @Nullable Tensors[] outputs, @Nullable ScoringException[] errors, CallListener listener) {
        int[] good = new int[n];
        int m = 0;
        boolean distinct = false;
        for (int k = 0; k < n; k++) {
            if (errors[k] == null) {
                if (m > 0 && !distinct && !inputs[k].equals(inputs[good[0]])) {
                    distinct = true;
                }
                good[m++] = k;
            }
        }
        if (!distinct) {
            return; // equal records cannot show that records stay apart in a batch: wait for a better batch
        }
        Tensors[] probeInputs = new Tensors[m];
        long[] probeDeadlines = new long[m];
        for (int j = 0; j < m; j++) {
            probeInputs[j] = inputs[good[j]];
            probeDeadlines[j] = deadlines[good[j]];
        }
        List<Tensors> batched;
        try {
            batched = combined(pipeline, step, probeInputs, probeDeadlines, m, ticker, listener);
        } catch (NotCombined e) {
            return;
        }
        if (batched == null) {
            if (step.inconclusiveProbes.incrementAndGet() >= MAX_INCONCLUSIVE_PROBES && step.decideBatching(Step.BATCH_OFF)) {
                log.info("pipeline '{}' step '{}': the batched call failed {} times where single calls worked; "
                        + "records of this step are scored one by one (declare the model's batch axis to batch it)",
                        pipeline, step.name(), MAX_INCONCLUSIVE_PROBES);
            }
            return;
        }
        for (int j = 0; j < m; j++) {
            int k = good[j];
            Tensors b = batched.get(j);
            String diff = b == null ? "no batched answer" : firstDifference(Objects.requireNonNull(outputs[k]), b);
            if (diff != null) {
                if (step.decideBatching(Step.BATCH_OFF)) {
                    log.info("pipeline '{}' step '{}': a batched call answers differently from single calls ({}), so "
                            + "the model's first axis is not a batch axis; records of this step are scored one by one "
                            + "(declare the batch axis, or none, to skip this probe)", pipeline, step.name(), diff);
                }
                return;
            }
        }
        if (step.decideBatching(Step.BATCH_SAFE)) {
            log.debug("pipeline '{}' step '{}': a batch of {} records answered as single calls do; batching it",
                    pipeline, step.name(), m);
        }
    }

    /** The model would not combine the probe's records: no verdict. */
    private static final class NotCombined extends RuntimeException {
        private static final long serialVersionUID = 1L;
        static final NotCombined INSTANCE = new NotCombined();

        private NotCombined() {
            super(null, null, false, false);
        }
    }

    /** One batched call; null when it failed or answered with the wrong number of results. */
    private static @Nullable List<Tensors> batched(String pipeline, Step step, Tensors[] inputs, long[] deadlines, int n,
                                                   Ticker ticker, long[] nanos, CallListener listener) {
        return call(pipeline, step, inputs, deadlines, n, ticker, nanos, listener, false);
    }

    /**
     * One call over the records combined ({@link Model#predictCombined}); null when it failed or answered with the
     * wrong number of results.
     *
     * @throws NotCombined when the model would not combine them
     */
    private static @Nullable List<Tensors> combined(String pipeline, Step step, Tensors[] inputs, long[] deadlines,
                                                    int n, Ticker ticker, CallListener listener) {
        return call(pipeline, step, inputs, deadlines, n, ticker, new long[n], listener, true);
    }

    private static @Nullable List<Tensors> call(String pipeline, Step step, Tensors[] inputs, long[] deadlines, int n,
                                                Ticker ticker, long[] nanos, CallListener listener, boolean combined) {
        Model model = Objects.requireNonNull(step.model());
        long latest = Long.MIN_VALUE;
        long now = ticker.read();
        boolean bounded = true;
        for (int k = 0; k < n; k++) {
            if (deadlines[k] == NO_DEADLINE) {
                bounded = false;
                break;
            }
            long left = deadlines[k] - now;
            latest = Math.max(latest, left);
        }
        if (bounded && latest <= 0) {
            return null; // every record is late: the singles report it
        }
        List<Tensors> batch = Arrays.asList(inputs).subList(0, n);
        List<Tensors> out;
        long t0 = ticker.read();
        try {
            if (combined) {
                out = model.predictCombined(batch, bounded ? Duration.ofNanos(latest) : null);
                if (out == null) {
                    throw NotCombined.INSTANCE;
                }
            } else {
                out = bounded ? model.predictBatch(batch, Duration.ofNanos(latest)) : model.predictBatch(batch);
            }
        } catch (NotCombined e) {
            throw e;
        } catch (Throwable e) { // NOPMD: a failed batch is retried record by record, whatever it threw
            log.debug("pipeline '{}' step '{}': batched call of {} records failed ({}); scoring them one by one",
                    pipeline, step.name(), n, e.toString());
            return null;
        }
        long d = ticker.read() - t0;
        if (out == null || out.size() != n) {
            log.warn("pipeline '{}' step '{}': predictBatch returned {} results for {} records; scoring them one by one",
                    pipeline, step.name(), out == null ? "null" : out.size(), n);
            return null;
        }
        listener.called(n, d);
        Arrays.fill(nanos, 0, n, d);
        return out;
    }

    private static void singles(Step step, Tensors[] inputs, long[] deadlines, int n, Ticker ticker,
                                @Nullable Tensors[] outputs, @Nullable ScoringException[] errors, long[] nanos,
                                CallListener listener) {
        for (int k = 0; k < n; k++) {
            single(step, inputs, deadlines, k, ticker, outputs, errors, nanos, listener);
        }
    }

    private static void single(Step step, Tensors[] inputs, long[] deadlines, int k, Ticker ticker,
                               @Nullable Tensors[] outputs, @Nullable ScoringException[] errors, long[] nanos,
                               CallListener listener) {
        long t0 = ticker.read();
        long deadline = deadlines[k];
        if (deadline != NO_DEADLINE && t0 - deadline >= 0) {
            errors[k] = new ScoringException(Kind.DEADLINE_EXCEEDED, "deadline passed before step '" + step.name() + "'");
            return;
        }
        try {
            outputs[k] = step.predict(inputs[k], deadline == NO_DEADLINE ? -1 : deadline - t0);
        } catch (ScoringException e) {
            errors[k] = e;
        }
        long d = ticker.read() - t0;
        nanos[k] = d;
        listener.called(1, d);
    }

    /**
     * Where a batched answer differs from a single one, or null when they agree: the same output names,
     * types and shapes; integers, booleans and strings equal; floating point values within a relative 1e-5
     * (1e-6 absolute near zero), NaN equal to NaN. The description names the output, never a value.
     */
    static @Nullable String firstDifference(Tensors single, Tensors batched) {
        if (single.size() != batched.size()) {
            return "outputs " + single.names() + " against " + batched.names();
        }
        for (int i = 0; i < single.size(); i++) {
            String name = single.name(i);
            Tensor a = single.get(i);
            Tensor b = batched.get(name);
            if (b == null) {
                return "output '" + name + "' missing";
            }
            if (a.type() != b.type() || !Arrays.equals(a.shape(), b.shape())) {
                return "output '" + name + "' is " + a + " alone and " + b + " batched";
            }
            if (a.type().isFloatingPoint()) {
                for (int j = 0, size = a.size(); j < size; j++) {
                    if (!close(a.doubleAt(j), b.doubleAt(j))) {
                        return "output '" + name + "' element " + j;
                    }
                }
            } else if (a.type() != DataType.BYTES ? !a.equals(b) : !Arrays.equals(a.toStringArray(), b.toStringArray())) {
                return "output '" + name + "'";
            }
        }
        return null;
    }

    private static boolean close(double a, double b) {
        if (Double.isNaN(a) || Double.isNaN(b)) {
            return Double.isNaN(a) && Double.isNaN(b);
        }
        if (a == b) {
            return true; // infinities of the same sign
        }
        return Math.abs(a - b) <= ABSOLUTE_TOLERANCE + RELATIVE_TOLERANCE * Math.max(Math.abs(a), Math.abs(b));
    }
}
