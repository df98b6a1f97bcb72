package dev.nearline.api;

import java.util.function.IntSupplier;

/**
 * Receives timing and outcome events from a scorer, for metrics and tracing. Every method has a no-op
 * default; {@link #NONE} ignores everything and costs nothing (the engine does not even read the clock
 * for it).
 *
 * <p>Time is split as NVIDIA Triton splits it (the names and units of exported metrics are the exporter's own;
 * the project README maps them to Triton's): <em>queue</em> (waiting for a
 * thread or a batch), <em>compute input</em> (preprocessing and input checks), <em>compute infer</em>
 * (the model steps), <em>compute output</em> (postprocessing).
 *
 * <p>Order of events for one record: zero or more {@link #stepCompleted} (for each model call the record
 * took part in; a batched call is reported once, with its batch size), then exactly one of
 * {@link #recordScored} or {@link #recordFailed}.
 *
 * <p>Timing costs a few clock reads per record, which is a measurable share of a model call of a few
 * microseconds; a listener that is content with latency distributions estimated from a sample returns
 * more than 1 from {@link #timingInterval()}, and the engine then times about one record in that many
 * (it may time more). A record that was not timed is still reported, with every duration {@code -1}, so
 * counts stay exact.
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
     * About one record in how many the engine needs to time; the others are reported with durations of
     * {@code -1}. Default 1: every record is timed.
     */
    default int timingInterval() {
        return 1;
    }

    /**
     * Called once, when a scorer is built with this listener, with the scorer's live gauges: records in flight
     * (being scored or queued) and records waiting for a thread or a batch. Read them whenever a metric is
     * exported; they are cheap and thread-safe. Default: ignored.
     */
    default void gauges(IntSupplier inFlight, IntSupplier queueDepth) {
    }

    /**
     * A record was scored. The durations are all {@code -1} when the record was not timed.
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
     * @param totalNanos time from submission to failure, or {@code -1} when the record was not timed
     */
    default void recordFailed(String pipeline, ScoringException.Kind kind, long totalNanos) {
    }

    /**
     * A model step ran once, for {@code batchSize} records (1 outside batching).
     *
     * @param pipeline  pipeline name
     * @param step      step name
     * @param batchSize records in the call
     * @param nanos     duration of the model call, or {@code -1} when the record was not timed
     */
    default void stepCompleted(String pipeline, String step, int batchSize, long nanos) {
    }
}
