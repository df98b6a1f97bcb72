package dev.nearline.triton.internal;

import dev.nearline.api.ScoringException;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * A client's meters in Micrometer's global registry, which a host exports by adding its own registry to it
 * ({@code Metrics.addRegistry}): {@code nearline.remote.breaker.state} (0 closed, 1 open, 2 half-open),
 * {@code nearline.remote.retries}, {@code nearline.remote.rejected} and {@code nearline.remote.failures} (tag
 * {@code kind}), each tagged {@code model} and {@code server}. Loaded only when Micrometer is on the class path
 * ({@link Meters#bind}); Micrometer is an optional dependency of this module. A newer client with the same
 * tags (a swapped model) takes the meters over; closing removes only the meters still this client's.
 */
final class MicrometerMeters implements AutoCloseable {
    private final MeterRegistry registry;
    private final List<Meter> meters = new ArrayList<>();

    private MicrometerMeters(MeterRegistry registry, String model, String server, CircuitBreaker breaker,
                             ClientStats stats) {
        this.registry = registry;
        Tags tags = Tags.of("model", model, "server", server);
        register("nearline.remote.breaker.state", tags, () -> Gauge.builder("nearline.remote.breaker.state", breaker,
                b -> b.state().ordinal()).tags(tags).strongReference(true)
                .description("circuit breaker state of the remote model: 0 closed, 1 open, 2 half-open").register(registry));
        register("nearline.remote.retries", tags, () -> FunctionCounter.builder("nearline.remote.retries", stats,
                ClientStats::retries).tags(tags).description("attempts made after a failed attempt").register(registry));
        register("nearline.remote.rejected", tags, () -> FunctionCounter.builder("nearline.remote.rejected", stats,
                ClientStats::rejectedByBreaker).tags(tags)
                .description("calls failed fast (UNAVAILABLE) while the circuit breaker was open").register(registry));
        for (ScoringException.Kind k : ScoringException.Kind.values()) {
            Tags withKind = tags.and("kind", k.name());
            register("nearline.remote.failures", withKind, () -> FunctionCounter.builder("nearline.remote.failures",
                    stats, s -> s.failures(k)).tags(withKind).description("failed attempts at the remote model, by kind")
                    .register(registry));
        }
    }

    /**
     * Registers the meters of one client in Micrometer's global registry. Call only when Micrometer is on the
     * class path ({@link Meters#bind} checks).
     *
     * @param server the server's host and port (never credentials)
     */
    static MicrometerMeters bind(String model, String server, CircuitBreaker breaker, ClientStats stats) {
        return new MicrometerMeters(Metrics.globalRegistry, model, server, breaker, stats);
    }

    /** An existing meter with this id is an older client's (a swapped model): this client takes the id over. */
    private void register(String name, Tags tags, Supplier<Meter> register) {
        Meter old = registry.find(name).tags(tags).meter();
        if (old != null) {
            registry.remove(old);
        }
        meters.add(register.get());
    }

    @Override
    public void close() {
        for (Meter m : meters) {
            Meter current = registry.find(m.getId().getName()).tags(m.getId().getTags()).meter();
            if (current == m) {
                registry.remove(m);
            }
        }
    }
}
