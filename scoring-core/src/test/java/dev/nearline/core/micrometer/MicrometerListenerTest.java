package dev.nearline.core.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.api.ScoringException;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The engine's Micrometer meters as Prometheus scrapes them: names, tags, and histograms only when asked for. */
class MicrometerListenerTest {

    private static String scoreOneAndScrape(boolean histograms) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        MicrometerListener listener = new MicrometerListener(registry, "fraud", histograms);
        listener.stepCompleted("fraud", "model", 4, TimeUnit.MILLISECONDS.toNanos(3));
        listener.recordScored("fraud", 1_000, 2_000, TimeUnit.MILLISECONDS.toNanos(3), 4_000);
        return registry.scrape();
    }

    @Test
    void timers_byDefault_exportCountAndSumWithoutBuckets() {
        String scrape = scoreOneAndScrape(false);

        assertThat(scrape).contains("nearline_queue_duration_seconds_count{pipeline=\"fraud\"} 1",
                "nearline_compute_input_duration_seconds_count{pipeline=\"fraud\"} 1",
                "nearline_compute_infer_duration_seconds_sum{pipeline=\"fraud\"} 0.003",
                "nearline_compute_output_duration_seconds_count{pipeline=\"fraud\"} 1",
                "nearline_step_duration_seconds_count{pipeline=\"fraud\",step=\"model\"} 1",
                "nearline_batch_size_sum{pipeline=\"fraud\",step=\"model\"} 4");
        assertThat(scrape).doesNotContain("_bucket");
    }

    @Test
    void timers_withPercentileHistograms_exportBucketsThatCountTheRecord() {
        String scrape = scoreOneAndScrape(true);

        assertThat(scrape).contains("nearline_queue_duration_seconds_bucket{pipeline=\"fraud\",le=",
                "nearline_compute_input_duration_seconds_bucket{pipeline=\"fraud\",le=",
                "nearline_compute_output_duration_seconds_bucket{pipeline=\"fraud\",le=",
                "nearline_step_duration_seconds_bucket{pipeline=\"fraud\",step=\"model\",le=",
                "nearline_compute_infer_duration_seconds_bucket{pipeline=\"fraud\",le=\"+Inf\"} 1");
        assertThat(scrape).as("the 3 ms record is above the 1 ms bucket")
                .contains("nearline_compute_infer_duration_seconds_bucket{pipeline=\"fraud\",le=\"0.001\"} 0");
    }

    @Test
    void recordFailed_countsByReason_andUntimedRecordsStillCount() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        MicrometerListener listener = new MicrometerListener(registry, "fraud", true);
        listener.recordFailed("fraud", ScoringException.Kind.UNAVAILABLE, -1);
        listener.recordScored("fraud", -1, -1, -1, -1);

        assertThat(registry.get("nearline.request.failure").tags("pipeline", "fraud", "reason", "UNAVAILABLE").counter()
                .count()).isEqualTo(1);
        assertThat(registry.get("nearline.request.success").tag("pipeline", "fraud").counter().count()).isEqualTo(1);
        assertThat(registry.get("nearline.compute.infer.duration").timer().count()).as("not timed").isZero();
    }
}
