package dev.nearline.core.micrometer;

import dev.nearline.core.QualityMonitor;
import dev.nearline.core.QualityMonitor.Metric;
import dev.nearline.core.QualityMonitor.Task;
import dev.nearline.core.QualitySnapshot;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import org.jspecify.annotations.Nullable;

/**
 * The meters of a {@link QualityMonitor}, all read from one snapshot taken at most once a second (by the
 * registry's clock), so that a scrape of many gauges costs one snapshot. Per model version the gauges are
 * registered when the version first scores, from the scoring thread that notices it (a volatile read per record
 * otherwise); the meters of the oldest versions are removed beyond {@link #MAX_VERSIONS}, and a version the
 * monitor no longer keeps reads NaN. Thread-safe.
 */
final class QualityMeters {
    static final int MAX_VERSIONS = 8;
    private static final long REFRESH_NANOS = TimeUnit.SECONDS.toNanos(1);
    private final MeterRegistry registry;
    private final String pipeline;
    private final QualityMonitor monitor;
    private final Map<Integer, List<Meter>> versions = new LinkedHashMap<>();
    private volatile int registeredVersion;
    private @Nullable QualitySnapshot cached;
    private long cachedAt;

    QualityMeters(MeterRegistry registry, String pipeline, QualityMonitor monitor) {
        this.registry = registry;
        this.pipeline = pipeline;
        this.monitor = monitor;
        counter("nearline.quality.predictions", "state", "tracked", s -> s.predictions().tracked(),
                "predictions kept for labels, and what became of them");
        counter("nearline.quality.predictions", "state", "untracked", s -> s.predictions().untracked(), null);
        counter("nearline.quality.predictions", "state", "replaced", s -> s.predictions().replaced(), null);
        counter("nearline.quality.predictions", "state", "evicted", s -> s.predictions().evicted(), null);
        counter("nearline.quality.predictions", "state", "expired", s -> s.predictions().expired(), null);
        gauge("nearline.quality.pending", List.of(), s -> s.predictions().pending(), "predictions waiting for a label");
        counter("nearline.quality.labels", "outcome", "joined", s -> s.labels().joined(), "labels given, by outcome");
        counter("nearline.quality.labels", "outcome", "unknown", s -> s.labels().unknown(), null);
        counter("nearline.quality.labels", "outcome", "expired", s -> s.labels().expired(), null);
        counter("nearline.quality.labels", "outcome", "duplicate", s -> s.labels().duplicate(), null);
        counter("nearline.quality.labels", "outcome", "invalid", s -> s.labels().invalid(), null);
        counter("nearline.quality.labels.out.of.order", null, null, s -> s.labels().outOfOrder(),
                "joined labels whose prediction was older than one joined before");
        if (snapshot().challenger() != null) {
            for (String outcome : List.of("sampled", "scored", "dropped", "failed")) {
                counter("nearline.challenger.records", "outcome", outcome, s -> challengerCount(s, outcome),
                        "records sampled for the challenger, and what became of them");
            }
        }
        registerVersions();
    }

    /** Registers the meters of a version that started since the last call; cheap when none did. */
    void checkVersion() {
        if (monitor.version() != registeredVersion) {
            registerVersions();
        }
    }

    private synchronized void registerVersions() {
        int current = monitor.version();
        if (current == registeredVersion) {
            return;
        }
        for (int v = Math.max(1, Math.max(registeredVersion + 1, current - MAX_VERSIONS + 1)); v <= current; v++) {
            versions.put(v, versionMeters(v));
        }
        registeredVersion = current;
        while (versions.size() > MAX_VERSIONS) {
            Integer oldest = versions.keySet().iterator().next();
            versions.remove(oldest).forEach(registry::remove);
        }
    }

    private List<Meter> versionMeters(int version) {
        List<Meter> meters = new ArrayList<>();
        Task task = monitor.task();
        String v = Integer.toString(version);
        boolean challenger = snapshot().challenger() != null;
        for (String window : List.of("records", "period")) {
            List<String> models = challenger ? List.of("champion", "champion_sampled", "challenger") : List.of("champion");
            for (String model : models) {
                Function<QualitySnapshot.Version, QualitySnapshot.@Nullable Window> pick = pick(window, model);
                List<String> tags = List.of("version", v, "window", window, "model", model);
                meters.add(gauge("nearline.quality.labelled", tags, s -> windowValue(s, version, pick,
                        w -> w.count()), "labelled records in the window"));
                for (Metric m : Metric.values()) {
                    if (m.appliesTo(task)) {
                        meters.add(gauge("nearline.quality." + name(m), tags,
                                s -> windowValue(s, version, pick, w -> w.get(m)), m.jsonName() + " over the window"));
                    }
                }
                if (task == Task.BINARY) {
                    meters.add(gauge("nearline.quality.auc.error.bound", tags,
                            s -> windowValue(s, version, pick, QualitySnapshot.Window::aucErrorBound),
                            "the largest possible difference between the reported and the exact AUC"));
                }
            }
        }
        if (challenger) {
            List<String> tags = List.of("version", v);
            meters.add(gauge("nearline.challenger.agreement", tags, s -> comparison(s, version,
                    QualitySnapshot.Comparison::agreement), "share of compared records on which both models agree"));
            meters.add(gauge("nearline.challenger.score.difference.mean", tags, s -> comparison(s, version,
                    c -> c.difference().mean()), "mean of challenger score minus champion score"));
            Map<String, ToDoubleFunction<QualitySnapshot.Difference>> quantiles = Map.of("0.05",
                    QualitySnapshot.Difference::p05, "0.5", QualitySnapshot.Difference::p50, "0.95",
                    QualitySnapshot.Difference::p95);
            quantiles.forEach((q, f) -> meters.add(gauge("nearline.challenger.score.difference",
                    List.of("version", v, "quantile", q), s -> comparison(s, version, c -> f.applyAsDouble(c.difference())),
                    "quantiles of challenger score minus champion score")));
        }
        return meters;
    }

    private static String name(Metric m) {
        switch (m) {
            case LOG_LOSS:
                return "log.loss";
            default:
                return m.jsonName();
        }
    }

    private static Function<QualitySnapshot.Version, QualitySnapshot.@Nullable Window> pick(String window, String model) {
        boolean records = window.equals("records");
        return ver -> {
            QualitySnapshot.Comparison c = ver.challenger();
            switch (model) {
                case "champion":
                    return records ? ver.lastRecords() : ver.lastPeriod();
                case "champion_sampled":
                    return c == null ? null : records ? c.champion() : c.championPeriod();
                default:
                    return c == null ? null : records ? c.challenger() : c.challengerPeriod();
            }
        };
    }

    private static double windowValue(QualitySnapshot s, int version,
                                      Function<QualitySnapshot.Version, QualitySnapshot.@Nullable Window> pick,
                                      ToDoubleFunction<QualitySnapshot.Window> value) {
        return s.version(version).map(pick).map(w -> w == null ? Double.NaN : value.applyAsDouble(w)).orElse(Double.NaN);
    }

    private static double comparison(QualitySnapshot s, int version, ToDoubleFunction<QualitySnapshot.Comparison> f) {
        return s.version(version).map(QualitySnapshot.Version::challenger).map(c -> f.applyAsDouble(c))
                .orElse(Double.NaN);
    }

    private static double challengerCount(QualitySnapshot s, String outcome) {
        QualitySnapshot.ChallengerCounts c = s.challenger();
        if (c == null) {
            return 0;
        }
        switch (outcome) {
            case "sampled":
                return c.sampled();
            case "scored":
                return c.scored();
            case "dropped":
                return c.dropped();
            default:
                return c.failed();
        }
    }

    /** The monitor's snapshot, at most a second old. */
    synchronized QualitySnapshot snapshot() {
        long now = registry.config().clock().monotonicTime();
        QualitySnapshot s = cached;
        if (s == null || now - cachedAt >= REFRESH_NANOS) {
            s = monitor.snapshot();
            cached = s;
            cachedAt = now;
        }
        return s;
    }

    private void counter(String name, @Nullable String tag, @Nullable String value, ToDoubleFunction<QualitySnapshot> f,
                         @Nullable String description) {
        FunctionCounter.Builder<QualityMeters> b = FunctionCounter.builder(name, this, m -> f.applyAsDouble(m.snapshot()))
                .tag("pipeline", pipeline);
        if (tag != null && value != null) {
            b.tag(tag, value);
        }
        if (description != null) {
            b.description(description);
        }
        b.register(registry);
    }

    private Meter gauge(String name, List<String> tags, ToDoubleFunction<QualitySnapshot> f, String description) {
        Gauge.Builder<QualityMeters> b = Gauge.builder(name, this, m -> f.applyAsDouble(m.snapshot()))
                .tag("pipeline", pipeline).strongReference(true).description(description);
        for (int i = 0; i < tags.size(); i += 2) {
            b.tag(tags.get(i), tags.get(i + 1));
        }
        return b.register(registry);
    }
}
