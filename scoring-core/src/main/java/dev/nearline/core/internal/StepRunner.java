package dev.nearline.core.internal;

import dev.nearline.api.Postprocessor;
import dev.nearline.api.Preprocessor;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensors;
import dev.nearline.api.Ticker;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The stages of one record, run the same way by every path (synchronous, asynchronous, after a batched
 * first step, and record by record within {@code scoreAll}): the preprocessor, each step, the
 * postprocessor. The record's deadline is checked before every stage; whatever a stage throws becomes a
 * {@link ScoringException} of the right kind (see {@link Failures}). Thread-safe and stateless per record.
 *
 * @param <I> record type
 * @param <O> result type
 */
final class StepRunner<I, O> {
    static final long NO_DEADLINE = Deadlines.NONE;

    private final String pipeline;
    private final Preprocessor<? super I> preprocessor;
    private final @Nullable BoundedPreprocessor<? super I> bounded;
    private final Postprocessor<? extends O> postprocessor;
    private final Ticker ticker;
    /** Receives each model step's event; null when nothing listens. */
    private final @Nullable GuardedListener listener;

    @SuppressWarnings("unchecked")
    StepRunner(String pipeline, Preprocessor<? super I> preprocessor, Postprocessor<? extends O> postprocessor,
               Ticker ticker, @Nullable GuardedListener listener) {
        this.pipeline = pipeline;
        this.preprocessor = Objects.requireNonNull(preprocessor, "preprocessor");
        this.bounded = preprocessor instanceof BoundedPreprocessor ? (BoundedPreprocessor<? super I>) preprocessor : null;
        this.postprocessor = Objects.requireNonNull(postprocessor, "postprocessor");
        this.ticker = ticker;
        this.listener = listener;
    }

    /**
     * Preprocesses one record; a built-in stage whose work grows with the record checks the deadline as it
     * goes.
     *
     * @throws ScoringException INVALID_INPUT for a null or rejected record (see {@link Failures#preprocessing})
     */
    Tensors preprocess(@Nullable I record, long deadline) {
        if (record == null) {
            throw ScoringException.invalidInput("pipeline '" + pipeline + "': record is null");
        }
        Tensors t;
        try {
            t = bounded != null ? bounded.preprocess(record, ticker, deadline) : preprocessor.preprocess(record);
        } catch (Throwable e) { // NOPMD: one record's failure, an Error included, stays with that record
            throw Failures.preprocessing(pipeline, e);
        }
        if (t == null) {
            throw new ScoringException(Kind.INTERNAL, "pipeline '" + pipeline + "': preprocessor returned null");
        }
        return t;
    }

    /**
     * Runs {@code steps[from..]} on one record and returns the last step's outputs.
     *
     * @param available the tensors produced before step {@code from}: the preprocessed tensors, with the first
     *                  step's outputs when {@code from} is 1
     * @param last      the outputs of step {@code from - 1}, or the preprocessed tensors when {@code from} is 0
     * @param time      whether to time the model steps for the listener (untimed steps are reported with -1)
     * @param policy    the batching policy to feed with the first step's measured inline time, or null
     */
    Tensors run(Step[] steps, int from, Tensors available, Tensors last, long deadline, boolean time,
                @Nullable BatchPolicy policy) {
        boolean measure = time || policy != null;
        for (int i = from; i < steps.length; i++) {
            Step step = steps[i];
            long s0 = measure ? ticker.read() : 0;
            Tensors out = step.run(available, timeLeftBefore(deadline, step));
            if (measure) {
                long d = ticker.read() - s0;
                if (policy != null && i == 0) {
                    policy.recordInline(d);
                }
                if (listener != null && step.isModel()) {
                    listener.stepCompleted(pipeline, step.name(), 1, time ? d : -1);
                }
            } else if (listener != null && step.isModel()) {
                listener.stepCompleted(pipeline, step.name(), 1, -1);
            }
            available = steps.length == 1 ? out : available.withAll(out);
            last = out;
        }
        return last;
    }

    /**
     * Runs one step on one record (within {@code scoreAll}, where model steps are batched by
     * {@link BatchCall} instead).
     */
    Tensors runOne(Step step, Tensors available, long deadline) {
        return step.run(available, timeLeftBefore(deadline, step));
    }

    /**
     * Postprocesses the last step's outputs, once the deadline is checked.
     *
     * @throws ScoringException what the postprocessor reports; anything else as INTERNAL
     */
    O postprocess(Tensors outputs, long deadline) {
        if (passed(deadline)) {
            throw late("the postprocessor");
        }
        O result;
        try {
            result = postprocessor.postprocess(outputs);
        } catch (ScoringException e) {
            throw e;
        } catch (Throwable e) { // NOPMD: see preprocess
            throw Failures.internal("pipeline '" + pipeline + "': postprocessor failed on outputs " + outputs, e);
        }
        if (result == null) {
            throw new ScoringException(Kind.INTERNAL, "pipeline '" + pipeline + "': postprocessor returned null");
        }
        return result;
    }

    /**
     * Whether a record with {@code deadline} may be written into a row ({@link RowOne}): a preprocessor that checks
     * the deadline as it goes is given the chance unless there is no deadline.
     */
    boolean rowsAllowed(long deadline) {
        return bounded == null || deadline == NO_DEADLINE;
    }

    /** The pipeline's preprocessor. */
    Preprocessor<? super I> preprocessor() {
        return preprocessor;
    }

    /** The pipeline's postprocessor. */
    Postprocessor<? extends O> postprocessor() {
        return postprocessor;
    }

    /** Fails with DEADLINE_EXCEEDED when {@code deadline} has passed before the postprocessor runs. */
    void checkBeforePostprocessor(long deadline) {
        if (passed(deadline)) {
            throw late("the postprocessor");
        }
    }

    /** Fails with DEADLINE_EXCEEDED when {@code deadline} has passed before {@code step}. */
    void checkDeadline(long deadline, Step step) {
        if (passed(deadline)) {
            throw late("step '" + step.name() + "'");
        }
    }

    private boolean passed(long deadline) {
        return deadline != NO_DEADLINE && ticker.read() - deadline >= 0;
    }

    private ScoringException late(String before) {
        return new ScoringException(Kind.DEADLINE_EXCEEDED, "pipeline '" + pipeline + "': deadline passed before "
                + before);
    }

    /**
     * The time left before {@code deadline} (-1 for none), read once, for the model of {@code step}.
     *
     * @throws ScoringException DEADLINE_EXCEEDED when none is left
     */
    private long timeLeftBefore(long deadline, Step step) {
        if (deadline == NO_DEADLINE) {
            return -1;
        }
        long left = deadline - ticker.read();
        if (left <= 0) {
            throw late("step '" + step.name() + "'");
        }
        return left;
    }
}
