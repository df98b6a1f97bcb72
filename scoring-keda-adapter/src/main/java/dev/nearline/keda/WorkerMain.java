package dev.nearline.keda;

import com.azure.identity.DefaultAzureCredentialBuilder;
import dev.nearline.core.ManagedScorer;
import dev.nearline.core.Pipeline;
import dev.nearline.core.micrometer.MicrometerListener;
import dev.nearline.keda.internal.HttpEndpoints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runnable worker: {@code java -jar worker.jar [pipeline.json]} with the environment variables of
 * {@link WorkerConfig}. It loads the pipeline, connects to the broker, serves {@code /health/live},
 * {@code /health/ready} and {@code /metrics}, and works until SIGTERM or SIGINT; then it drains
 * ({@link QueueWorker#shutdown()}) and exits 0. {@code /metrics} carries the engine's meters tagged with the
 * pipeline's {@code name}, the worker's, the JVM's and the process's (memory, GC, threads, class loading, CPU,
 * uptime, file descriptors), and whatever plugins register in Micrometer's global registry (the Triton client's
 * circuit breaker, retries and remote failures). A bad configuration exits 2 with a message naming each
 * bad variable; a failed start (pipeline, port) exits 1.
 */
public final class WorkerMain {
    private static final Logger log = LoggerFactory.getLogger(WorkerMain.class);

    private WorkerMain() {
    }

    /**
     * Runs the worker; the optional argument overrides {@code NEARLINE_PIPELINE}.
     *
     * @param args {@code [pipeline.json]}
     */
    public static void main(String[] args) {
        Map<String, String> env = new HashMap<>(System.getenv());
        if (args.length > 0) {
            env.put("NEARLINE_PIPELINE", args[0]);
        }
        WorkerConfig config;
        BlobPayloadStore payloads;
        FeedbackConfig feedback;
        try {
            config = WorkerConfig.fromEnvironment(env);
            payloads = BlobPayloadStore.fromEnvironment(env).orElse(null);
            feedback = FeedbackConfig.fromEnvironment(env);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        Running running;
        try {
            running = start(config, payloads, feedback);
        } catch (RuntimeException e) {
            log.error("worker failed to start: {}", e.getMessage(), e);
            System.exit(1);
            return;
        }
        AtomicBoolean signalled = new AtomicBoolean();
        Runnable onSignal = () -> {
            if (signalled.compareAndSet(false, true)) {
                Thread t = new Thread(() -> {
                    running.shutdown();
                    System.exit(0);
                }, "nearline-shutdown");
                t.start();
            }
        };
        boolean handled = handleSignal("TERM", onSignal) & handleSignal("INT", onSignal);
        // Other ways out (System.exit elsewhere, or signals when the handlers could not be installed) still drain.
        Runtime.getRuntime().addShutdownHook(new Thread(running::shutdown, "nearline-shutdown-hook"));
        if (!handled) {
            log.warn("could not install signal handlers; SIGTERM still drains through the shutdown hook but the exit "
                    + "code is 143");
        }
        running.awaitShutdown();
    }

    /**
     * Starts a worker from {@code config}: loads the pipeline, builds the Service Bus transport
     * ({@code DefaultAzureCredential} when the config names a namespace), starts the HTTP endpoints and
     * the receive loops. The returned handle's {@link Running#shutdown()} is what SIGTERM calls.
     *
     * @throws IllegalArgumentException if the pipeline cannot be loaded
     * @throws java.io.UncheckedIOException if the HTTP port cannot be bound
     */
    public static Running start(WorkerConfig config) {
        return start(config, null, null);
    }

    /**
     * As {@link #start(WorkerConfig)}, with a claim-check payload store ({@link BlobPayloadStore#fromEnvironment})
     * when {@code payloads} is not null, and taking labels from the feedback entity of {@code feedback} (when not
     * null) for the pipeline's quality monitor ({@link FeedbackReceiver}); its metrics join the others on
     * {@code /metrics}.
     *
     * @throws IllegalArgumentException also if {@code feedback} is set and the pipeline has no {@code "quality"}
     *     object
     */
    public static Running start(WorkerConfig config, @org.jspecify.annotations.Nullable BlobPayloadStore payloads,
            @org.jspecify.annotations.Nullable FeedbackConfig feedback) {
        Objects.requireNonNull(config, "config");
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        JvmGcMetrics gc = bindJvmMetrics(registry);
        // Plugins created from the pipeline file (the Triton client) register their meters globally.
        Metrics.addRegistry(registry);
        // The engine's own meters (nearline_request_*, nearline_compute_*, ...) next to the worker's.
        MicrometerListener scoring = new MicrometerListener(registry, pipelineName(config.pipeline()),
                config.metricsHistograms());
        ManagedScorer<Object, Object> scorer;
        try {
            scorer = Pipeline.load(config.pipeline(), scoring);
        } catch (RuntimeException e) {
            unbind(registry, gc);
            throw e;
        }
        ServiceBusTransport transport;
        HttpEndpoints http;
        try {
            ServiceBusTransport.Builder tb = transportBuilder(config, config.queue(), config.topic(),
                    config.subscription());
            if (config.replyTimeToLive() != null) {
                tb.replyTimeToLive(config.replyTimeToLive());
            }
            transport = tb.build();
        } catch (RuntimeException e) {
            scorer.close();
            unbind(registry, gc);
            throw e;
        }
        QueueWorker.Builder wb = QueueWorker.builder(scorer, transport)
                .concurrency(config.concurrency())
                .maxBatchSize(config.batchMax())
                .batchWait(config.batchWait())
                .maxInFlight(config.maxInFlight())
                .batching(config.batching())
                .maxDeliveryCount(config.maxDeliveryCount())
                .lockRenewalMargin(config.lockRenewalMargin())
                .lockDuration(config.lockDuration())
                .drainTimeout(config.drainTimeout())
                .gracePeriod(config.gracePeriod())
                .backoff(config.backoff())
                .meterRegistry(registry);
        if (payloads != null) {
            wb.payloadStore(payloads);
        }
        QueueWorker worker = wb.build();
        FeedbackReceiver labels = null;
        try {
            if (feedback != null) {
                dev.nearline.core.QualityMonitor quality = scorer.quality().orElseThrow(() -> new IllegalArgumentException(
                        "NEARLINE_FEEDBACK_QUEUE (or _TOPIC) is set, but pipeline " + config.pipeline() + " has no "
                                + "\"quality\" object to take labels; add one, or unset the variable"));
                labels = FeedbackReceiver.start(quality, feedbackTransport(config, feedback), registry,
                        config.batchWait(), config.backoff());
            }
            http = HttpEndpoints.start(config.httpPort(), worker::isLive, worker::isReady, registry::scrape);
        } catch (RuntimeException e) {
            if (labels != null) {
                labels.close(Duration.ofSeconds(5));
            }
            worker.shutdown();
            unbind(registry, gc);
            throw e;
        }
        worker.start();
        log.info("worker running: pipeline={} entity={}{} http port={} payload store={}", config.pipeline(),
                config.queue() != null ? config.queue() : config.topic() + "/" + config.subscription(),
                feedback == null ? "" : " feedback=" + feedback.entity(), http.port(),
                payloads == null ? "none" : payloads);
        return new Running(worker, http, labels, () -> unbind(registry, gc));
    }

    private static ServiceBusTransport feedbackTransport(WorkerConfig config, FeedbackConfig feedback) {
        return transportBuilder(config, feedback.queue(), feedback.topic(), feedback.subscription()).build();
    }

    /** A transport on the namespace of {@code config}, for {@code queue}, or else the topic's subscription. */
    private static ServiceBusTransport.Builder transportBuilder(WorkerConfig config,
            @org.jspecify.annotations.Nullable String queue, @org.jspecify.annotations.Nullable String topic,
            @org.jspecify.annotations.Nullable String subscription) {
        ServiceBusTransport.Builder tb = ServiceBusTransport.builder().prefetch(config.prefetch());
        String cs = config.connectionString();
        if (cs != null) {
            tb.connectionString(cs);
        } else {
            tb.namespace(Objects.requireNonNull(config.namespace()), new DefaultAzureCredentialBuilder().build());
        }
        if (queue != null) {
            tb.queue(queue);
        } else {
            tb.subscription(Objects.requireNonNull(topic), Objects.requireNonNull(subscription));
        }
        return tb;
    }

    /**
     * The {@code pipeline} tag of the engine's meters: the pipeline's own {@code "name"}, or, when the file has
     * none (or cannot be read here; loading it reports why), the file's name without {@code .json}.
     */
    static String pipelineName(Path file) {
        try {
            JsonNode name = new ObjectMapper().readTree(Files.readAllBytes(file)).path("name");
            if (name.isTextual() && !name.asText().isBlank()) {
                return name.asText();
            }
        } catch (java.io.IOException | RuntimeException e) {
            log.debug("reading the name of pipeline {} failed: {}", file, e.toString());
        }
        String fileName = String.valueOf(file.getFileName());
        return fileName.endsWith(".json") ? fileName.substring(0, fileName.length() - 5) : fileName;
    }

    /** The JVM and process meters; the returned GC binder holds notification listeners until closed. */
    private static JvmGcMetrics bindJvmMetrics(PrometheusMeterRegistry registry) {
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        JvmGcMetrics gc = new JvmGcMetrics();
        gc.bindTo(registry);
        return gc;
    }

    private static void unbind(PrometheusMeterRegistry registry, JvmGcMetrics gc) {
        Metrics.removeRegistry(registry);
        gc.close();
    }

    /** Installs a handler for a signal through {@code sun.misc.Signal}, reflectively (jdk.unsupported). */
    private static boolean handleSignal(String name, Runnable action) {
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            Object signal = signalClass.getConstructor(String.class).newInstance(name);
            InvocationHandler h = (proxy, method, args) -> {
                if (method.getName().equals("handle")) {
                    action.run();
                    return null;
                }
                if (method.getName().equals("toString")) {
                    return "nearline-" + name + "-handler";
                }
                if (method.getName().equals("hashCode")) {
                    return System.identityHashCode(proxy);
                }
                if (method.getName().equals("equals")) {
                    return proxy == args[0];
                }
                return null;
            };
            Object handler = Proxy.newProxyInstance(handlerClass.getClassLoader(), new Class<?>[] {handlerClass}, h);
            signalClass.getMethod("handle", signalClass, handlerClass).invoke(null, signal, handler);
            return true;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            log.debug("cannot handle SIG{}: {}", name, e.toString());
            return false;
        }
    }

    /**
     * A started worker with its HTTP endpoints. Thread-safe; {@link #shutdown()} is idempotent.
     */
    public static final class Running {
        private final QueueWorker worker;
        private final HttpEndpoints http;
        private final @org.jspecify.annotations.Nullable FeedbackReceiver feedback;
        private final Runnable unbindMetrics;
        private final CountDownLatch stopped = new CountDownLatch(1);
        private final AtomicBoolean stopping = new AtomicBoolean();
        private volatile QueueWorker.@org.jspecify.annotations.Nullable ShutdownSummary summary;

        private Running(QueueWorker worker, HttpEndpoints http, @org.jspecify.annotations.Nullable FeedbackReceiver feedback,
                        Runnable unbindMetrics) {
            this.worker = worker;
            this.http = http;
            this.feedback = feedback;
            this.unbindMetrics = unbindMetrics;
        }

        /** The worker. */
        public QueueWorker worker() {
            return worker;
        }

        /** The port of the HTTP endpoints. */
        public int httpPort() {
            return http.port();
        }

        /**
         * What SIGTERM does: readiness turns 503, the worker drains and closes (liveness keeps answering
         * meanwhile), then the HTTP endpoints stop. Concurrent and later calls wait for the first one.
         */
        public QueueWorker.ShutdownSummary shutdown() {
            if (!stopping.compareAndSet(false, true)) {
                awaitShutdown();
                return Objects.requireNonNull(summary);
            }
            try {
                if (feedback != null) {
                    feedback.close(Duration.ofSeconds(5)); // labels first: they need the scorer's monitor only
                }
                summary = worker.shutdown();
            } finally {
                http.close();
                unbindMetrics.run();
                stopped.countDown();
            }
            return Objects.requireNonNull(summary);
        }

        /** Blocks until {@link #shutdown()} has finished. */
        public void awaitShutdown() {
            boolean interrupted = false;
            while (true) {
                try {
                    stopped.await();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
