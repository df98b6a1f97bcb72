package dev.nearline.keda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Configuration from environment variables: defaults, both credential forms, and errors that name the variable. */
class WorkerConfigTest {

    private static Map<String, String> minimal() {
        Map<String, String> env = new HashMap<>();
        env.put("NEARLINE_PIPELINE", "/models/pipeline.json");
        env.put("SERVICEBUS_CONNECTION_STRING", "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=v");
        env.put("NEARLINE_REQUEST_QUEUE", "scoring-requests");
        return env;
    }

    @Test
    void fromEnvironment_minimal_usesTheDocumentedDefaults() {
        WorkerConfig c = WorkerConfig.fromEnvironment(minimal());
        assertThat(c.pipeline()).isEqualTo(Path.of("/models/pipeline.json"));
        assertThat(c.queue()).isEqualTo("scoring-requests");
        assertThat(c.concurrency()).isEqualTo(2);
        assertThat(c.batchMax()).isEqualTo(32);
        assertThat(c.batchWait()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.maxInFlight()).isEqualTo(128);
        assertThat(c.batching()).isTrue();
        assertThat(c.prefetch()).isZero();
        assertThat(c.maxDeliveryCount()).isEqualTo(10);
        assertThat(c.lockRenewalMargin()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.drainTimeout()).isEqualTo(WorkerConfig.DEFAULT_DRAIN_TIMEOUT);
        assertThat(c.gracePeriod()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.lockDuration()).isEqualTo(Duration.ofSeconds(60));
        assertThat(c.httpPort()).isEqualTo(WorkerConfig.DEFAULT_HTTP_PORT);
        assertThat(c.replyTimeToLive()).isNull();
    }

    @Test
    void fromEnvironment_namespaceAndSubscription_selectsWorkloadIdentityAndTopic() {
        Map<String, String> env = minimal();
        env.remove("SERVICEBUS_CONNECTION_STRING");
        env.remove("NEARLINE_REQUEST_QUEUE");
        env.put("SERVICEBUS_NAMESPACE", "my-ns.servicebus.windows.net");
        env.put("NEARLINE_TOPIC", "requests");
        env.put("NEARLINE_SUBSCRIPTION", "scorers");
        env.put("NEARLINE_BATCHING", "false");
        WorkerConfig c = WorkerConfig.fromEnvironment(env);
        assertThat(c.namespace()).isEqualTo("my-ns.servicebus.windows.net");
        assertThat(c.connectionString()).isNull();
        assertThat(c.topic()).isEqualTo("requests");
        assertThat(c.subscription()).isEqualTo("scorers");
        assertThat(c.batching()).isFalse();
    }

    @Test
    void fromEnvironment_nothingSet_namesEveryMissingVariable() {
        assertThatThrownBy(() -> WorkerConfig.fromEnvironment(Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("NEARLINE_PIPELINE is required")
                .hasMessageContaining("SERVICEBUS_CONNECTION_STRING or SERVICEBUS_NAMESPACE is required")
                .hasMessageContaining("NEARLINE_REQUEST_QUEUE is required");
    }

    @Test
    void fromEnvironment_badValues_namesEachVariableAndValue() {
        Map<String, String> env = minimal();
        env.put("NEARLINE_BATCH_MAX", "lots");
        env.put("NEARLINE_CONCURRENCY", "0");
        env.put("NEARLINE_BATCHING", "yes");
        env.put("NEARLINE_TRANSPORT", "rabbitmq");
        assertThatThrownBy(() -> WorkerConfig.fromEnvironment(env))
                .hasMessageContaining("NEARLINE_BATCH_MAX must be an integer, got 'lots'")
                .hasMessageContaining("NEARLINE_CONCURRENCY must be between 1 and 1024, got 0")
                .hasMessageContaining("NEARLINE_BATCHING must be true or false, got 'yes'")
                .hasMessageContaining("NEARLINE_TRANSPORT: unknown transport 'rabbitmq'");
    }

    @Test
    void fromEnvironment_gracePeriodAndLockDuration_readAndRangeChecked() {
        Map<String, String> env = minimal();
        env.put("NEARLINE_GRACE_PERIOD_MS", "45000");
        env.put("NEARLINE_DRAIN_TIMEOUT_MS", "30000");
        env.put("NEARLINE_LOCK_DURATION_MS", "120000");
        WorkerConfig c = WorkerConfig.fromEnvironment(env);
        assertThat(c.gracePeriod()).isEqualTo(Duration.ofSeconds(45));
        assertThat(c.drainTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.lockDuration()).isEqualTo(Duration.ofMinutes(2));

        env.put("NEARLINE_LOCK_DURATION_MS", "1000");
        env.put("NEARLINE_GRACE_PERIOD_MS", "soon");
        assertThatThrownBy(() -> WorkerConfig.fromEnvironment(env))
                .hasMessageContaining("NEARLINE_LOCK_DURATION_MS must be between 5000 and 300000, got 1000")
                .hasMessageContaining("NEARLINE_GRACE_PERIOD_MS must be an integer, got 'soon'");
    }

    @Test
    void fromEnvironment_drainTimeoutLeavingNoRoomInTheGracePeriod_namesBothVariables() {
        Map<String, String> env = minimal();
        env.put("NEARLINE_DRAIN_TIMEOUT_MS", "29500"); // the default grace period is 30000
        assertThatThrownBy(() -> WorkerConfig.fromEnvironment(env))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("NEARLINE_GRACE_PERIOD_MS (30000) must be at least NEARLINE_DRAIN_TIMEOUT_MS (29500) + 1000");
    }

    @Test
    void fromEnvironment_everyVariableItReads_isListed() {
        assertThat(WorkerConfig.VARIABLES).contains("NEARLINE_GRACE_PERIOD_MS", "NEARLINE_LOCK_DURATION_MS")
                .doesNotHaveDuplicates();
    }

    @Test
    void fromEnvironment_conflictingCredentialsOrEntities_sayWhichToDrop() {
        Map<String, String> env = minimal();
        env.put("SERVICEBUS_NAMESPACE", "my-ns.servicebus.windows.net");
        env.put("NEARLINE_TOPIC", "t");
        assertThatThrownBy(() -> WorkerConfig.fromEnvironment(env))
                .hasMessageContaining("SERVICEBUS_CONNECTION_STRING and SERVICEBUS_NAMESPACE are both set")
                .hasMessageContaining("NEARLINE_REQUEST_QUEUE and NEARLINE_TOPIC/NEARLINE_SUBSCRIPTION are both set");
    }

    @Test
    void fromEnvironment_namespaceAsUrlOrTopicAlone_isRejected() {
        Map<String, String> env = minimal();
        env.remove("SERVICEBUS_CONNECTION_STRING");
        env.remove("NEARLINE_REQUEST_QUEUE");
        env.put("SERVICEBUS_NAMESPACE", "sb://my-ns.servicebus.windows.net");
        env.put("NEARLINE_TOPIC", "t");
        assertThatThrownBy(() -> WorkerConfig.fromEnvironment(env))
                .hasMessageContaining("SERVICEBUS_NAMESPACE must be a fully qualified host name")
                .hasMessageContaining("NEARLINE_SUBSCRIPTION is required with NEARLINE_TOPIC");
    }
}
