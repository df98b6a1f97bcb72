package dev.nearline.api;

/**
 * Receives timing and outcome events from a scorer, for metrics and tracing. Every method has a no-op
 * default; {@link #NONE} ignores everything and costs nothing (the engine does not even read the clock
 * for it).
 *
 * <p>Time is split as NVIDIA Triton splits it, so dashboards carry over: <em>queue</em> (waiting for a
 * thread or a batch), <em>compute input</em> (preprocessing and input checks), <em>compute infer</em>
 * (the model steps), <em>compute output</em> (postprocessing).
 *
 * <p>Order of events for one record: zero or more {@link #stepCompleted} (for each model call the record
 * took part in; a batched call is reported once, with its batch size), then exactly one of
 * {@link #recordScored} or {@link #recordFailed}.
 *
 * <p>Rules for implementations: be fast (these run on the scoring threads), be thread-safe, never throw
 * (the engine catches and logs what escapes, but a throwing listener still costs time) and never call
 * back into the scorer.
 */
public interface ScoringListener {

    /** A listener that ignores every event. */
    ScoringListener NONE = new ScoringListener() {
    };

    /**
     * A record was scored.
     *
     * @param pipeline        pipeline name
     * @param queueNanos      time waiting for an async thread or a batch
     * @param inputNanos      preprocessing and input validation
     * @param inferNanos      model steps and transforms
     * @param outputNanos     postprocessing
     */
    default void recordScored(String pipeline, long queueNanos, long inputNanos, long inferNanos, long outputNanos) {
    }

    /**
     * A record failed.
     *
     * @param pipeline   pipeline name
     * @param kind       why
     * @param totalNanos time from submission to failure
     */
    default void recordFailed(String pipeline, ScoringException.Kind kind, long totalNanos) {
    }

    /**
     * A model step ran once, for {@code batchSize} records (1 outside batching).
     *
     * @param pipeline  pipeline name
     * @param step      step name
     * @param batchSize records in the call
     * @param nanos     duration of the model call
     */
    default void stepCompleted(String pipeline, String step, int batchSize, long nanos) {
    }
}
