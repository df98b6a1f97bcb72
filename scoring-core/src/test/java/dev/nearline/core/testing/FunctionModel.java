package dev.nearline.core.testing;

import dev.nearline.api.Batching;
import dev.nearline.api.Model;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensors;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;

/**
 * A {@link Model} from a signature and a lambda, for tests and code-built pipelines that need no backend:
 * {@code new FunctionModel(signature, in -> Tensors.of("score", ...))}. Thread-safe if the function is; calls
 * after {@link #close()} fail with {@code UNAVAILABLE}.
 */
public final class FunctionModel implements Model {
    private final ModelSignature signature;
    private final UnaryOperator<Tensors> function;
    private final Batching batching;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** A model computing {@code function}, declaring nothing about batching (its predictBatch is a loop). */
    public FunctionModel(ModelSignature signature, UnaryOperator<Tensors> function) {
        this(signature, function, Batching.undeclared());
    }

    /** As {@link #FunctionModel(ModelSignature, UnaryOperator)}, declaring {@code batching}. */
    public FunctionModel(ModelSignature signature, UnaryOperator<Tensors> function, Batching batching) {
        this.signature = Objects.requireNonNull(signature, "signature");
        this.function = Objects.requireNonNull(function, "function");
        this.batching = Objects.requireNonNull(batching, "batching");
    }

    @Override
    public ModelSignature signature() {
        return signature;
    }

    @Override
    public Batching batching() {
        return batching;
    }

    @Override
    public Tensors predict(Tensors inputs) {
        if (closed.get()) {
            throw new ScoringException(ScoringException.Kind.UNAVAILABLE, "model is closed");
        }
        return function.apply(inputs);
    }

    @Override
    public void close() {
        closed.set(true);
    }
}
