package dev.nearline.durable;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.nearline.api.Scorer;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Ticker;
import dev.nearline.api.internal.SetOnce;
import dev.nearline.core.Pipeline;
import dev.nearline.core.internal.wire.Wire;
import dev.nearline.durable.internal.Json;
import dev.nearline.durable.internal.ServiceBusReplySender;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The entry point of a Functions app: one scorer per worker process, built lazily from the pipeline
 * file named by the app setting {@value FunctionsSettings#PIPELINE}, and the three function bodies that
 * share it ({@link #http()}, {@link #batch()}, {@link #serviceBus()}). An app's function methods
 * delegate in one line:
 *
 * <pre>{@code
 * @FunctionName("Score")
 * public HttpResponseMessage score(@HttpTrigger(name = "req", methods = HttpMethod.POST, route = "score")
 *         HttpRequestMessage<Optional<String>> request, ExecutionContext context) {
 *     return NearlineFunctions.shared().http().score(request, context);
 * }
 * }</pre>
 *
 * <p>The Functions worker creates a new instance of the class holding the function methods for every
 * invocation, so the scorer lives here, in a process-wide instance, never in that class. The scorer is
 * built on first use by exactly one thread (the others wait for it) and then shared by every invocation;
 * if building fails, the failure is reported to that call and the next call tries again. Thread-safe.
 * {@link #close()} closes the scorer; {@link #shared()} registers a shutdown hook that does so.
 */
public final class NearlineFunctions implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NearlineFunctions.class);
    private static final Object SHARED_LOCK = new Object();
    private static volatile @Nullable NearlineFunctions shared;

    private final FunctionsSettings settings;
    private final Supplier<? extends Scorer<Object, Object>> factory;
    private final String source;
    private final Ticker ticker;
    private final Clock clock;
    private final PayloadStore payloadStore;
    private final @Nullable ReplySender configuredReplySender;
    private final HttpScoring http;
    private final DurableBatchScoring batch;
    private final ServiceBusScoring serviceBus;
    private final QualityFunctions quality;

    private final Object lock = new Object();
    private volatile @Nullable Scorer<Object, Object> scorer;
    private volatile @Nullable ReplySender replySender;
    private volatile boolean closed;
    private volatile @Nullable ColdStart loaded;
    private final AtomicLong firstRecordNanos = new AtomicLong(-1);

    private NearlineFunctions(Builder b) {
        this.settings = b.settings;
        this.ticker = b.ticker == null ? Ticker.system() : b.ticker;
        this.clock = b.clock == null ? Clock.systemUTC() : b.clock;
        this.factory = b.factory != null ? b.factory : () -> loadPipeline(b.settings);
        this.source = b.factory != null ? "scorer from the configured factory"
                : "pipeline " + b.settings.pipeline().map(Path::toString).orElse("(not set)");
        this.payloadStore = b.payloadStore != null ? b.payloadStore : b.settings.payloadStore();
        this.configuredReplySender = b.replySender;
        this.http = new HttpScoring(this);
        this.batch = new DurableBatchScoring(this);
        this.serviceBus = new ServiceBusScoring(this);
        this.quality = new QualityFunctions(this);
    }

    /**
     * The process-wide instance, configured from the environment (the app settings) on first call. Use
     * this from function methods.
     *
     * @throws IllegalArgumentException if an app setting is malformed; the message names it
     */
    public static NearlineFunctions shared() {
        NearlineFunctions s = shared;
        if (s == null) {
            synchronized (SHARED_LOCK) {
                s = shared;
                if (s == null) {
                    s = builder(FunctionsSettings.fromEnvironment(System.getenv())).build();
                    Runtime.getRuntime().addShutdownHook(new Thread(s::close, "nearline-functions-shutdown"));
                    shared = s;
                }
            }
        }
        return s;
    }

    /** A builder of an instance with {@code settings}, for tests and apps that wire their own parts. */
    public static Builder builder(FunctionsSettings settings) {
        return new Builder(settings);
    }

    /** The settings this instance runs with. */
    public FunctionsSettings settings() {
        return settings;
    }

    /**
     * The scorer, built on first call (and warmed up with {@value FunctionsSettings#WARMUP_RECORD} when
     * set). Callers must not close it; {@link #close()} does.
     *
     * @throws ScoringException {@code INTERNAL} if the pipeline cannot be loaded (the message names the
     *     setting and the file), {@code UNAVAILABLE} after {@link #close()}
     */
    public Scorer<Object, Object> scorer() {
        Scorer<Object, Object> s = scorer;
        if (s != null) {
            return s;
        }
        synchronized (lock) {
            if (closed) {
                throw new ScoringException(ScoringException.Kind.UNAVAILABLE, "the Functions host is shutting down");
            }
            s = scorer;
            if (s != null) {
                return s;
            }
            long start = ticker.read();
            Scorer<Object, Object> built;
            try {
                built = Objects.requireNonNull(factory.get(), "the scorer factory returned null");
            } catch (ScoringException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new ScoringException(ScoringException.Kind.INTERNAL, "cannot load the " + source
                        + " (app setting " + FunctionsSettings.PIPELINE + "): " + e.getMessage(), e);
            }
            Duration load = Duration.ofNanos(ticker.read() - start);
            Duration warm = warmUp(built);
            loaded = new ColdStart(load, warm, null);
            scorer = built;
            log.info("Nearline scorer ready: {} loaded in {} ms{}", source, load.toMillis(),
                    warm == null ? "" : ", warmed up in " + warm.toMillis() + " ms");
            return built;
        }
    }

    /**
     * Builds the scorer now instead of on the first request; call it from a warm-up trigger or at
     * start. Idempotent.
     *
     * @throws ScoringException as {@link #scorer()}
     */
    public void warmUp() {
        scorer();
    }

    /** The cold-start timings of this process's scorer, once it has been built. */
    public Optional<ColdStart> coldStart() {
        ColdStart c = loaded;
        if (c == null) {
            return Optional.empty();
        }
        long first = firstRecordNanos.get();
        return Optional.of(first < 0 ? c : new ColdStart(c.pipelineLoad(), c.warmUp(), Duration.ofNanos(first)));
    }

    /** The single-record HTTP function. */
    public HttpScoring http() {
        return http;
    }

    /** The durable batch functions: starter, orchestrator, activity, results. */
    public DurableBatchScoring batch() {
        return batch;
    }

    /** The Service Bus trigger function. */
    public ServiceBusScoring serviceBus() {
        return serviceBus;
    }

    /** The model-quality functions: labels in over HTTP or Service Bus, the quality snapshot out. */
    public QualityFunctions quality() {
        return quality;
    }

    /**
     * Closes the scorer (letting records in flight finish, see {@link Scorer#close()}) and the reply
     * sender. Later calls to {@link #scorer()} fail with {@code UNAVAILABLE}. Idempotent.
     */
    @Override
    public void close() {
        Scorer<Object, Object> s;
        ReplySender r;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            s = scorer;
            r = replySender;
            scorer = null;
        }
        if (s != null) {
            s.close();
        }
        if (r != null) {
            r.close();
        }
    }

    PayloadStore payloadStore() {
        return payloadStore;
    }

    Ticker ticker() {
        return ticker;
    }

    Clock clock() {
        return clock;
    }

    /** Records the time of the first caller's record, once per process. */
    void recordFirst(long nanos) {
        if (firstRecordNanos.get() < 0 && firstRecordNanos.compareAndSet(-1, nanos)) {
            log.info("Nearline first record scored in {} us", nanos / 1_000);
        }
    }

    ReplySender replySender() {
        if (configuredReplySender != null) {
            return configuredReplySender;
        }
        ReplySender r = replySender;
        if (r != null) {
            return r;
        }
        synchronized (lock) {
            if (replySender == null) {
                String connection = settings.replyConnectionString().orElseThrow(() -> new IllegalStateException(
                        "app setting " + settings.replyConnectionSetting() + " (named by " + FunctionsSettings.REPLY_CONNECTION
                                + ") must hold a Service Bus connection string to send replies"));
                replySender = new ServiceBusReplySender(connection);
            }
            return Objects.requireNonNull(replySender);
        }
    }

    private @Nullable Duration warmUp(Scorer<Object, Object> built) {
        Optional<String> record = settings.warmUpRecord();
        if (record.isEmpty()) {
            return null;
        }
        long start = ticker.read();
        try {
            built.score(Json.parse(record.get()));
        } catch (JsonProcessingException e) {
            log.warn("app setting {} is not valid JSON, no warm-up: {}", FunctionsSettings.WARMUP_RECORD, Wire.jsonError(e));
        } catch (ScoringException e) {
            log.warn("warm-up record failed, the scorer is kept: {}", e.toString());
        }
        return Duration.ofNanos(ticker.read() - start);
    }

    private static Scorer<Object, Object> loadPipeline(FunctionsSettings settings) {
        Path file = settings.pipeline().orElseThrow(() -> new ScoringException(ScoringException.Kind.INTERNAL,
                "app setting " + FunctionsSettings.PIPELINE + " is not set; set it to the pipeline JSON file, such as "
                        + "pipeline/fraud.json in the app folder"));
        return Pipeline.load(file);
    }

    /**
     * Builds a {@link NearlineFunctions}. Every part has a default taken from the settings; each may be
     * set once. Not thread-safe.
     */
    public static final class Builder {
        private final FunctionsSettings settings;
        private @Nullable Supplier<? extends Scorer<Object, Object>> factory;
        private @Nullable PayloadStore payloadStore;
        private @Nullable ReplySender replySender;
        private @Nullable Ticker ticker;
        private @Nullable Clock clock;

        private Builder(FunctionsSettings settings) {
            this.settings = Objects.requireNonNull(settings, "settings");
        }

        /**
         * Builds the scorer with {@code factory} (called once, on first use) instead of loading the
         * pipeline file of the settings.
         */
        public Builder scorer(Supplier<? extends Scorer<Object, Object>> factory) {
            this.factory = SetOnce.check(this.factory, Objects.requireNonNull(factory, "factory"), "scorer");
            return this;
        }

        /**
         * Where batch jobs keep records and results. Default: a {@link BlobPayloadStore} when the settings name
         * a container, else the folder of the settings.
         */
        public Builder payloadStore(PayloadStore store) {
            this.payloadStore = SetOnce.check(this.payloadStore, Objects.requireNonNull(store, "store"), "payloadStore");
            return this;
        }

        /** How Service Bus replies are sent. Default: the Service Bus SDK with the settings' connection. */
        public Builder replySender(ReplySender sender) {
            this.replySender = SetOnce.check(this.replySender, Objects.requireNonNull(sender, "sender"), "replySender");
            return this;
        }

        /** The time source of the latency and cold-start figures. Default {@link Ticker#system()}. */
        public Builder ticker(Ticker ticker) {
            this.ticker = SetOnce.check(this.ticker, Objects.requireNonNull(ticker, "ticker"), "ticker");
            return this;
        }

        /**
         * The wall clock that request deadlines ({@code deadlineMs} of queued requests) are compared
         * with. Default {@link Clock#systemUTC()}.
         */
        public Builder clock(Clock clock) {
            this.clock = SetOnce.check(this.clock, Objects.requireNonNull(clock, "clock"), "clock");
            return this;
        }

        /** The instance; nothing is loaded until first use. */
        public NearlineFunctions build() {
            return new NearlineFunctions(this);
        }
    }
}
