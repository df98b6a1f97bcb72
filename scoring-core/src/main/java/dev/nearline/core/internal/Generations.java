package dev.nearline.core.internal;

import dev.nearline.api.Model;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import org.jspecify.annotations.Nullable;

/**
 * Admission and model lifetime: the records in flight, counted per <em>generation</em> of a pipeline's steps.
 * A hot swap starts a new generation; a replaced model is closed once the last record of the generations that
 * used it has returned, so that a model is never closed under a running call, and never while a newer
 * generation still runs it. The same count bounds admission ({@code maxInFlight}).
 *
 * <p>Every count taken by {@link #enter} is given back exactly once with {@link Generation#exit}, on every
 * path. Thread-safe.
 */
final class Generations {
    private final String pipeline;
    private final int maxInFlight;
    private final BiConsumer<String, Model> closer;
    private final Object lock = new Object();
    private volatile Generation current;
    private final Set<Generation> draining = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    /**
     * Generations starting with {@code steps}; {@code closer} closes a retired model (named by its step) and
     * must not throw.
     */
    Generations(String pipeline, Step[] steps, int maxInFlight, BiConsumer<String, Model> closer) {
        this.pipeline = pipeline;
        this.maxInFlight = maxInFlight;
        this.closer = closer;
        this.current = new Generation(steps);
    }

    /** The generation new records run on. */
    Generation current() {
        return current;
    }

    /** Whether {@link #close} was called. */
    boolean isClosed() {
        return closed;
    }

    /**
     * Counts {@code records} in on the current generation.
     *
     * @throws ScoringException UNAVAILABLE when closed, OVERLOADED beyond {@code maxInFlight}
     */
    Generation enter(int records) {
        while (true) {
            Generation g = current;
            int now = g.inFlight.addAndGet(records);
            if (g.retired || closed) {
                g.exit(records);
                if (closed) {
                    throw closedError();
                }
                continue; // swapped meanwhile: count on the new generation
            }
            if (maxInFlight > 0 && now > maxInFlight && now > records) {
                g.exit(records);
                throw new ScoringException(Kind.OVERLOADED, "pipeline '" + pipeline + "': " + (now - records)
                        + " records in flight, the limit is " + maxInFlight + "; back off and retry");
            }
            return g;
        }
    }

    /** Records in flight on every generation. */
    int inFlight() {
        int n = current.inFlight.get();
        for (Generation g : draining) {
            n += g.inFlight.get();
        }
        return n;
    }

    /**
     * Replaces the model of the step named {@code stepName}; returns the step's index, or -1 when the step
     * already runs {@code replacement} (nothing changes).
     *
     * @throws IllegalStateException when closed
     * @throws IllegalArgumentException when there is no such model step, or another step runs {@code replacement}
     */
    int swap(String stepName, Model replacement) {
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("pipeline '" + pipeline + "' is closed");
            }
            Generation old = current;
            Step[] steps = old.steps.clone();
            int index = -1;
            for (int i = 0; i < steps.length; i++) {
                if (steps[i].name().equals(stepName)) {
                    index = i;
                }
            }
            if (index < 0) {
                throw new IllegalArgumentException("pipeline '" + pipeline + "' has no step '" + stepName
                        + "'; steps are " + Arrays.stream(steps).map(Step::name).toList());
            }
            Model retired = steps[index].model();
            if (retired == null) {
                throw new IllegalArgumentException("pipeline '" + pipeline + "': step '" + stepName
                        + "' is a transform, not a model step");
            }
            if (retired == replacement) {
                return -1;
            }
            for (int i = 0; i < steps.length; i++) {
                if (i != index && steps[i].model() == replacement) {
                    throw new IllegalArgumentException("pipeline '" + pipeline + "': the replacement model already runs "
                            + "step '" + steps[i].name() + "'; give each step its own model instance");
                }
            }
            steps[index] = steps[index].withModel(replacement);
            current = new Generation(steps);
            draining.add(old);
            old.retire(() -> {
                draining.remove(old);
                closeUnlessRunning(stepName, retired);
            });
            return index;
        }
    }

    /** Closes {@code model} unless the current generation runs it again (swapped out, then back in). */
    private void closeUnlessRunning(String stepName, Model model) {
        synchronized (lock) {
            for (Step s : current.steps) {
                if (s.model() == model) {
                    return;
                }
            }
            for (Generation g : draining) {
                for (Step s : g.steps) {
                    if (s.model() == model) {
                        return; // that generation closes it when it drains
                    }
                }
            }
        }
        closer.accept(stepName, model);
    }

    /**
     * Stops admission and returns a future that completes once every record of every generation has
     * returned, after which the last generation's models are closed.
     */
    CompletableFuture<Void> close() {
        Generation last;
        synchronized (lock) {
            closed = true;
            last = current;
        }
        last.retire(() -> { });
        List<CompletableFuture<Void>> all = new ArrayList<>();
        all.add(Objects.requireNonNull(last.drained));
        for (Generation g : draining) {
            all.add(Objects.requireNonNull(g.drained)); // retired before it was added
        }
        // Only once every generation has drained: an older one may still run a model the last one runs too.
        return CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0])).thenRun(() -> {
            Set<Model> seen = Collections.newSetFromMap(new IdentityHashMap<>());
            for (Step s : last.steps) {
                Model m = s.model();
                if (m != null && seen.add(m)) {
                    closer.accept(s.name(), m);
                }
            }
        });
    }

    ScoringException closedError() {
        return new ScoringException(Kind.UNAVAILABLE, "pipeline '" + pipeline + "' is closed");
    }

    @Override
    public String toString() {
        return Arrays.stream(current.steps).map(Step::name).toList().toString();
    }

    /** One version of the pipeline's steps and the records in flight on it. */
    static final class Generation {
        final Step[] steps;
        final AtomicInteger inFlight = new AtomicInteger();
        /**
         * Completes once retired and drained; made by {@link #retire} (before {@code retired} is set), so that
         * building a scorer loads no {@code CompletableFuture} (and with it the common fork-join pool).
         */
        volatile @Nullable CompletableFuture<Void> drained;
        volatile boolean retired;
        private volatile @Nullable Runnable onDrained;
        /** The columnar plan of these steps once decided (see {@link RowPlan}); null while undecided or none. */
        volatile @Nullable RowPlan rowPlan;
        /** Whether {@link #rowPlan} is final: decided once the first step's batching verdict is known. */
        volatile boolean rowPlanDecided;
        /** The plan for one record on a row of one (see {@link RowOne}), once decided; null while undecided or none. */
        volatile @Nullable RowPlan onePlan;
        volatile boolean onePlanDecided;

        Generation(Step[] steps) {
            this.steps = steps;
        }

        /** Gives back {@code records} counts taken by {@link Generations#enter}. */
        void exit(int records) {
            if (inFlight.addAndGet(-records) == 0 && retired) {
                fireDrained();
            }
        }

        void retire(Runnable action) {
            if (drained == null) {
                drained = new CompletableFuture<>();
            }
            onDrained = action;
            retired = true;
            if (inFlight.get() == 0) {
                fireDrained();
            }
        }

        private void fireDrained() {
            if (Objects.requireNonNull(drained).complete(null)) {
                Runnable r = onDrained;
                if (r != null) {
                    r.run();
                }
            }
        }
    }
}
