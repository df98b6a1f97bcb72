package dev.nearline.keda;

import dev.nearline.core.internal.Redaction;
import dev.nearline.keda.internal.WorkerEngine;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The worker's configuration, read from environment variables by {@link #fromEnvironment(Map)}.
 * Immutable.
 *
 * <table>
 *   <caption>environment variables</caption>
 *   <tr><th>variable</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@code NEARLINE_PIPELINE}</td><td>required</td><td>path of the pipeline JSON file</td></tr>
 *   <tr><td>{@code SERVICEBUS_CONNECTION_STRING}</td><td rowspan="2">one of the two</td><td>connection string (SAS)</td></tr>
 *   <tr><td>{@code SERVICEBUS_NAMESPACE}</td><td>fully qualified namespace; authenticates with
 *       {@code DefaultAzureCredential} (workload identity)</td></tr>
 *   <tr><td>{@code NEARLINE_REQUEST_QUEUE}</td><td rowspan="2">one of the two</td><td>request queue</td></tr>
 *   <tr><td>{@code NEARLINE_TOPIC} + {@code NEARLINE_SUBSCRIPTION}</td><td>request topic subscription</td></tr>
 *   <tr><td>{@code NEARLINE_TRANSPORT}</td><td>{@code servicebus}</td><td>the broker; only {@code servicebus} so far</td></tr>
 *   <tr><td>{@code NEARLINE_CONCURRENCY}</td><td>2</td><td>receive loops</td></tr>
 *   <tr><td>{@code NEARLINE_BATCH_MAX}</td><td>32</td><td>messages per receive (and per {@code scoreAll})</td></tr>
 *   <tr><td>{@code NEARLINE_BATCH_WAIT_MS}</td><td>1000</td><td>how long a receive waits for its first message</td></tr>
 *   <tr><td>{@code NEARLINE_MAX_IN_FLIGHT}</td><td>2 × concurrency × batch max</td><td>messages locked and unsettled</td></tr>
 *   <tr><td>{@code NEARLINE_BATCHING}</td><td>true</td><td>{@code scoreAll} per receive batch, else {@code scoreAsync} per record</td></tr>
 *   <tr><td>{@code NEARLINE_PREFETCH}</td><td>0</td><td>Service Bus prefetch count</td></tr>
 *   <tr><td>{@code NEARLINE_MAX_DELIVERY_COUNT}</td><td>10</td><td>the entity's MaxDeliveryCount</td></tr>
 *   <tr><td>{@code NEARLINE_LOCK_RENEWAL_MARGIN_MS}</td><td>10000</td><td>renew a lock this long before it expires; 0 = off</td></tr>
 *   <tr><td>{@code NEARLINE_LOCK_DURATION_MS}</td><td>60000</td><td>the request entity's LockDuration (5000 to 300000);
 *       with the drain timeout it bounds every reply and settle call:
 *       {@code max(1 s, min(lock duration / 4, drain timeout / 2))}</td></tr>
 *   <tr><td>{@code NEARLINE_DRAIN_TIMEOUT_MS}</td><td>20000</td><td>how long SIGTERM waits for in-flight messages</td></tr>
 *   <tr><td>{@code NEARLINE_GRACE_PERIOD_MS}</td><td>30000</td><td>the pod's {@code terminationGracePeriodSeconds}
 *       × 1000; at least the drain timeout + 1000. The SIGTERM drain, the abandoning of leftovers and the
 *       closing of the transport all finish within it</td></tr>
 *   <tr><td>{@code NEARLINE_BACKOFF_MS}</td><td>1000</td><td>pause after OVERLOADED/UNAVAILABLE or a failed receive</td></tr>
 *   <tr><td>{@code NEARLINE_REPLY_TTL_MS}</td><td>entity default</td><td>time-to-live of replies</td></tr>
 *   <tr><td>{@code NEARLINE_HTTP_PORT}</td><td>8080</td><td>port of {@code /health/live}, {@code /health/ready}, {@code /metrics}</td></tr>
 *   <tr><td>{@code NEARLINE_METRICS_HISTOGRAMS}</td><td>false</td><td>publish the engine's timers
 *       ({@code nearline_compute_*}, {@code nearline_queue_duration}, {@code nearline_step_duration}) as percentile
 *       histograms ({@code _bucket} series, about 70 per timer), for {@code histogram_quantile} across pods</td></tr>
 * </table>
 *
 * @param pipeline          the pipeline file
 * @param connectionString  the connection string, or {@code null} when {@code namespace} is set
 * @param namespace         the fully qualified namespace, or {@code null} when {@code connectionString} is set
 * @param queue             the request queue, or {@code null} for a topic subscription
 * @param topic             the request topic, or {@code null} for a queue
 * @param subscription      the topic's subscription, or {@code null} for a queue
 * @param concurrency       receive loops
 * @param batchMax          messages per receive
 * @param batchWait         receive wait
 * @param maxInFlight       bound on locked, unsettled messages
 * @param batching          {@code scoreAll} per batch (true) or {@code scoreAsync} per record
 * @param prefetch          Service Bus prefetch count
 * @param maxDeliveryCount  the entity's MaxDeliveryCount
 * @param lockRenewalMargin renewal margin, zero when off
 * @param lockDuration      the request entity's lock duration
 * @param drainTimeout      SIGTERM drain budget
 * @param gracePeriod       time from SIGTERM to SIGKILL, which the whole shutdown stays within
 * @param backoff           pause after overload or unavailability
 * @param replyTimeToLive   reply TTL, or {@code null} for the entity default
 * @param httpPort          port of the health and metrics endpoints
 * @param metricsHistograms whether the engine's timers publish percentile histograms
 */
public record WorkerConfig(Path pipeline, @Nullable String connectionString, @Nullable String namespace,
                           @Nullable String queue, @Nullable String topic, @Nullable String subscription,
                           int concurrency, int batchMax, Duration batchWait, int maxInFlight, boolean batching,
                           int prefetch, int maxDeliveryCount, Duration lockRenewalMargin, Duration lockDuration,
                           Duration drainTimeout, Duration gracePeriod, Duration backoff,
                           @Nullable Duration replyTimeToLive, int httpPort, boolean metricsHistograms) {

    /** Names of every variable the worker reads, for documentation and manifest checks. */
    public static final List<String> VARIABLES = List.of("NEARLINE_PIPELINE", "SERVICEBUS_CONNECTION_STRING",
            "SERVICEBUS_NAMESPACE", "NEARLINE_REQUEST_QUEUE", "NEARLINE_TOPIC", "NEARLINE_SUBSCRIPTION",
            "NEARLINE_TRANSPORT", "NEARLINE_CONCURRENCY", "NEARLINE_BATCH_MAX", "NEARLINE_BATCH_WAIT_MS",
            "NEARLINE_MAX_IN_FLIGHT", "NEARLINE_BATCHING", "NEARLINE_PREFETCH", "NEARLINE_MAX_DELIVERY_COUNT",
            "NEARLINE_LOCK_RENEWAL_MARGIN_MS", "NEARLINE_LOCK_DURATION_MS", "NEARLINE_DRAIN_TIMEOUT_MS",
            "NEARLINE_GRACE_PERIOD_MS", "NEARLINE_BACKOFF_MS", "NEARLINE_REPLY_TTL_MS", "NEARLINE_HTTP_PORT",
            "NEARLINE_METRICS_HISTOGRAMS",
            // read by the runnable worker's logging configuration (examples/keda-worker), not by this class
            "NEARLINE_LOG_FORMAT",
            // the claim-check payload store, read by BlobPayloadStore.fromEnvironment
            BlobPayloadStore.CONTAINER, BlobPayloadStore.CONNECTION_STRING, BlobPayloadStore.ACCOUNT_URL,
            BlobPayloadStore.THRESHOLD_BYTES, BlobPayloadStore.TIMEOUT_MS, BlobPayloadStore.MAX_BYTES);

    /** The keys a Service Bus connection string needs: a key name and key, or a shared access signature. */
    private static final List<List<String>> SERVICE_BUS_KEYS = List.of(
            List.of("Endpoint", "SharedAccessKeyName", "SharedAccessKey"), List.of("Endpoint", "SharedAccessSignature"));

    /** Default of {@code NEARLINE_HTTP_PORT}. */
    public static final int DEFAULT_HTTP_PORT = 8080;

    /** Default of {@code NEARLINE_DRAIN_TIMEOUT_MS}. */
    public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(20);

    /** Default of {@code NEARLINE_GRACE_PERIOD_MS}: the Kubernetes default {@code terminationGracePeriodSeconds}. */
    public static final Duration DEFAULT_GRACE_PERIOD = Duration.ofSeconds(30);

    /** Default of {@code NEARLINE_LOCK_DURATION_MS}: the Service Bus default LockDuration. */
    public static final Duration DEFAULT_LOCK_DURATION = Duration.ofSeconds(60);

    private static final Duration MIN_CLOSE_RESERVE = WorkerEngine.MIN_CLOSE_RESERVE;

    /** Checks the combinations. */
    public WorkerConfig {
        Objects.requireNonNull(pipeline, "pipeline");
        Objects.requireNonNull(lockDuration, "lockDuration");
        Objects.requireNonNull(drainTimeout, "drainTimeout");
        Objects.requireNonNull(gracePeriod, "gracePeriod");
        if (gracePeriod.minus(drainTimeout).compareTo(MIN_CLOSE_RESERVE) < 0) {
            throw new IllegalArgumentException("gracePeriod must exceed drainTimeout by at least "
                    + MIN_CLOSE_RESERVE.toMillis() + " ms, got " + gracePeriod.toMillis() + " and "
                    + drainTimeout.toMillis() + " ms");
        }
        if ((connectionString == null) == (namespace == null)) {
            throw new IllegalArgumentException("exactly one of connectionString and namespace must be set");
        }
        if ((queue == null) == (topic == null) || (topic == null) != (subscription == null)) {
            throw new IllegalArgumentException("set either queue, or topic and subscription");
        }
    }

    /** Every setting, the connection string as its endpoint and entity only: never a key or signature. */
    @Override
    public String toString() {
        return "WorkerConfig[pipeline=" + pipeline + ", connectionString="
                + (connectionString == null ? "null" : Redaction.connectionString(connectionString))
                + ", namespace=" + namespace + ", queue=" + queue + ", topic=" + topic + ", subscription=" + subscription
                + ", concurrency=" + concurrency + ", batchMax=" + batchMax + ", batchWait=" + batchWait
                + ", maxInFlight=" + maxInFlight + ", batching=" + batching + ", prefetch=" + prefetch
                + ", maxDeliveryCount=" + maxDeliveryCount + ", lockRenewalMargin=" + lockRenewalMargin
                + ", lockDuration=" + lockDuration + ", drainTimeout=" + drainTimeout + ", gracePeriod=" + gracePeriod
                + ", backoff=" + backoff + ", replyTimeToLive=" + replyTimeToLive + ", httpPort=" + httpPort + "]";
    }

    /**
     * Reads the configuration from environment variables ({@code System.getenv()} in production).
     *
     * @throws IllegalArgumentException naming every missing, conflicting or malformed variable, one per line
     */
    public static WorkerConfig fromEnvironment(Map<String, String> env) {
        EnvReader r = new EnvReader(env);
        String pipeline = r.required("NEARLINE_PIPELINE", "the path of the pipeline JSON file");
        String transport = r.string("NEARLINE_TRANSPORT", "servicebus");
        if (!transport.equals("servicebus")) {
            r.problems.add("NEARLINE_TRANSPORT: unknown transport '" + transport + "'; supported: [servicebus]");
        }
        String cs = r.optional("SERVICEBUS_CONNECTION_STRING");
        String ns = r.optional("SERVICEBUS_NAMESPACE");
        if (cs == null && ns == null) {
            r.problems.add("SERVICEBUS_CONNECTION_STRING or SERVICEBUS_NAMESPACE is required (a connection string, "
                    + "or the fully qualified namespace such as my-ns.servicebus.windows.net for workload identity)");
        } else if (cs != null && ns != null) {
            r.problems.add("SERVICEBUS_CONNECTION_STRING and SERVICEBUS_NAMESPACE are both set; set only one");
        }
        if (cs != null) {
            // Checked here, so that the SDK's parser (whose messages can quote a part) never sees a malformed one.
            String problem = Redaction.connectionStringProblem(cs, SERVICE_BUS_KEYS);
            if (problem != null) {
                r.problems.add("SERVICEBUS_CONNECTION_STRING is not a Service Bus connection string: " + problem
                        + " (Endpoint=sb://<namespace>/;SharedAccessKeyName=...;SharedAccessKey=...)");
            }
        }
        if (ns != null && (ns.contains("://") || ns.contains("@") || !ns.contains("."))) {
            r.problems.add("SERVICEBUS_NAMESPACE must be a fully qualified host name such as "
                    + "my-ns.servicebus.windows.net, got " + (ns.contains("://") ? "the URL " + Redaction.url(ns)
                    : ns.contains("@") || Redaction.looksSecret(ns) ? "a value with credentials" : "'" + ns + "'"));
        }
        String queue = r.optional("NEARLINE_REQUEST_QUEUE");
        String topic = r.optional("NEARLINE_TOPIC");
        String subscription = r.optional("NEARLINE_SUBSCRIPTION");
        if (queue == null && topic == null && subscription == null) {
            r.problems.add("NEARLINE_REQUEST_QUEUE is required (or NEARLINE_TOPIC and NEARLINE_SUBSCRIPTION)");
        } else if (queue != null && (topic != null || subscription != null)) {
            r.problems.add("NEARLINE_REQUEST_QUEUE and NEARLINE_TOPIC/NEARLINE_SUBSCRIPTION are both set; set one");
        } else if (queue == null && (topic == null || subscription == null)) {
            r.problems.add(topic == null ? "NEARLINE_TOPIC is required with NEARLINE_SUBSCRIPTION"
                    : "NEARLINE_SUBSCRIPTION is required with NEARLINE_TOPIC");
        }
        int concurrency = r.integer("NEARLINE_CONCURRENCY", 2, 1, 1024);
        int batchMax = r.integer("NEARLINE_BATCH_MAX", 32, 1, 4096);
        long batchWaitMs = r.integer("NEARLINE_BATCH_WAIT_MS", 1000, 1, 600_000);
        int maxInFlight = r.integer("NEARLINE_MAX_IN_FLIGHT", 2 * concurrency * batchMax, 1, 1_000_000);
        boolean batching = r.bool("NEARLINE_BATCHING", true);
        int prefetch = r.integer("NEARLINE_PREFETCH", 0, 0, 100_000);
        int maxDeliveryCount = r.integer("NEARLINE_MAX_DELIVERY_COUNT", 10, 1, 2000);
        long renewMs = r.integer("NEARLINE_LOCK_RENEWAL_MARGIN_MS", 10_000, 0, 300_000);
        long lockMs = r.integer("NEARLINE_LOCK_DURATION_MS", (int) DEFAULT_LOCK_DURATION.toMillis(), 5_000, 300_000);
        long drainMs = r.integer("NEARLINE_DRAIN_TIMEOUT_MS", (int) DEFAULT_DRAIN_TIMEOUT.toMillis(), 0, 3_600_000);
        long graceMs = r.integer("NEARLINE_GRACE_PERIOD_MS", (int) DEFAULT_GRACE_PERIOD.toMillis(), 1_000, 3_600_000);
        if (graceMs - drainMs < MIN_CLOSE_RESERVE.toMillis()) {
            r.problems.add("NEARLINE_GRACE_PERIOD_MS (" + graceMs + ") must be at least NEARLINE_DRAIN_TIMEOUT_MS ("
                    + drainMs + ") + " + MIN_CLOSE_RESERVE.toMillis() + ": after the drain the worker needs time to "
                    + "abandon what is left and close the transport; set it to the pod's terminationGracePeriodSeconds "
                    + "x 1000 and keep the drain timeout at least 5000 below it");
        }
        long backoffMs = r.integer("NEARLINE_BACKOFF_MS", 1000, 1, 600_000);
        String ttl = r.optional("NEARLINE_REPLY_TTL_MS");
        Duration replyTtl = ttl == null ? null : Duration.ofMillis(r.integer("NEARLINE_REPLY_TTL_MS", 0, 1, Integer.MAX_VALUE));
        int port = r.integer("NEARLINE_HTTP_PORT", DEFAULT_HTTP_PORT, 0, 65535);
        boolean histograms = r.bool("NEARLINE_METRICS_HISTOGRAMS", false);
        if (!r.problems.isEmpty()) {
            throw new IllegalArgumentException("worker configuration is invalid:\n  " + String.join("\n  ", r.problems));
        }
        return new WorkerConfig(Path.of(Objects.requireNonNull(pipeline)), cs, ns, queue, topic, subscription,
                concurrency, batchMax, Duration.ofMillis(batchWaitMs), maxInFlight, batching, prefetch, maxDeliveryCount,
                Duration.ofMillis(renewMs), Duration.ofMillis(lockMs), Duration.ofMillis(drainMs), Duration.ofMillis(graceMs),
                Duration.ofMillis(backoffMs), replyTtl, port, histograms);
    }
}
