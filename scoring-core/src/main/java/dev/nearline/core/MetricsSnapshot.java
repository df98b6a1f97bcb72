package dev.nearline.core;

import dev.nearline.api.ScoringException;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * What a {@link MetricsRecorder} has seen, read at one moment. Latencies are in nanoseconds (recorded at
 * microsecond resolution); time is split as Triton splits it: queue, compute input (preprocessing),
 * compute infer (model steps), compute output (postprocessing). Immutable.
 *
 * @param scored        records scored successfully
 * @param failures      failed records by kind
 * @param queue         time waiting for an async thread or a batch
 * @param computeInput  preprocessing and input checks
 * @param computeInfer  model steps
 * @param computeOutput postprocessing
 * @param total         the sum of the four, per record
 * @param steps         duration of each model call, per step name
 * @param batchSizes    records per model call, per step name (values are counts, not nanoseconds)
 * @param inFlight      records being scored right now
 * @param queueDepth    records waiting in the async queue or the micro-batcher right now
 */
public record MetricsSnapshot(long scored, Map<ScoringException.Kind, Long> failures, Distribution queue,
                              Distribution computeInput, Distribution computeInfer, Distribution computeOutput,
                              Distribution total, Map<String, Distribution> steps, Map<String, Distribution> batchSizes,
                              int inFlight, int queueDepth) {

    /** Copies the maps. */
    public MetricsSnapshot {
        failures = Map.copyOf(failures);
        steps = Map.copyOf(steps);
        batchSizes = Map.copyOf(batchSizes);
    }

    /** Failed records of every kind. */
    public long failed() {
        return failures.values().stream().mapToLong(Long::longValue).sum();
    }

    /**
     * Summary of a distribution.
     *
     * @param count values recorded
     * @param mean  mean value
     * @param p50   median
     * @param p90   90th percentile
     * @param p99   99th percentile
     * @param p999  99.9th percentile
     * @param max   largest value
     */
    public record Distribution(long count, double mean, long p50, long p90, long p99, long p999, long max) {

        static Distribution of(Histogram h, long scale) {
            if (h.getTotalCount() == 0) {
                return new Distribution(0, 0, 0, 0, 0, 0, 0);
            }
            return new Distribution(h.getTotalCount(), h.getMean() * scale, h.getValueAtPercentile(50) * scale,
                    h.getValueAtPercentile(90) * scale, h.getValueAtPercentile(99) * scale,
                    h.getValueAtPercentile(99.9) * scale, h.getMaxValue() * scale);
        }
    }
}
