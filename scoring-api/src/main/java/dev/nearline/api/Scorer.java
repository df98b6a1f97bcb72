package dev.nearline.api;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Scores records through a pipeline: preprocessor, one or more model steps, postprocessor.
 *
 * <p>A scorer is thread-safe and meant to be shared: build one per pipeline and process, like an HTTP
 * client, and call it from every thread. Every failure is a {@link ScoringException} whose kind says
 * whether to retry; a bad record fails alone and never harms other records. {@link #close()} stops
 * intake, lets work in flight finish, fails what is still queued with {@code UNAVAILABLE}, and
 * closes the models; every future returned before then completes.
 *
 * <p>Scorers are built in {@code scoring-core}: in code with {@code Pipeline.builder(...)} or from a
 * JSON pipeline file with {@code Pipeline.load(path)}.
 *
 * @param <I> record type
 * @param <O> result type
 */
public interface Scorer<I, O> extends AutoCloseable {

    /**
     * Scores one record on the calling thread, within the pipeline's default deadline if it has one.
     *
     * @throws ScoringException if the record cannot be scored
     */
    O score(I record);

    /**
     * Scores one record, giving up after {@code timeout}: a record whose deadline has passed is not
     * sent to a model and fails with {@code DEADLINE_EXCEEDED}.
     *
     * @throws ScoringException if the record cannot be scored in time
     */
    O score(I record, Duration timeout);

    /**
     * Scores one record on the scorer's bounded executor. The future always completes: with the result,
     * or exceptionally with a {@link ScoringException} ({@code OVERLOADED} when the executor's queue is
     * full, {@code UNAVAILABLE} after {@link #close()}).
     */
    CompletableFuture<O> scoreAsync(I record);

    /**
     * As {@link #scoreAsync(Object)}, with a deadline {@code timeout} from now: a record still waiting when
     * it passes is not sent to a model and its future fails with {@code DEADLINE_EXCEEDED}.
     */
    CompletableFuture<O> scoreAsync(I record, Duration timeout);

    /**
     * Scores many records on the calling thread, batching model calls where the model allows it. The
     * outcome at position {@code i} belongs to {@code records.get(i)}; one record's failure does not
     * fail the others.
     */
    List<Outcome<O>> scoreAll(List<? extends I> records);

    /**
     * As {@link #scoreAll(List)}, with one deadline {@code timeout} from now for the whole batch: records
     * not yet sent to a model when it passes fail with {@code DEADLINE_EXCEEDED}, and a remote model is
     * given the time left. (The default, for other implementations, ignores the timeout; Nearline's scorers
     * honour it.)
     */
    default List<Outcome<O>> scoreAll(List<? extends I> records, Duration timeout) {
        return scoreAll(records);
    }

    /**
     * Stops intake, lets records in flight finish within the scorer's grace period, fails the rest,
     * and closes the models. Idempotent.
     */
    @Override
    void close();
}
