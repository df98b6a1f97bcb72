package dev.nearline.triton.internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exports a client's {@link ClientStats} and breaker state as Micrometer meters when Micrometer is on the class
 * path, and does nothing otherwise. Keeps every Micrometer type out of classes that load without it.
 */
public final class Meters {
    private static final Logger LOG = LoggerFactory.getLogger(Meters.class);
    private static final boolean MICROMETER = micrometerPresent();

    private Meters() {
    }

    /**
     * Registers the client's meters in Micrometer's global registry (see {@code MicrometerMeters}); running the
     * returned action removes them. A no-op action when Micrometer is absent or registering fails.
     *
     * @param server the server's host and port (never credentials)
     */
    public static Runnable bind(String model, String server, CircuitBreaker breaker, ClientStats stats) {
        if (MICROMETER) {
            try {
                return MicrometerMeters.bind(model, server, breaker, stats)::close;
            } catch (RuntimeException | LinkageError e) {
                LOG.warn("registering the meters of triton model '{}' failed; it works without them: {}", model,
                        e.toString());
            }
        }
        return () -> { };
    }

    private static boolean micrometerPresent() {
        try {
            Class.forName("io.micrometer.core.instrument.Metrics", false, Meters.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
