package dev.nearline.keda;

import com.azure.messaging.servicebus.ServiceBusMessage;
import dev.nearline.api.Outcome;
import dev.nearline.api.Scorer;
import dev.nearline.core.Pipeline;
import dev.nearline.core.internal.wire.QueueReply;
import dev.nearline.keda.standin.ServiceBusStandIn;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

/**
 * Load harness: end-to-end throughput and latency of the queue worker through the real Service Bus SDK
 * against the embedded-Artemis stand-in, on this machine, next to the transport alone.
 *
 * <p>For each concurrency C (messages in flight) it fills a fresh queue with N requests, starts a consumer
 * and times until all N replies have arrived at the requester. Consumers, all with the same receive shape
 * (2 receive loops, batches of C/2, at most C messages in flight):
 * <ul>
 *   <li>{@code transport alone}: receive → reply → complete through {@link ServiceBusTransport}, no model,
 *       no worker;</li>
 *   <li>{@code worker, no-op scorer}: the {@link QueueWorker} with a scorer that returns a constant;</li>
 *   <li>{@code worker, tiny, batching}: the worker scoring the {@code tiny} ONNX model, one {@code scoreAll}
 *       per receive batch;</li>
 *   <li>{@code worker, tiny, no batching}: the same with {@code scoreAsync} per record.</li>
 * </ul>
 * Each scenario runs {@code rounds} times, in an order rotated per round; the table gives medians.
 * records/s = N / (consumer start → last reply received by the requester). Latency is per message from receive to settled
 * (reply sent and completed), p50/p99, measured in the consumer.
 *
 * <pre>
 * mvn -B -q -pl scoring-keda-adapter test-compile exec:java -Dexec.classpathScope=test \
 *     -Dexec.mainClass=dev.nearline.keda.LoadHarness -Dexec.args="10000 8,32 3"
 * </pre>
 * Runs in the Maven JVM on purpose: a forked JVM with the long test class path on its command line
 * crashes ONNX Runtime 1.29's native start-up.
 */
public final class LoadHarness {
    private static final int LOOPS = 2;

    private LoadHarness() {
    }

    /** One row of the report. */
    private record Result(String consumer, int concurrency, int n, double recordsPerSecond, double p50Millis,
                          double p99Millis) {
    }

    /**
     * Runs the harness.
     *
     * @param args {@code [N [C1,C2,... [rounds]]]}, default {@code 10000 8,32 3}; the report gives the median
     *             of the rounds
     */
    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int[] concurrencies = args.length > 1 ? Arrays.stream(args[1].split(",")).mapToInt(Integer::parseInt).toArray()
                : new int[] {8, 32};
        Path dir = Files.createTempDirectory("nearline-load");
        Path pipeline = TinyPipeline.write(dir);
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        List<String> consumers = List.of("transport alone", "worker, no-op scorer", "worker, tiny, batching",
                "worker, tiny, no batching");
        ServiceBusStandIn.Builder b = ServiceBusStandIn.builder().queue("warmup", 10).queue("warmup-replies", 10);
        for (int round = 0; round < rounds; round++) {
            for (int c : concurrencies) {
                for (int i = 0; i < consumers.size(); i++) {
                    String q = "q" + round + "-" + c + "-" + i;
                    b.queue(q, 10).queue(q + "-replies", 10);
                }
            }
        }
        List<Result> all = new ArrayList<>();
        try (ServiceBusStandIn standIn = b.start()) {
            // warm-up: JIT, connections, ONNX Runtime session
            run(standIn, "warmup", "worker, tiny, batching", pipeline, 8, Math.min(n, 3_000));
            run(standIn, "warmup", "transport alone", pipeline, 8, Math.min(n, 3_000));
            for (int round = 0; round < rounds; round++) {
                for (int c : concurrencies) {
                    for (int k = 0; k < consumers.size(); k++) {
                        int i = (k + round) % consumers.size(); // rotate the order so no consumer always runs first
                        Result r = run(standIn, "q" + round + "-" + c + "-" + i, consumers.get(i), pipeline, c, n);
                        all.add(r);
                        System.out.printf("round %d  %-28s C=%-3d %8.0f records/s  p50 %6.2f ms  p99 %6.2f ms%n", round,
                                r.consumer(), r.concurrency(), r.recordsPerSecond(), r.p50Millis(), r.p99Millis());
                    }
                }
            }
        }
        List<Result> results = new ArrayList<>();
        for (int c : concurrencies) {
            for (String consumer : consumers) {
                List<Result> runs = all.stream().filter(r -> r.concurrency() == c && r.consumer().equals(consumer)).toList();
                results.add(new Result(consumer, c, n, median(runs.stream().mapToDouble(Result::recordsPerSecond)),
                        median(runs.stream().mapToDouble(Result::p50Millis)),
                        median(runs.stream().mapToDouble(Result::p99Millis))));
            }
        }
        System.out.println();
        System.out.println("| consumer | in flight (C) | N | records/s | vs transport alone | p50 ms | p99 ms |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|");
        for (Result r : results) {
            double base = results.stream().filter(x -> x.concurrency() == r.concurrency()
                    && x.consumer().equals("transport alone")).findFirst().orElseThrow().recordsPerSecond();
            System.out.printf("| %s | %d | %d | %.0f | %.2f× | %.2f | %.2f |%n", r.consumer(), r.concurrency(), r.n(),
                    r.recordsPerSecond(), r.recordsPerSecond() / base, r.p50Millis(), r.p99Millis());
        }
        System.exit(0); // SDK and ONNX Runtime leave non-daemon threads behind; exec:java would wait for them
    }

    private static Result run(ServiceBusStandIn standIn, String queue, String consumer, Path pipeline, int c, int n)
            throws Exception {
        try (Requester requester = new Requester(standIn.connectionString(), queue, queue + "-replies")) {
            List<ServiceBusMessage> requests = IntStream.range(0, n)
                    .mapToObj(i -> requester.request(queue + ":" + i, TinyPipeline.record(i))).toList();
            requester.send(requests);
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            // the worker's per-message timer (receive to settled) with the same percentiles as the harness' own
            registry.config().meterFilter(new MeterFilter() {
                @Override
                public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
                    return id.getName().equals("nearline.worker.end.to.end")
                            ? DistributionStatisticConfig.builder().percentiles(0.5, 0.99).percentilePrecision(2).build()
                            .merge(config) : config;
                }
            });
            Timer latency = Timer.builder("latency").publishPercentiles(0.5, 0.99).percentilePrecision(2)
                    .register(registry);
            ServiceBusTransport transport = ServiceBusTransport.builder().connectionString(standIn.connectionString())
                    .queue(queue).replyTimeToLive(Duration.ofMinutes(10)).build();
            int batch = Math.max(1, c / LOOPS);
            long t0 = System.nanoTime();
            Runnable stop;
            Timer workerLatency = null;
            if (consumer.equals("transport alone")) {
                stop = transportAlone(transport, batch, c, latency);
            } else {
                Scorer<Object, Object> scorer = consumer.contains("no-op") ? new ConstantScorer() : Pipeline.load(pipeline);
                QueueWorker worker = QueueWorker.builder(scorer, transport).concurrency(LOOPS).maxBatchSize(batch)
                        .maxInFlight(c).batchWait(Duration.ofMillis(100)).batching(!consumer.endsWith("no batching"))
                        .lockRenewalMargin(Duration.ZERO).meterRegistry(registry).build();
                worker.start();
                stop = worker::shutdown;
                workerLatency = registry.find("nearline.worker.end.to.end").timer();
            }
            int got = requester.replies(n, Duration.ofMinutes(5)).size();
            long elapsed = System.nanoTime() - t0;
            stop.run();
            if (got != n) {
                throw new IllegalStateException(consumer + ": " + got + " replies of " + n);
            }
            Timer t = workerLatency != null ? workerLatency : latency;
            return new Result(consumer, c, n, n / (elapsed / 1e9), percentile(t, 0.5), percentile(t, 0.99));
        }
    }

    private static double median(java.util.stream.DoubleStream values) {
        double[] v = values.sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** The percentile {@code p} of {@code timer} in milliseconds. */
    private static double percentile(Timer timer, double p) {
        for (ValueAtPercentile v : timer.takeSnapshot().percentileValues()) {
            if (v.percentile() == p) {
                return v.value(TimeUnit.MILLISECONDS);
            }
        }
        throw new IllegalStateException("timer " + timer.getId() + " does not publish the percentile " + p);
    }

    /** Receive → reply → complete with no model, same loops, batch size and in-flight bound as the worker. */
    private static Runnable transportAlone(ServiceBusTransport transport, int batch, int maxInFlight, Timer latency) {
        Semaphore permits = new Semaphore(maxInFlight);
        AtomicBoolean stopping = new AtomicBoolean();
        AtomicInteger pending = new AtomicInteger();
        byte[] body = "{\"status\":\"OK\",\"output\":{}}".getBytes(StandardCharsets.UTF_8);
        CountDownLatch stopped = new CountDownLatch(LOOPS);
        for (int l = 0; l < LOOPS; l++) {
            Thread t = new Thread(() -> {
                try {
                    while (!stopping.get()) {
                        if (!permits.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                            continue;
                        }
                        int n = 1;
                        while (n < batch && permits.tryAcquire()) {
                            n++;
                        }
                        List<InboundMessage> got = transport.receive(n, Duration.ofMillis(100));
                        permits.release(n - got.size());
                        long received = System.nanoTime();
                        for (InboundMessage m : got) {
                            pending.incrementAndGet();
                            transport.reply(new Reply(m.replyTo(), null, m.messageId(),
                                    QueueReply.messageIdFor(m.messageId()), body, QueueReply.properties(null)))
                                    .thenCompose(v -> transport.complete(m))
                                    .whenComplete((v, e) -> {
                                        latency.record(System.nanoTime() - received, TimeUnit.NANOSECONDS);
                                        pending.decrementAndGet();
                                        permits.release();
                                    });
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    stopped.countDown();
                }
            }, "transport-alone-" + l);
            t.setDaemon(true);
            t.start();
        }
        return () -> {
            stopping.set(true);
            try {
                stopped.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            transport.close();
        };
    }

    /** A scorer with no model: every record scores {@code {"score": 0.5}}. */
    private static final class ConstantScorer implements Scorer<Object, Object> {
        private static final Map<String, Object> RESULT = Map.of("score", 0.5);

        @Override
        public Object score(Object record) {
            return RESULT;
        }

        @Override
        public Object score(Object record, Duration timeout) {
            return RESULT;
        }

        @Override
        public CompletableFuture<Object> scoreAsync(Object record) {
            return CompletableFuture.completedFuture(RESULT);
        }

        @Override
        public CompletableFuture<Object> scoreAsync(Object record, Duration timeout) {
            return CompletableFuture.completedFuture(RESULT);
        }

        @Override
        public List<Outcome<Object>> scoreAll(List<?> records) {
            return records.stream().map(r -> Outcome.<Object>success(RESULT)).toList();
        }

        @Override
        public void close() {
        }
    }
}
