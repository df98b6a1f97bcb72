package dev.nearline.core;

import dev.nearline.api.ModelSignature;
import dev.nearline.api.Tensors;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.UnaryOperator;

/** A model with a given signature that records the inputs of every call and answers with a function. */
public final class RecordingModel extends FakeModel {
    private final ModelSignature signature;
    private final UnaryOperator<Tensors> function;
    public final Queue<Tensors> received = new ConcurrentLinkedQueue<>();

    public RecordingModel(ModelSignature signature, UnaryOperator<Tensors> function) {
        this.signature = signature;
        this.function = function;
    }

    @Override
    public ModelSignature signature() {
        return signature;
    }

    @Override
    protected Tensors compute(Tensors inputs) {
        received.add(inputs);
        return function.apply(inputs);
    }

    public List<Tensors> calls() {
        return List.copyOf(received);
    }
}
