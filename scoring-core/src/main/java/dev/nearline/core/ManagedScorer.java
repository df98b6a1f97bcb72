package dev.nearline.core;

import dev.nearline.api.Model;
import dev.nearline.api.Scorer;
import java.util.Optional;

/**
 * A {@link Scorer} built by Nearline's engine, with the operations a host needs besides scoring: live
 * gauges and replacing a model while records are being scored. Thread-safe.
 *
 * @param <I> record type
 * @param <O> result type
 */
public interface ManagedScorer<I, O> extends Scorer<I, O> {

    /** The pipeline's name. */
    String name();

    /** Records being scored right now (admitted and not yet completed). */
    int inFlight();

    /** Records waiting for an async thread or a micro-batch right now. */
    int queueDepth();

    /** The drift monitor of this pipeline, if it has one (code: {@code monitor(...)}, JSON: {@code "monitoring"}). */
    Optional<DriftMonitor> monitor();

    /**
     * The quality monitor of this pipeline, if it has one (code: {@code quality(...)}, JSON: {@code "quality"}):
     * give it the labels of scored records with {@link QualityMonitor#feedback}.
     */
    default Optional<QualityMonitor> quality() {
        return Optional.empty();
    }

    /**
     * Replaces the model of step {@code step} atomically: records already in flight finish on the old
     * model, records admitted afterwards use {@code replacement}, and the old model is closed only after its
     * last in-flight call has returned. The scorer owns {@code replacement} from now on.
     *
     * @throws IllegalArgumentException if there is no such model step, or the step's input bindings do not
     *     fit the replacement's signature
     * @throws IllegalStateException if the scorer is closed
     */
    void swapModel(String step, Model replacement);
}
